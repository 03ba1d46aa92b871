"""The stages a question passes through, one module each; ``QAService.ask`` composes them.

normalise -> spell -> context, language -> retrieve (dense, lexical, matcher -> fuse ->
measure: Signals) -> acts -> decide -> language (the passages rendered) -> respond (the
Answer). ``config`` holds the model settings. The
picture is in docs/architecture.md; tests/test_imports.py keeps the stages below the service.
"""
