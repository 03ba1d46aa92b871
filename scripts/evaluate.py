#!/usr/bin/env python3
"""Evaluate on labelled questions: same as `qa-service eval` (see --help)."""

import sys

from qa_service.cli import main

if __name__ == "__main__":
    sys.exit(main(["eval", *sys.argv[1:]]))
