"""The stages a question passes through, one module each (``QAService.ask`` composes them)."""
