"""Closing the loop from the agents back to the FAQ: the gap report (``gaps``) and the export
of agent-verified questions (``export``). The CLI's ``gaps`` and ``feedback export`` run them."""
