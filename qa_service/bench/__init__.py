"""Performance harness behind ``qa-service bench``.

One run measures, on this machine and in one go: the raw encoder (the anchor for every
ratio), in-process ``ask()``, HTTP latency and throughput against a real server under an
external load generator, index build throughput, memory, and FAISS at scale. Modules:

- ``inprocess``  encoder and ask() latency
- ``server``, ``load``, ``loadgen``  a real server and the load on it (wrk or a fallback)
- ``build``      index build throughput on a synthetic corpus
- ``scale``, ``synthetic``, ``mmapcheck``  Flat / HNSW / IVF at 1k to 1M vectors
- ``profiles``   what the quick (CI) and full runs measure
- ``report``     targets and the Markdown report; ``runner`` ties it together
"""

from .profiles import FULL, QUICK, Profile
from .runner import run_bench

__all__ = ["FULL", "QUICK", "Profile", "run_bench"]
