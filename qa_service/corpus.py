"""Load and validate FAQ corpora.

Two formats, mixable inside one corpus directory:

* ``*.md``: entries, each a YAML front-matter block between ``---`` lines followed by the
  answer paragraphs (blank-line separated). An HTML comment before the first entry is ignored.
* ``*.jsonl``: one object a line, ``{"id", "question", "answer", "alt_questions"?, "tags"?,
  "url"?, "source"?}``.
* ``*.escalate.txt``: questions the FAQ does not answer, one a line (``#`` starts a comment).
  They teach the service what to hand to a human: refunds, limits, a missing transfer...
* ``details.yaml`` (optional, at the top of the folder): the domain's words for the detail
  check (``details.load_spec``): named platforms, countries, currencies...
* ``normalise.yaml`` (optional, likewise): the domain's typos and names, mapped to the words
  the FAQ uses (``normalise.load_spec``).
* ``acts.yaml`` (optional, likewise): more examples of small talk, requests for a person and
  emergencies, and the replies to them (``acts.load_spec``).

Every problem is reported as ``file:line: message``; a corpus with any problem loads nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from .pipeline.acts import FILE_NAME as ACTS_FILE
from .pipeline.acts import ActsError
from .pipeline.acts import load_spec as load_acts
from .pipeline.details import FILE_NAME as DETAILS_FILE
from .pipeline.details import DetailsError, load_spec
from .pipeline.normalise import FILE_NAME as NORMALISE_FILE
from .pipeline.normalise import NormaliseError, Normaliser, normaliser
from .pipeline.normalise import load_spec as load_normalise

SUFFIXES = (".md", ".jsonl")
NEGATIVES_SUFFIX = ".escalate.txt"
ENTRY_FIELDS = {
    "id",
    "question",
    "alt_questions",
    "tags",
    "url",
    "source",
    "related",
    "context",
    "translations",
}
TRANSLATION_FIELDS = {"question", "answer", "source"}
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
JSONL_FIELDS = ENTRY_FIELDS | {"answer"}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Paragraphs longer than this are split on sentence boundaries so one passage stays focused.
MAX_PASSAGE_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[。!?!?;;])|(?<=[.!?])\s+")


@dataclass(frozen=True)
class Translation:
    """An entry's title and answer in another language, paragraph for paragraph."""

    question: str
    paragraphs: tuple[str, ...]
    source: str = ""  # where the rendering comes from ("English rendering of the article")


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    paragraphs: tuple[str, ...]
    alt_questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    url: str | None = None
    origin: str | None = None
    line: int = 0
    # Entries that complete this one's answer, such as each channel after "以下是几种主要的联系方法:"
    related: tuple[str, ...] = ()
    # Passages (1-based) that only frame the others, such as an article's closing summary:
    # they are listed with the answer but never shown as the answer.
    context: tuple[int, ...] = ()
    # The title and answer in other languages, by language code ("en").
    translations: dict[str, Translation] = field(default_factory=dict, hash=False, compare=False)

    @property
    def answer(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Passage:
    id: str
    faq_id: str
    title: str
    text: str
    source: str
    context: bool = False  # frames the entry's other passages; never the answer alone
    # The same passage in other languages: {"en": {"title", "text"}}.
    translations: dict[str, dict[str, str]] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Negative:
    """A question the FAQ does not answer."""

    text: str
    source: str
    line: int


@dataclass
class Corpus:
    entries: list[FaqEntry]
    files: list[Path]
    sha256: str
    passages: list[Passage] = field(default_factory=list)
    negatives: list[Negative] = field(default_factory=list)
    # The detail check's merged spec: the packaged kinds plus the folder's details.yaml.
    details: dict = field(default_factory=dict)
    # Dialogue acts: the packaged examples and replies plus the folder's acts.yaml.
    acts: dict = field(default_factory=dict)
    # How its customers' wording is normalised: the packaged rules plus normalise.yaml.
    normalise_spec: dict = field(default_factory=dict)

    @cached_property
    def normalise(self) -> Normaliser:
        return normaliser(self.normalise_spec)

    def __post_init__(self) -> None:
        if not self.passages:
            self.passages = [p for e in self.entries for p in passages_of(e)]

    def variant(
        self, entries: list[FaqEntry] | None = None, negatives: list[Negative] | None = None
    ) -> Corpus:
        """The same corpus with other entries or not-covered lines; passages follow."""
        return Corpus(
            self.entries if entries is None else entries,
            self.files,
            self.sha256,
            negatives=self.negatives if negatives is None else negatives,
            details=self.details,
            acts=self.acts,
            normalise_spec=self.normalise_spec,
        )

    def entry(self, faq_id: str) -> FaqEntry:
        for e in self.entries:
            if e.id == faq_id:
                return e
        raise KeyError(faq_id)


class CorpusError(ValueError):
    """Raised with every problem found, each as ``file:line: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        n = len(problems)
        head = f"corpus has {n} problem{'s' if n != 1 else ''}; nothing was indexed"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in problems))


def sentences(text: str) -> list[str]:
    """A paragraph's sentences, end punctuation kept."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def split_long(text: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    cur = ""
    for sent in (s for s in _SENTENCE_END.split(text) if s):
        if cur and len(cur) + len(sent) > limit:
            chunks.append(cur.strip())
            cur = ""
        cur += sent
    if cur.strip():
        chunks.append(cur.strip())
    return chunks


def split_like(text: str, n: int) -> list[str]:
    """``text`` cut at sentence ends into ``n`` pieces of about equal length: a translated
    paragraph follows its original when that was split into ``n`` passages."""
    sents = sentences(text)
    if n <= 1 or len(sents) < n:
        return [text] + [""] * (n - 1) if n > 1 else [text]
    total = sum(len(s) for s in sents)
    pieces: list[list[str]] = [[] for _ in range(n)]
    done = 0
    for s in sents:
        k = min(n - 1, int(done * n / total)) if total else 0
        pieces[k].append(s)
        done += len(s)
    return [" ".join(p) for p in pieces]


def passages_of(entry: FaqEntry) -> list[Passage]:
    texts: list[str] = []
    translated: list[dict[str, dict[str, str]]] = []
    for k, para in enumerate(entry.paragraphs):
        chunks = split_long(para)
        texts += chunks
        by_lang = {
            lang: split_like(t.paragraphs[k], len(chunks)) for lang, t in entry.translations.items()
        }
        for c in range(len(chunks)):
            translated.append(
                {
                    lang: {"title": entry.translations[lang].question, "text": parts[c]}
                    for lang, parts in by_lang.items()
                    if parts[c]
                }
            )
    return [
        Passage(
            f"{entry.id}#{i}",
            entry.id,
            entry.question,
            t,
            entry.source,
            i in entry.context,
            translated[i - 1],
        )
        for i, t in enumerate(texts, start=1)
    ]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence of ``text``."""
    spans, pos = [], 0
    for sent in sentences(text):
        start = text.find(sent, pos)
        if start < 0:
            continue
        spans.append((start, start + len(sent)))
        pos = start + len(sent)
    return spans


def corpus_files(path: Path) -> list[Path]:
    if not path.exists():
        raise CorpusError([f"{path}: no such file or directory"])
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and (p.suffix in SUFFIXES or p.name.endswith(NEGATIVES_SUFFIX))
    )
    if not files:
        raise CorpusError([f"{path}: no corpus files (*.md, *.jsonl, *{NEGATIVES_SUFFIX}) found"])
    return files


def hash_files(files: Iterable[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(_display(f, root).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _display(path: Path, root: Path) -> str:
    base = root if root.is_dir() else root.parent
    try:
        rel = path.relative_to(base)
    except ValueError:
        rel = Path(path.name)
    return f"{base.name}/{rel.as_posix()}" if base.name else rel.as_posix()


def load_corpus(path: str | Path) -> Corpus:
    root = Path(path)
    files = corpus_files(root)
    problems: list[str] = []
    entries: list[FaqEntry] = []
    negatives: list[Negative] = []
    for f in files:
        name = _display(f, root)
        text = _read_text(f, name, problems)
        if text is None:
            continue
        if f.name.endswith(NEGATIVES_SUFFIX):
            negatives += _parse_negatives(text, name)
        elif f.suffix == ".jsonl":
            entries += _parse_jsonl(text, name, problems)
        elif f.suffix == ".md":
            entries += _parse_markdown(text, name, problems)
        else:
            problems.append(
                f"{name}:1: unsupported file type {f.suffix!r} "
                f"(use .md, .jsonl or {NEGATIVES_SUFFIX})"
            )
    seen: dict[str, FaqEntry] = {}
    for e in entries:
        if e.id in seen:
            first = seen[e.id]
            problems.append(
                f"{e.source}:{e.line}: duplicate id {e.id!r} (first defined at "
                f"{first.source}:{first.line})"
            )
        else:
            seen[e.id] = e
    for e in entries:
        unknown = [r for r in e.related if r not in seen or r == e.id]
        if unknown:
            problems.append(
                f"{e.source}:{e.line}: 'related' names {', '.join(map(repr, unknown))}, "
                "which is not another entry of the corpus"
            )
    if not entries and not problems:
        problems.append(f"{root}: the corpus holds no entries")
    folder = root if root.is_dir() else None
    detail_files = [
        root / f
        for f in (DETAILS_FILE, ACTS_FILE, NORMALISE_FILE)
        if folder and (root / f).is_file()
    ]
    spec: dict = {}
    act_spec: dict = {}
    words: dict = {}
    try:
        spec = load_spec(folder)
    except DetailsError as exc:
        problems += exc.problems
    try:
        act_spec = load_acts(folder)
    except ActsError as exc:
        problems += exc.problems
    try:
        words = load_normalise(folder)
    except NormaliseError as exc:
        problems += exc.problems
    if problems:
        raise CorpusError(problems)
    return Corpus(
        entries=entries,
        files=files,
        # The packaged acts and details are part of what a build means, like the corpus's own.
        sha256=hash_files([*files, *detail_files, *_packaged_data()], root),
        negatives=negatives,
        details=spec,
        acts=act_spec,
        normalise_spec=words,
    )


def _packaged_data() -> list[Path]:
    data = Path(__file__).parent / "data"
    return [data / DETAILS_FILE, data / ACTS_FILE, data / NORMALISE_FILE]


def _parse_negatives(text: str, name: str) -> list[Negative]:
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(Negative(line, name, n))
    return out


def _read_text(f: Path, name: str, problems: list[str]) -> str | None:
    data = f.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(f"{name}:{line}: not valid UTF-8 (byte offset {exc.start})")
        return None
    return text.removeprefix("\ufeff")


def _clean_list(value: object, what: str, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: {what} must be a list of strings")
        return ()
    return tuple(v.strip() for v in value if v.strip())


def _make_entry(
    obj: dict, paragraphs: list[str], name: str, line: int, problems: list[str]
) -> FaqEntry | None:
    where = f"{name}:{line}"
    before = len(problems)
    unknown = sorted(set(obj) - ENTRY_FIELDS - {"answer"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    eid, question = obj.get("id"), obj.get("question")
    if not isinstance(eid, str) or not ID_RE.match(eid):
        problems.append(
            f"{where}: 'id' must be a string of letters, digits, '-', '_' or '.' (got {eid!r})"
        )
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: 'question' is missing or empty")
    if not any(p.strip() for p in paragraphs):
        problems.append(f"{where}: empty answer")
    alts = _clean_list(obj.get("alt_questions"), "'alt_questions'", where, problems)
    tags = _clean_list(obj.get("tags"), "'tags'", where, problems)
    related = _clean_list(obj.get("related"), "'related'", where, problems)
    context = obj.get("context") or []
    if not isinstance(context, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in context
    ):
        problems.append(f"{where}: 'context' must be a list of passage numbers (1, 2, ...)")
        context = []
    url, origin = obj.get("url"), obj.get("source")
    if url is not None and not isinstance(url, str):
        problems.append(f"{where}: 'url' must be a string")
    if origin is not None and not isinstance(origin, str):
        problems.append(f"{where}: 'source' must be a string")
    n_paras = sum(1 for p in paragraphs if p.strip())
    translations = _translations(obj.get("translations"), n_paras, where, problems)
    if len(problems) > before:
        return None
    return FaqEntry(
        id=eid,
        question=question.strip(),
        paragraphs=tuple(p.strip() for p in paragraphs if p.strip()),
        alt_questions=alts,
        tags=tags,
        source=name,
        url=url,
        origin=origin,
        line=line,
        related=related,
        context=tuple(context),
        translations=translations,
    )


def _translations(
    value: object, n_paragraphs: int, where: str, problems: list[str]
) -> dict[str, Translation]:
    """``translations: {en: {question, answer, source?}}``, one paragraph for each of the
    answer's, so each passage has its rendering."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: 'translations' must map a language code to its texts")
        return {}
    out: dict[str, Translation] = {}
    for lang, t in value.items():
        at = f"{where}: translations.{lang}"
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            problems.append(f"{where}: translations: {lang!r} is not a language code (en, zh-TW)")
            continue
        if not isinstance(t, dict):
            problems.append(f"{at} must hold 'question' and 'answer'")
            continue
        unknown = sorted(set(t) - TRANSLATION_FIELDS)
        if unknown:
            problems.append(f"{at}: unknown field(s) {', '.join(unknown)}")
        question, answer, source = t.get("question"), t.get("answer"), t.get("source", "")
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{at}: 'question' is missing or empty")
        if not isinstance(answer, str) or not answer.strip():
            problems.append(f"{at}: 'answer' is missing or empty")
            continue
        if not isinstance(source, str):
            problems.append(f"{at}: 'source' must be a string")
            continue
        paras = [p.strip() for p in re.split(r"\n\s*\n", answer.strip()) if p.strip()]
        if len(paras) != n_paragraphs:  # a JSONL answer may separate paragraphs by one newline
            paras = [p.strip() for p in answer.strip().splitlines() if p.strip()]
        if len(paras) != n_paragraphs:
            problems.append(
                f"{at}: the answer has {len(paras)} paragraph(s) and the original "
                f"{n_paragraphs}; give one paragraph (blank-line separated) for each"
            )
            continue
        if isinstance(question, str) and question.strip():
            out[lang] = Translation(
                question.strip(), tuple(" ".join(p.split()) for p in paras), source
            )
    return out


def _parse_jsonl(text: str, name: str, problems: list[str]) -> list[FaqEntry]:
    out: list[FaqEntry] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{name}:{n}: malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{name}:{n}: each line must be a JSON object")
            continue
        answer = obj.get("answer")
        if answer is not None and not isinstance(answer, str):
            problems.append(f"{name}:{n}: 'answer' must be a string")
            continue
        paragraphs = re.split(r"\n\s*\n|\n", answer or "")
        entry = _make_entry(obj, paragraphs, name, n, problems)
        if entry:
            out.append(entry)
    return out


def _parse_markdown(text: str, name: str, problems: list[str]) -> list[FaqEntry]:
    lines = text.splitlines()
    i, n = 0, len(lines)
    # Skip blank lines and a leading HTML comment (file-level notes for editors).
    while i < n and not lines[i].strip():
        i += 1
    if i < n and lines[i].lstrip().startswith("<!--"):
        while i < n and "-->" not in lines[i]:
            i += 1
        i += 1
    out: list[FaqEntry] = []
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        if lines[i].strip() != "---":
            problems.append(f"{name}:{i + 1}: expected '---' to open an entry's front matter")
            return out
        start = i + 1
        j = start
        while j < n and lines[j].strip() != "---":
            j += 1
        if j >= n:
            problems.append(f"{name}:{i + 1}: front matter is not closed by '---'")
            return out
        try:
            meta = yaml.safe_load("\n".join(lines[start:j])) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = start + 1 + (mark.line if mark else 0)
            problems.append(f"{name}:{line}: malformed front matter ({_yaml_problem(exc)})")
            meta = None
        k = j + 1
        while k < n and lines[k].strip() != "---":
            k += 1
        body = lines[j + 1 : k]
        if meta is not None:
            if not isinstance(meta, dict):
                problems.append(f"{name}:{start + 1}: front matter must be a mapping of fields")
            else:
                if "answer" in meta:
                    problems.append(
                        f"{name}:{start + 1}: unknown field(s) answer "
                        "(write the answer below the front matter)"
                    )
                    meta = {k2: v for k2, v in meta.items() if k2 != "answer"}
                entry = _make_entry(meta, _paragraphs(body), name, i + 1, problems)
                if entry:
                    out.append(entry)
        i = k
    return out


def _yaml_problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).strip()


def _paragraphs(body: list[str]) -> list[str]:
    paras: list[str] = []
    cur: list[str] = []
    for line in body + [""]:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(_join_lines(cur))
            cur = []
    return paras


def _join_lines(lines: list[str]) -> str:
    # Chinese wraps without spaces; Latin text needs one.
    out = lines[0]
    for line in lines[1:]:
        sep = "" if (_is_cjk(out[-1]) or _is_cjk(line[0])) else " "
        out += sep + line
    return out


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
