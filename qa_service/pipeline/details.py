"""Details a question asks for that an answer may not give.

A near miss sits close to an FAQ entry but asks for something its answer does not state: how
long something takes, the fee in percent, the minimum amount, support hours, a web address,
the number itself where the answer says where it is listed, or a named platform, country or
currency the answer never names. The encoder reads "提现几天到账" and "提现手续费是多少" as
neighbours, so the answer-or-escalate decision also checks, word by word, that the matched
answer holds the kind of detail asked for.

This module is only the mechanism. What to look for is data: the generic kinds every corpus
gets in ``qa_service/data/details.yaml``, and a corpus's own domain words in its folder's
``details.yaml`` (``load_spec``). The merged spec travels with the index build, so a served
index checks what its corpus says.

Both sides are compared in ``text.normalise`` form (simplified Chinese, lower case, half-width).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..pii import find_pii
from . import yaml_source

FILE_NAME = "details.yaml"
_SECTIONS = ("defines", "kinds", "quoted", "names")
_NAME_PREFIX = "name:"


class DetailsError(ValueError):
    """Raised with every problem in a details file, each as ``file:line: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class DetailRules:
    """Compiled patterns of one spec: what questions ask for and what answers give."""

    asks: dict[str, re.Pattern[str]]
    gives: dict[str, re.Pattern[str]]
    quoted: tuple[re.Pattern[str], ...]
    names: dict[str, re.Pattern[str]]  # "name:<first name>" -> any of its names
    # Any name at all, bounds aside: most questions name none, and one search tells so where
    # each group's own pattern would be tried in turn (one per named thing).
    any_name: re.Pattern[str] | None = None

    @classmethod
    def from_spec(cls, spec: dict) -> DetailRules:
        """Rules from a merged spec (``load_spec``): ``{"kinds": {kind: {"asks", "gives"}},
        "quoted": [pattern], "names": [[name, ...]]}``, with the defines already applied."""
        kinds = spec.get("kinds", {})
        return cls(
            asks={k: re.compile(v["asks"]) for k, v in kinds.items()},
            gives={k: re.compile(v["gives"]) for k, v in kinds.items()},
            # Normalised text is lower case but for a brand kept in capitals, which an address holds.
            quoted=tuple(re.compile(p, re.IGNORECASE) for p in spec.get("quoted", ())),
            names={
                _NAME_PREFIX + group[0]: re.compile("|".join(_name_pattern(n) for n in group))
                for group in spec.get("names", ())
            },
            any_name=re.compile("|".join(re.escape(n) for g in spec["names"] for n in g))
            if spec.get("names")
            else None,
        )

    def asked(self, question: str) -> set[str]:
        """Every detail ``question`` asks for: kinds ("duration"), quoted values and names."""
        out = {kind for kind, pat in self.asks.items() if pat.search(question)}
        for pat in self.quoted:
            out.update(m.group(0) for m in pat.finditer(question))
        out.update(question[start:end] for start, end, _ in find_pii(question))
        if self.any_name is not None and self.any_name.search(question):
            out.update(name for name, pat in self.names.items() if pat.search(question))
        return out

    def given(self, answer: str, details: Iterable[str]) -> set[str]:
        """Those of ``details`` that ``answer`` gives."""
        out = set()
        for d in details:
            if d in self.gives:
                ok = bool(self.gives[d].search(answer))
            elif d in self.names:
                ok = bool(self.names[d].search(answer))
            else:
                ok = d in answer
            if ok:
                out.add(d)
        return out

    def asked_by(self, examples: Iterable[str]) -> frozenset[str]:
        """Every detail some of ``examples`` (an entry's example questions) asks for."""
        return frozenset().union(*(self.asked(e) for e in examples))

    def missing(
        self, question: str, answer: str, answered: frozenset[str] = frozenset()
    ) -> set[str]:
        """Details ``question`` asks for that ``answer`` does not give.

        ``answered`` (``asked_by`` the entry's example questions) is the corpus saying what the
        entry answers: a corpus whose examples ask "how long" of an answer without a figure
        has chosen that answer for them, so such a detail is not missing."""
        wanted = self.asked(question) - answered
        return wanted - self.given(answer, wanted) if wanted else set()


def _name_pattern(name: str) -> str:
    # Latin names as whole words ("eth" is not in "method"); Chinese ones as substrings.
    return rf"(?<![a-z]){re.escape(name)}(?![a-z])" if name.isascii() else re.escape(name)


def load_spec(corpus_dir: Path | None = None) -> dict:
    """The packaged generic spec, extended by ``corpus_dir/details.yaml`` when there is one.

    A corpus kind replaces the packaged kind of its name, and ``kind: null`` drops it; quoted
    patterns and names add to the packaged ones. Raises ``DetailsError`` (``file:line``)."""
    layers = [
        _parse(text, name)
        for text, name in yaml_source.sources(FILE_NAME, corpus_dir, DetailsError)
    ]
    defines: dict[str, tuple[str, str]] = {}
    kinds: dict[str, dict | None] = {}
    quoted: list[tuple[str, str]] = []
    names: list[tuple[list[str], str]] = []
    for layer in layers:
        defines |= layer["defines"]
        kinds |= layer["kinds"]
        quoted += layer["quoted"]
        names += layer["names"]
    problems: list[str] = []

    patterns = {name: pattern for name, (pattern, _) in defines.items()}

    def expand(pattern: str, where: str, flags: int = 0) -> str:
        return yaml_source.expand(pattern, patterns, where, problems, flags)

    spec_kinds = {}
    for kind, value in kinds.items():
        if value is not None:
            spec_kinds[kind] = {
                side: expand(pattern, where) for side, (pattern, where) in value.items()
            }
    spec = {
        "kinds": spec_kinds,
        "quoted": [expand(p, where, re.IGNORECASE) for p, where in quoted],
        "names": [group for group, _ in names],
    }
    seen: dict[str, str] = {}
    for group, where in names:
        for n in group:
            if n in seen:
                problems.append(f"{where}: name {n!r} is listed twice (first at {seen[n]})")
            seen.setdefault(n, where)
    if problems:
        raise DetailsError(problems)
    return spec


def rules(spec: dict | None = None) -> DetailRules:
    """Compiled rules of ``spec``; the packaged kinds alone when it is empty (an index built
    before details were data, or a corpus given as one file)."""
    return _compiled(json.dumps(spec or _generic_spec(), sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=1)
def _generic_spec() -> dict:
    return load_spec(None)


@lru_cache(maxsize=16)
def _compiled(spec_json: str) -> DetailRules:
    # Keyed by the spec's text: the escalation fit assembles many indexes of one corpus.
    return DetailRules.from_spec(json.loads(spec_json))


def _parse(text: str, name: str) -> dict:
    """One details file as {"defines", "kinds", "quoted", "names"}, each value paired with the
    ``file:line`` it came from; every problem is collected and raised together."""
    problems: list[str] = []
    out: dict = {"defines": {}, "kinds": {}, "quoted": [], "names": []}
    root = yaml_source.compose(text, name, DetailsError)
    if root is None:
        return out

    def at(node: yaml.Node) -> str:
        return yaml_source.where(name, node)

    def patterns(node: yaml.Node, what: str) -> str | None:
        # One pattern, or a list of them meaning "any of these".
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str"):
            return node.value
        if (
            isinstance(node, yaml.SequenceNode)
            and node.value
            and all(isinstance(n, yaml.ScalarNode) and n.tag.endswith(":str") for n in node.value)
        ):
            return "|".join(n.value for n in node.value)
        problems.append(f"{at(node)}: {what} must be a pattern or a list of patterns")
        return None

    if not isinstance(root, yaml.MappingNode):
        raise DetailsError([f"{at(root)}: expected sections {', '.join(_SECTIONS)}"])
    for key, value in root.value:
        section = key.value
        if section not in _SECTIONS:
            problems.append(f"{at(key)}: unknown section {section!r} (use {', '.join(_SECTIONS)})")
        elif section == "defines":
            if not isinstance(value, yaml.MappingNode):
                problems.append(f"{at(value)}: 'defines' maps names to patterns")
                continue
            for k, v in value.value:
                p = patterns(v, f"define {k.value!r}")
                if p is not None:
                    out["defines"][k.value] = (p, at(v))
        elif section == "kinds":
            if not isinstance(value, yaml.MappingNode):
                problems.append(f"{at(value)}: 'kinds' maps each kind to its asks and gives")
                continue
            for k, v in value.value:
                if isinstance(v, yaml.ScalarNode) and v.tag.endswith(":null"):
                    out["kinds"][k.value] = None
                    continue
                fields = (
                    {f.value: fv for f, fv in v.value} if isinstance(v, yaml.MappingNode) else {}
                )
                if set(fields) != {"asks", "gives"}:
                    problems.append(f"{at(k)}: kind {k.value!r} needs 'asks' and 'gives' (or null)")
                    continue
                kind = {}
                for side in ("asks", "gives"):
                    p = patterns(fields[side], f"{k.value!r} {side}")
                    if p is not None:
                        kind[side] = (p, at(fields[side]))
                if len(kind) == 2:
                    out["kinds"][k.value] = kind
        elif section == "quoted":
            items = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for item in items:
                p = patterns(item, "a quoted value")
                if p is not None:
                    out["quoted"].append((p, at(item)))
        else:
            groups = value.value if isinstance(value, yaml.MappingNode) else None
            if groups is None:
                problems.append(f"{at(value)}: 'names' maps group headings to lists of names")
                continue
            for _, group in groups:
                things = group.value if isinstance(group, yaml.SequenceNode) else []
                for thing in things:
                    names = thing.value if isinstance(thing, yaml.SequenceNode) else [thing]
                    words = [
                        n.value.strip().lower() for n in names if isinstance(n, yaml.ScalarNode)
                    ]
                    if not words or len(words) != len(names) or not all(words):
                        problems.append(f"{at(thing)}: a named thing is a list of its names")
                        continue
                    out["names"].append((words, at(thing)))
    if problems:
        raise DetailsError(problems)
    return out
