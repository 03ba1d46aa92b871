#!/usr/bin/env python3
"""Build the index: same as `qa-service index` (see --help)."""

import sys

from qa_service.cli import main

if __name__ == "__main__":
    sys.exit(main(["index", *sys.argv[1:]]))
