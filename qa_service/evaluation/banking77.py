"""BANKING77 as an FAQ benchmark (English, external).

One FAQ entry per intent, with k questions of ``train.csv`` as its alternative questions;
the ``test.csv`` questions are scored by whether the top entry is their intent. With
``holdout_every=N`` every N-th intent of ``categories.json`` stays out of the index, so its
test questions stand for in-domain questions the FAQ does not cover: they must be escalated.

Only ``train.csv`` tunes anything: the escalation threshold is calibrated on train questions
that are not used as shots. The data is read from its folder at run time, never copied.

Data: Casanueva et al., "Efficient Intent Detection with Dual Sentence Encoders", 2020,
CC BY 4.0.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..bench.server import serve as serve_index
from ..labelled import LabelledQuestion
from ..tuning import TuneConfig, corpus_groups, previous_tuning, resolve_tuned, tune

DEFAULT_DATA = Path("../shared/data/banking77")
# Off-topic messages (weather, recipes, small talk...) written for this project: BANKING77 has
# none, and a banking FAQ must escalate every one of them.
OFF_TOPIC = Path(__file__).parent / "data" / "off_topic.en.txt"
OFF_TOPIC_TAG = "off-topic"
SPLITS = ("test", "validation")
_NOT_ID = re.compile(r"[^A-Za-z0-9_.-]")
_ACRONYMS = {"atm": "ATM", "pin": "PIN"}


class Banking77Error(ValueError):
    """The data folder is missing or a file in it is malformed."""


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    line: int


@dataclass
class BenchmarkConfig:
    data: Path = DEFAULT_DATA
    shots: int | None = 10  # None: every train question of an intent
    holdout_every: int = 0  # 0: every intent is indexed
    seed: int = 0
    intents: int | None = None  # only the first N intents (quick runs)
    test_per_intent: int | None = None  # only the first N test questions per intent
    calibrate_per_intent: int = 10  # train questions, not shots, to calibrate on
    target_precision: float = 0.95
    # "test": test.csv. "validation": train questions that are neither shots nor calibration
    # ones, ``validate_per_intent`` each, to choose settings on without touching test.csv.
    split: str = "test"
    validate_per_intent: int = 30
    # Messages to add to the scored questions, each to be escalated (tag "off-topic").
    off_topic: Path | None = None

    @property
    def label(self) -> str:
        shots = "all" if self.shots is None else str(self.shots)
        hold = f", every {self.holdout_every}th intent held out" if self.holdout_every else ""
        split = "" if self.split == "test" else f", {self.split} questions"
        off = ", with off-topic messages" if self.off_topic else ""
        return f"banking77 {shots}-shot{hold}{split}{off}"


@dataclass
class Benchmark:
    """Everything built from the data: the corpus entries and both question sets."""

    config: BenchmarkConfig
    indexed: list[str]
    held_out: list[str]
    entries: list[dict]
    test: list[LabelledQuestion]
    calibration: list[LabelledQuestion] = field(default_factory=list)


def entry_id(intent: str) -> str:
    """A corpus id for an intent name (``reverted_card_payment?`` -> ``reverted_card_payment``)."""
    return _NOT_ID.sub("", intent)


def readable(intent: str) -> str:
    """``card_payment_wrong_exchange_rate`` -> ``Card payment wrong exchange rate``."""
    words = [_ACRONYMS.get(w.lower(), w.lower()) for w in intent.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def load_intents(data: Path) -> list[str]:
    path = data / "categories.json"
    if not path.is_file():
        raise Banking77Error(f"{path}: no such file; is {data} the BANKING77 folder?")
    try:
        intents = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise Banking77Error(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(intents, list) or not all(isinstance(i, str) and i for i in intents):
        raise Banking77Error(f"{path}: expected a JSON list of intent names")
    ids = [entry_id(i) for i in intents]
    if len(set(ids)) != len(ids):
        raise Banking77Error(f"{path}: intent names collide once made into ids")
    return intents


def load_rows(path: Path, intents: list[str]) -> list[Row]:
    if not path.is_file():
        raise Banking77Error(f"{path}: no such file")
    known = set(intents)
    rows, problems = [], []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not {"text", "category"} <= set(reader.fieldnames or []):
            raise Banking77Error(f"{path}:1: expected the columns text,category")
        for row in reader:
            line = reader.line_num
            text, intent = (row.get("text") or "").strip(), (row.get("category") or "").strip()
            if not text:
                problems.append(f"{path}:{line}: empty text")
            elif intent not in known:
                problems.append(f"{path}:{line}: unknown category {intent!r}")
            else:
                rows.append(Row(text, intent, line))
    if problems:
        raise Banking77Error(f"{len(problems)} bad row(s):\n  " + "\n  ".join(problems[:20]))
    return rows


def _by_intent(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(r.intent, []).append(r)
    return out


def _shuffled(rows: list[Row], seed: int, intent: str) -> list[Row]:
    # One generator per intent: the same intent gets the same shots whatever else is chosen.
    rows = list(rows)
    random.Random(f"banking77:{seed}:{intent}").shuffle(rows)
    return rows


def build(config: BenchmarkConfig) -> Benchmark:
    if config.split not in SPLITS:
        raise Banking77Error(f"unknown split {config.split!r}; choose one of: {', '.join(SPLITS)}")
    data = Path(config.data)
    every_intent = load_intents(data)
    intents = every_intent[: config.intents]
    train = _by_intent(load_rows(data / "train.csv", every_intent))
    test = _by_intent(load_rows(data / "test.csv", every_intent))
    every = config.holdout_every
    held_out = [i for n, i in enumerate(intents, start=1) if every and n % every == 0]
    indexed = [i for i in intents if i not in held_out]

    entries, calibration, validation = [], [], []
    for intent in intents:
        pool = _shuffled(train.get(intent, []), config.seed, intent)
        k = len(pool) if config.shots is None else config.shots
        cal_end = k + config.calibrate_per_intent
        shots, spare = pool[:k], pool[k:cal_end]
        out_of_index = intent in held_out
        for r in spare:
            calibration.append(_question(r, out_of_index))
        for r in pool[cal_end : cal_end + config.validate_per_intent]:
            validation.append(_question(r, out_of_index))
        if out_of_index:
            continue
        title = readable(intent)
        entries.append(
            {
                "id": entry_id(intent),
                "question": title,
                "alt_questions": list(dict.fromkeys(r.text for r in shots)),
                "answer": f"Placeholder answer for the banking question type: {title}.",
                "tags": ["banking77"],
            }
        )
    questions = []
    if config.split == "validation":
        if not validation:
            raise Banking77Error(
                "no validation questions: every train question is a shot or a calibration one"
            )
        questions = validation
    else:
        for intent in intents:
            rows = test.get(intent, [])[: config.test_per_intent]
            questions += [_question(r, intent in held_out) for r in rows]
    questions.sort(key=lambda q: q.line)
    if config.off_topic is not None:
        questions += load_off_topic(Path(config.off_topic))
    return Benchmark(config, indexed, held_out, entries, questions, calibration)


def _question(row: Row, held_out: bool) -> LabelledQuestion:
    group = "held-out" if held_out else "indexed"
    return LabelledQuestion(
        question=row.text,
        expected=() if held_out else (entry_id(row.intent),),
        escalate=held_out,
        lang="en",
        tags=(group, row.intent),
        line=row.line,
    )


def load_off_topic(path: Path) -> list[LabelledQuestion]:
    """One message a line (``#`` starts a comment); each must be escalated."""
    if not path.is_file():
        raise Banking77Error(f"{path}: no such file (off-topic messages, one a line)")
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            out.append(
                LabelledQuestion(
                    question=text,
                    expected=(),
                    escalate=True,
                    lang="en",
                    tags=(OFF_TOPIC_TAG,),
                    line=n,
                )
            )
    if not out:
        raise Banking77Error(f"{path}: no messages in it")
    return out


def write_corpus(bench: Benchmark, corpus_dir: Path) -> Path:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    path = corpus_dir / "banking77.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for e in bench.entries:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    return path


def run(
    config: BenchmarkConfig,
    out: Path,
    settings,
    url: str | None = None,
    prepare_only: bool = False,
    progress: Callable[[str], Callable[[int, int], None] | None] = lambda _: None,
    tune: TuneConfig | None = None,
    serve: bool = False,
) -> dict:
    """Build the corpus, index and calibration in ``out``, then evaluate the test questions.

    With ``url`` the questions go to a running service, which must serve ``out/index``; with
    ``serve`` a ``qa-service serve`` process is started on a free local port for them. With
    ``tune`` a model is first fine-tuned on the shots (``out/model``) and stands for ``tuned``
    in the embedder spec.
    Returns the summary also written to ``out/benchmark.json``.
    """
    from ..embedders import load_embedder
    from ..indexing import build_index
    from ..service import QAService
    from .calibration import calibrate
    from .evaluator import EvalError, HttpClient, InProcessClient, evaluate, thresholds_of
    from .report import write_evaluation

    out = Path(out)
    bench = build(config)
    corpus_dir = out / "corpus"
    write_corpus(bench, corpus_dir)
    tune_info = None
    if tune is not None:
        tune_info = _tune_on_shots(corpus_dir, out / "model", tune, progress)
        spec = resolve_tuned(settings.embedder, out / "model")
        settings = settings.model_copy(update={"embedder": spec})
    embedder = load_embedder(settings.embedder, settings.threads)
    built = build_index(corpus_dir, out / "index", embedder, progress=progress("embedding"))
    settings = settings.model_copy(update={"index_dir": out / "index", "corpus": corpus_dir})
    client: InProcessClient | HttpClient | None = None
    if url and not prepare_only:
        client = HttpClient(url)
        manifest = client.readiness()
        if not manifest or manifest.get("corpus_sha256") != built.manifest["corpus_sha256"]:
            raise EvalError(
                f"{url} does not serve this benchmark's index; prepare it with --prepare-only "
                f"and serve {out / 'index'} with its calibration.json"
            )

    cal_info: dict = {"fitted": False}
    if bench.calibration and config.target_precision > 0:
        fit_on = QAService(settings, embedder=embedder)
        fit_on.load()
        cal, figures = calibrate(fit_on, bench.calibration, config.target_precision)
        cal.info["questions"] = f"{len(bench.calibration)} train.csv questions, not shots"
        cal_path = out / "calibration.json"
        cal.save(cal_path)
        settings = settings.model_copy(update={"calibration_file": cal_path})
        cal_info = {
            "fitted": True,
            "file": str(cal_path),
            "questions": len(bench.calibration),
            "cross_validated": figures["cross_validated"],
        }
    service = QAService(settings, embedder=embedder)
    service.load()
    summary = {
        "config": {
            **asdict(config),
            "data": str(config.data),
            "off_topic": str(config.off_topic) if config.off_topic else None,
        },
        "label": config.label,
        "intents_indexed": len(bench.indexed),
        "intents_held_out": bench.held_out,
        "test_questions": len(bench.test),
        "index": str(out / "index"),
        "corpus_sha256": built.manifest["corpus_sha256"],
        "calibration": cal_info,
    }
    if tune_info is not None:
        summary["tuning"] = tune_info
    if prepare_only:
        (out / "benchmark.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
        return summary
    stack = ExitStack()
    if serve:
        env = {"QA_EMBEDDER": settings.embedder, "QA_THREADS": str(settings.threads)}
        if settings.calibration_file:
            env["QA_CALIBRATION_FILE"] = str(settings.calibration_file)
        server = stack.enter_context(serve_index(out / "index", out / "server", env))
        client = HttpClient(server.url)
    elif client is None:
        client = InProcessClient(service)
    split_file = "test.csv" if config.split == "test" else f"train.csv, {config.split} split"
    if config.off_topic is not None:
        split_file += f" + {config.off_topic}"
    meta = {
        "name": config.label,
        "questions": f"{config.data / split_file} ({len(bench.test)} questions)",
        "target": client.target,
        "index": str(out / "index"),
        "embedder": embedder.spec,
        "calibration": str(settings.calibration_file or "packaged default"),
        "thresholds": thresholds_of(service.calibration),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with stack:
        records = evaluate(client, bench.test, progress("evaluating"))
    metrics, _ = write_evaluation(out, records, meta)
    summary["metrics"] = metrics["overall"]
    summary["by_group"] = {
        g: metrics["by_tag"][g]
        for g in ("indexed", "held-out", OFF_TOPIC_TAG)
        if g in metrics["by_tag"]
    }
    (out / "benchmark.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def _tune_on_shots(corpus_dir: Path, model_dir: Path, config: TuneConfig, progress) -> dict:
    """Fine-tune on the shots (or reuse a model tuned on the same shots with the same config)."""
    groups = corpus_groups(corpus_dir)
    info = previous_tuning(groups, model_dir, config)
    if info is None:
        tune(groups, model_dir, config, progress("tuning"))
        info = json.loads((model_dir / "tune.json").read_text("utf-8"))
        info["reused"] = False
    else:
        info["reused"] = True
    info.pop("loss_curve", None)
    return {"model": str(model_dir), **info}
