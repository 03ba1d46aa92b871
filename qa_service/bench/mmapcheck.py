"""One stand-in server worker for the memory-mapping check, run as its own process.

``python -m qa_service.bench.mmapcheck INDEX QUERIES.npy --flags N`` loads a FAISS index
with faiss.read_index flags N (0 reads it into memory; see qa_service.index.mmap_flag), answers every query once, prints one JSON line and
then waits for stdin to close, so the parent can read the memory of several live workers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import faiss
import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("index")
    p.add_argument("queries")
    p.add_argument("--flags", type=int, default=0, help="faiss IO flags")
    p.add_argument("--k", type=int, default=10)
    args = p.parse_args(argv)
    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    index = faiss.read_index(args.index, args.flags)
    load_s = time.perf_counter() - started
    queries = np.load(args.queries)
    started = time.perf_counter()
    for q in queries:
        index.search(q[None], args.k)
    search_s = time.perf_counter() - started
    print(json.dumps({"load_s": round(load_s, 3), "search_s": round(search_s, 3)}), flush=True)
    sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
