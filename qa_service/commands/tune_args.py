"""The fine-tuning flags, shared by ``qa-service tune`` and ``qa-service benchmark --tune``."""

from __future__ import annotations

import argparse

FIELDS = ("base", "epochs", "max_seconds", "seed", "loss", "batch_size", "learning_rate", "threads")


def add_tune_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """``--epochs`` etc., or ``--tune-epochs`` etc. with ``prefix="tune-"``."""
    from ..tuning import LOSSES, TuneConfig

    d = TuneConfig()

    def flag(name: str, **kw) -> None:
        p.add_argument(f"--{prefix}{name}", **kw)

    flag("base", default=d.base, help=f"sentence-transformers model to tune (default {d.base})")
    flag("epochs", type=float, default=d.epochs, help=f"default {d.epochs:g}")
    flag(
        "max-seconds",
        type=float,
        help="stop training after this much process CPU time and save the model so far",
    )
    flag("seed", type=int, default=d.seed, help=f"default {d.seed}")
    flag("loss", choices=LOSSES, default=d.loss, help=f"default {d.loss}")
    flag("batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    flag("learning-rate", type=float, default=d.learning_rate, help=f"default {d.learning_rate}")
    flag("threads", type=int, default=d.threads, help=f"torch threads (default {d.threads})")


def tune_config(args: argparse.Namespace, prefix: str = ""):
    """The TuneConfig the flags ask for; ValueError names the flag that is out of range."""
    from ..tuning import TuneConfig

    dest = prefix.replace("-", "_")
    values = {f: getattr(args, dest + f) for f in FIELDS}
    if values["batch_size"] < 2:
        raise ValueError(f"--{prefix}batch-size must be 2 or more")
    if values["epochs"] <= 0:
        raise ValueError(f"--{prefix}epochs must be more than 0")
    if values["max_seconds"] is not None and values["max_seconds"] <= 0:
        raise ValueError(f"--{prefix}max-seconds must be more than 0")
    if values["threads"] < 1:
        raise ValueError(f"--{prefix}threads must be 1 or more")
    return TuneConfig(**values)
