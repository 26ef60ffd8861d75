"""Codebooks: a versioned YAML description of a questionnaire instrument.

A codebook says what every column of an export means: the response scales (codes, Chinese and
English labels, label aliases, codes that mean missing), the Likert items (question text,
scale, construct, reverse keying, role), the categorical variables (demographics), the free-text
questions, and the metadata columns a survey platform writes. ``load_codebook`` reads one with
``yaml.safe_load`` and reports **every** problem at once.

The format is documented in ``docs/codebook.md``. A minimal example:

.. code-block:: yaml

    format: servicestudy-codebook
    version: 1
    study: {id: demo, title: {zh: 示例, en: Demo}}
    min_answered: 0.5
    scales:
      agree5:
        levels:
          - {code: 1, zh: 非常不同意, en: Strongly disagree}
          - {code: 2, zh: 不同意, en: Disagree}
          - {code: 3, zh: 一般, en: Neutral}
          - {code: 4, zh: 同意, en: Agree}
          - {code: 5, zh: 非常同意, en: Strongly agree}
        missing:
          - {code: 9, zh: 不清楚, en: Don't know}
    constructs:
      att: {zh: 服务态度, en: Attitude}
    items:
      - {id: ATT1, zh: 民警态度热情, en: Officers are courteous, scale: agree5, construct: att}
      - {id: ATT2, zh: 民警更注重管理而不是服务, en: Officers put management before service,
         scale: agree5, construct: att, reverse: true}
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CodebookError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "META_ROLES",
    "Categorical",
    "Category",
    "Codebook",
    "Construct",
    "Item",
    "Level",
    "MetaColumn",
    "Scale",
    "TextQuestion",
    "list_codebooks",
    "load_codebook",
    "normalize_label",
]

FORMAT = "servicestudy-codebook"
FORMAT_VERSION = 1
META_ROLES = ("respondent_id", "submit_time", "duration", "source", "source_detail", "ip", "finished")
ITEM_ROLES = ("likert", "overall", "importance", "attention")
CONSTRUCT_ROLES = ("dimension", "outcome", "other")
MAX_CODEBOOK_BYTES = 2_000_000  # a codebook is a small text file; refuse anything huge
MAX_YAML_NODES = 200_000  # guards against alias expansion ("billion laughs")

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def normalize_label(text: object) -> str:
    """Normalise a label or header for matching: NFKC (full-width to half-width), trimmed,
    inner whitespace removed, case-folded.

    >>> normalize_label("  非常 满意 ") == normalize_label("非常满意")
    True
    >>> normalize_label("Ａｇｒｅｅ")
    'agree'
    """
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(s.split())
    return s.casefold()


@dataclass(frozen=True)
class Level:
    """One response option of a scale: a numeric code and its labels."""

    code: float
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    def labels(self) -> tuple[str, ...]:
        return (self.zh, self.en, *self.aliases)


@dataclass(frozen=True)
class Scale:
    """A response scale: valid levels (ascending codes) and codes that mean missing."""

    id: str
    levels: tuple[Level, ...]
    missing: tuple[Level, ...] = ()
    #: numeric codes of the export -> codes of the scale, applied before the levels are checked
    #: (``recode: {5: 3, 6: 4, 7: 5}`` for an export that skipped codes 3 and 4)
    recode: Mapping[float, float] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[float, ...]:
        """Valid (non-missing) codes, ascending."""
        return tuple(lv.code for lv in self.levels)

    @property
    def missing_codes(self) -> tuple[float, ...]:
        return tuple(lv.code for lv in self.missing)

    @property
    def min(self) -> float:
        return min(self.codes)

    @property
    def max(self) -> float:
        return max(self.codes)

    @property
    def neutral(self) -> float | None:
        """The middle code of an odd-length scale, else None."""
        codes = self.codes
        return codes[len(codes) // 2] if len(codes) % 2 == 1 else None

    @property
    def midpoint(self) -> float:
        """``(min + max) / 2``: the scale's centre (2.5 on a 1-4 scale, 4 on a 1-7 scale)."""
        return (self.min + self.max) / 2

    @property
    def evenly_spaced(self) -> bool:
        """Whether consecutive codes differ by the same amount (1,2,3,4,5 yes; 1,2,5,6,7 no)."""
        d = [b - a for a, b in zip(self.codes, self.codes[1:], strict=False)]
        return all(abs(x - d[0]) < 1e-9 for x in d)

    def label_map(self) -> dict[str, float | None]:
        """Normalised label -> code (``None`` for labels that mean missing)."""
        out: dict[str, float | None] = {}
        for lv in self.levels:
            for lab in lv.labels():
                out[normalize_label(lab)] = lv.code
        for lv in self.missing:
            for lab in lv.labels():
                out[normalize_label(lab)] = None
        return out

    def label_of(self, code: float, lang: str = "zh") -> str:
        for lv in (*self.levels, *self.missing):
            if lv.code == code:
                return lv.zh if lang == "zh" else lv.en
        raise KeyError(code)


@dataclass(frozen=True)
class Item:
    """A rated item (Likert, overall satisfaction, stated importance or attention check)."""

    id: str
    zh: str
    en: str
    scale: str
    construct: str | None = None
    reverse: bool = False
    role: str = "likert"
    importance_of: str | None = None
    expected: tuple[float, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Construct:
    """A construct (service dimension or outcome) and its items, in codebook order."""

    id: str
    zh: str
    en: str
    role: str = "dimension"
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category(Level):
    """One category of a categorical variable (same fields as :class:`Level`)."""


@dataclass(frozen=True)
class Categorical:
    """A categorical variable (a demographic, or a single- or multi-select question)."""

    id: str
    zh: str
    en: str
    categories: tuple[Category, ...]
    ordered: bool = False
    multiple: bool = False
    missing: tuple[Category, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[float, ...]:
        return tuple(c.code for c in self.categories)

    def label_map(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for c in self.categories:
            for lab in c.labels():
                out[normalize_label(lab)] = c.code
        for c in self.missing:
            for lab in c.labels():
                out[normalize_label(lab)] = None
        return out


@dataclass(frozen=True)
class TextQuestion:
    """An open (free-text) question."""

    id: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetaColumn:
    """A column the platform writes (respondent number, submit time, duration, ...)."""

    role: str
    id: str
    aliases: tuple[str, ...] = ()
    identifier: bool = False


@dataclass(frozen=True)
class Codebook:
    """A validated instrument description. Build with :func:`load_codebook`.

    Frozen: every field is set once by :func:`load_codebook` after the whole document has
    been checked, so a ``Codebook`` in hand is always consistent.

    Parameters
    ----------
    format_version
        The ``version`` of the codebook format (:data:`FORMAT_VERSION`).
    study
        Study metadata (``id``, ``title`` in ``zh``/``en``, ...), as written.
    scales, constructs, items, categoricals, texts, meta
        Id -> :class:`Scale`, :class:`Construct`, :class:`Item`, :class:`Categorical`,
        :class:`TextQuestion`, :class:`MetaColumn`, in codebook order.
    min_answered
        Share of a construct's items that must be answered for a scale score (default 0.5).
    screening
        ``{"rule": (flag, ...), "thresholds": {name: value}}`` as the codebook's
        ``screening:`` section sets them (empty: the defaults of :mod:`servicestudy.screening`).
    groups
        Categorical ids to compare groups by (the codebook's ``groups:`` list; empty: the
        report's default demographics present in the codebook).
    source
        Where the codebook was read from (a path or ``<servicestudy codebook NAME>``).
    sha256
        SHA-256 of the file's bytes, for provenance records.
    extra
        Top-level keys kept as written (e.g. notes).

    Notes
    -----
    Convenience views: :meth:`items_of`, :attr:`dimensions`, :attr:`outcomes`,
    :meth:`reverse_items`, :meth:`importance_items`, :meth:`attention_checks`,
    :meth:`scale_of`, :meth:`columns` and :meth:`title`. The file format is documented in
    ``docs/codebook.md``.

    References
    ----------
    Ben-Kiki, O., Evans, C., & döt Net, I. (2021). *YAML Ain't Markup Language (YAML)
    version 1.2.2*. https://yaml.org/spec/1.2.2/

    Examples
    --------
    >>> cb = load_codebook("k_station")
    >>> cb.outcomes, cb.reverse_items()
    (['overall'], ['CON4', 'ATT3', 'FRM4'])
    >>> cb.title("en") != ""
    True

    Tested on: the shipped k_station codebook, a minimal and the documented example
    codebook, and deliberately broken files (tests/test_codebook.py).
    """

    format_version: int
    study: Mapping[str, Any]
    scales: Mapping[str, Scale]
    constructs: Mapping[str, Construct]
    items: Mapping[str, Item]
    categoricals: Mapping[str, Categorical]
    texts: Mapping[str, TextQuestion]
    meta: Mapping[str, MetaColumn]
    min_answered: float = 0.5
    screening: Mapping[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    source: str | None = None
    sha256: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    # --- convenience views -------------------------------------------------------------
    def items_of(self, construct: str) -> list[str]:
        """Item ids of ``construct``, in codebook order."""
        return list(self.constructs[construct].items)

    @property
    def dimensions(self) -> list[str]:
        """Construct ids with role ``dimension``, in codebook order."""
        return [c.id for c in self.constructs.values() if c.role == "dimension"]

    @property
    def outcomes(self) -> list[str]:
        """Construct ids with role ``outcome`` (e.g. overall satisfaction)."""
        return [c.id for c in self.constructs.values() if c.role == "outcome"]

    def reverse_items(self) -> list[str]:
        return [i.id for i in self.items.values() if i.reverse]

    def importance_items(self) -> dict[str, str]:
        """Construct id -> the item that asks for its stated importance."""
        return {
            i.importance_of: i.id
            for i in self.items.values()
            if i.role == "importance" and i.importance_of is not None
        }

    def attention_checks(self) -> dict[str, tuple[float, ...]]:
        """Attention-check item id -> the codes that pass."""
        return {i.id: i.expected for i in self.items.values() if i.role == "attention"}

    def scale_of(self, item: str) -> Scale:
        return self.scales[self.items[item].scale]

    def columns(self) -> list[str]:
        """Every column id the codebook defines, in a stable order (meta, categoricals,
        items, texts)."""
        return [
            *(m.id for m in self.meta.values()),
            *self.categoricals,
            *self.items,
            *self.texts,
        ]

    def title(self, lang: str = "en") -> str:
        t = self.study.get("title", {})
        if isinstance(t, Mapping):
            return str(t.get(lang) or t.get("en") or t.get("zh") or self.study.get("id", ""))
        return str(t)


# --- loading ---------------------------------------------------------------------------


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents whose alias expansion grows too large."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._nodes = 0

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"the document expands to more than {MAX_YAML_NODES} nodes "
                "(aliases that expand exponentially?)"
            )
        return super().construct_object(node, deep=deep)

    def compose_node(self, parent: Any, index: Any) -> Any:
        # count alias references while composing, so "billion laughs" fails fast
        if self.check_event(yaml.AliasEvent):
            self._nodes += 1
            if self._nodes > MAX_YAML_NODES:
                raise yaml.YAMLError(f"more than {MAX_YAML_NODES} alias references")
        return super().compose_node(parent, index)


def list_codebooks() -> list[str]:
    """Names of the codebooks that ship with the package.

    Returns
    -------
    list of str
        Sorted names, each usable as ``load_codebook(name)``.

    Notes
    -----
    The names are the ``*.yaml`` files in the package's ``codebooks`` folder (read through
    ``importlib.resources``, so this works from a wheel or zip), without the extension.

    References
    ----------
    The codebook format: ``docs/codebook.md``.

    Examples
    --------
    >>> "k_station" in list_codebooks()
    True

    Tested on: the installed package's codebooks folder (tests/test_codebook.py).
    """
    folder = importlib.resources.files("servicestudy") / "codebooks"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _resolve(path_or_name: str | Path) -> tuple[str, bytes]:
    text = str(path_or_name)
    p = Path(text)
    if p.suffix.lower() in {".yaml", ".yml"} or p.exists() or "/" in text or "\\" in text:
        if not p.is_file():
            raise CodebookError("codebook file not found", file=p, expected="a YAML file or the name of a shipped codebook")
        size = p.stat().st_size
        if size > MAX_CODEBOOK_BYTES:
            raise CodebookError(f"codebook is {size} bytes", file=p, expected=f"at most {MAX_CODEBOOK_BYTES} bytes")
        return str(p), p.read_bytes()
    names = list_codebooks()
    if text not in names:
        raise CodebookError(
            f"no shipped codebook named {text!r}",
            expected=f"a path to a YAML file or one of {', '.join(names)}",
        )
    res = importlib.resources.files("servicestudy") / "codebooks" / f"{text}.yaml"
    return f"<servicestudy codebook {text}>", res.read_bytes()


def load_codebook(path_or_name: str | Path | Codebook) -> Codebook:
    """Load and validate a codebook from a YAML file or the name of a shipped codebook.

    Parameters
    ----------
    path_or_name
        A path to a ``.yaml`` file, the name of a codebook shipped with the package (see
        :func:`list_codebooks`), or an already loaded :class:`Codebook` (returned as is).

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        Listing every problem found (unknown scale, duplicate id, construct without items,
        unknown keys, YAML syntax errors with their line, ...).

    Notes
    -----
    The file is decoded as UTF-8 (a BOM is accepted) and parsed with ``yaml.SafeLoader``
    semantics (no arbitrary Python objects). Files over 2 MB and documents whose aliases
    expand to more than 200,000 nodes ("billion laughs") are refused. Validation collects
    every problem before raising, so one run lists them all. ``sha256`` is taken over the
    raw bytes for provenance.

    References
    ----------
    Ben-Kiki, O., Evans, C., & döt Net, I. (2021). *YAML Ain't Markup Language (YAML)
    version 1.2.2*. https://yaml.org/spec/1.2.2/

    Examples
    --------
    >>> cb = load_codebook("k_station")
    >>> cb.dimensions[:2]
    ['content', 'attitude']
    >>> load_codebook(cb) is cb
    True

    Tested on: the shipped k_station codebook, the example in ``docs/codebook.md``, and
    files with many simultaneous errors, YAML syntax errors, exponential aliases and
    ambiguous headers (tests/test_codebook.py).
    """
    if isinstance(path_or_name, Codebook):
        return path_or_name
    source, raw = _resolve(path_or_name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError("codebook is not UTF-8 text", file=source, value=raw[exc.start : exc.start + 4]) from None
    try:
        # yaml.safe_load semantics (a SafeLoader subclass) plus a cap on alias expansion
        doc = yaml.load(text, Loader=_LimitedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CodebookError(f"YAML error{where}: {problem}", file=source) from None
    size = _expanded_size(doc, MAX_YAML_NODES)
    if size > MAX_YAML_NODES:
        # aliases share objects, so loading is cheap, but anything that walks the document
        # (JSON output, deep copies) would expand them: refuse documents that expand too much
        raise CodebookError(
            f"YAML error: the document expands to more than {MAX_YAML_NODES} nodes "
            "(aliases that expand exponentially?)",
            file=source,
        )
    return _build(doc, source=source, sha256=hashlib.sha256(raw).hexdigest())


def _expanded_size(doc: Any, limit: int) -> int:
    """Number of nodes of ``doc`` with every shared (aliased) node counted at each use; stops
    counting once above ``limit``. Linear in the number of distinct nodes (memoised by id)."""
    memo: dict[int, int] = {}

    def size(obj: Any) -> int:
        if isinstance(obj, (dict, list)):
            key = id(obj)
            if key in memo:
                return memo[key]
            memo[key] = 1  # guards against recursive structures
            children = list(obj.keys()) + list(obj.values()) if isinstance(obj, dict) else obj
            total = 1
            for child in children:
                total += size(child)
                if total > limit:
                    break
            memo[key] = total
            return total
        return 1

    return size(doc)


# --- validation and construction -------------------------------------------------------

_TOP_KEYS = {"format", "version", "study", "min_answered", "scales", "constructs", "items",
             "categoricals", "texts", "meta", "extra", "screening", "groups"}
_LEVEL_KEYS = {"code", "zh", "en", "aliases"}
_ITEM_KEYS = {"id", "zh", "en", "scale", "construct", "reverse", "role", "importance_of",
              "expected", "aliases"}
_CONSTRUCT_KEYS = {"zh", "en", "role"}
_CAT_KEYS = {"id", "zh", "en", "categories", "ordered", "multiple", "missing", "aliases"}
_TEXT_KEYS = {"id", "zh", "en", "aliases"}
_META_KEYS = {"id", "aliases", "identifier"}


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, msg: str) -> None:
        self.items.append(msg)

    def entries(self, doc: Mapping[str, Any], key: str, allowed: set[str]) -> Iterable[tuple[int, str, Mapping[str, Any]]]:
        """Yield (index, location, mapping) for each entry of the list ``doc[key]``, recording
        a problem for a non-list, a non-mapping entry or unknown keys."""
        raw = doc.get(key) or []
        if not isinstance(raw, list):
            self.add(f"{key}: expected a list")
            return
        for k, entry in enumerate(raw):
            where = f"{key}[{k}]"
            if not isinstance(entry, Mapping):
                self.add(f"{where}: expected a mapping")
                continue
            self.keys(where, entry, allowed)
            yield k, where, entry

    def keys(self, where: str, obj: Mapping[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(map(str, obj)) - allowed)
        if unknown:
            self.add(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(allowed))})")


def _as_str_tuple(value: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    problems.add(f"{where}: expected a string or a list of strings, got {type(value).__name__}")
    return ()


def _num(value: Any, where: str, problems: _Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.add(f"{where}: expected a finite number, got {value!r}")
        return None
    return float(value)


def _text(value: Any, where: str, problems: _Problems, *, required: bool = True) -> str:
    if value is None:
        if required:
            problems.add(f"{where}: missing")
        return ""
    if not isinstance(value, (str, int, float)):
        problems.add(f"{where}: expected text, got {type(value).__name__}")
        return ""
    return str(value)


def _zh_en(obj: Mapping[str, Any], where: str, problems: _Problems) -> tuple[str, str]:
    """The ``zh`` and ``en`` texts of an entry: either language is enough, the missing one
    takes the other's text (an English-only questionnaire needs no Chinese)."""
    zh = _text(obj.get("zh"), f"{where}.zh", problems, required=False)
    en = _text(obj.get("en"), f"{where}.en", problems, required=False)
    if not zh and not en:
        problems.add(f"{where}: needs a text in zh or en (either is enough)")
    return zh or en, en or zh


def _screening_section(raw: Any, problems: _Problems) -> dict[str, Any]:
    """``screening: {rule: [flags], thresholds: {name: value}}`` checked against screening's names."""
    from .screening import DEFAULT_THRESHOLDS, FLAGS

    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("screening: expected a mapping with rule and/or thresholds")
        return {}
    problems.keys("screening", raw, {"rule", "thresholds"})
    out: dict[str, Any] = {}
    if "rule" in raw:
        rule = raw["rule"]
        if not isinstance(rule, list) or not all(isinstance(r, str) for r in rule):
            problems.add("screening.rule: expected a list of flag names")
        else:
            bad = [r for r in rule if r not in FLAGS]
            if bad:
                problems.add(f"screening.rule: unknown flag(s) {', '.join(map(repr, bad))} (allowed: {', '.join(FLAGS)})")
            out["rule"] = tuple(rule)
    th = raw.get("thresholds") or {}
    if not isinstance(th, Mapping):
        problems.add("screening.thresholds: expected a mapping of name -> value")
        th = {}
    clean: dict[str, Any] = {}
    for name, value in th.items():
        if name not in DEFAULT_THRESHOLDS:
            problems.add(f"screening.thresholds.{name}: unknown threshold (allowed: {', '.join(DEFAULT_THRESHOLDS)})")
            continue
        default = DEFAULT_THRESHOLDS[name]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                problems.add(f"screening.thresholds.{name}: expected true or false, got {value!r}")
                continue
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            problems.add(f"screening.thresholds.{name}: expected a number >= 0, got {value!r}")
            continue
        clean[str(name)] = value
    if clean:
        out["thresholds"] = clean
    return out


def _levels(raw: Any, where: str, problems: _Problems, *, cls: type = Level) -> tuple[Any, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(f"{where}: expected a list")
        return ()
    out = []
    seen_codes: set[float] = set()
    seen_labels: dict[str, float] = {}
    for k, lv in enumerate(raw):
        w = f"{where}[{k}]"
        if not isinstance(lv, Mapping):
            problems.add(f"{w}: expected a mapping with code, zh, en")
            continue
        problems.keys(w, lv, _LEVEL_KEYS)
        code = _num(lv.get("code"), f"{w}.code", problems)
        zh, en = _zh_en(lv, w, problems)
        aliases = _as_str_tuple(lv.get("aliases"), f"{w}.aliases", problems)
        if code is None:
            continue
        if code in seen_codes:
            problems.add(f"{w}: duplicate code {code:g}")
        seen_codes.add(code)
        for lab in (zh, en, *aliases):
            key = normalize_label(lab)
            if key and key in seen_labels and seen_labels[key] != code:
                problems.add(f"{w}: label {lab!r} also names code {seen_labels[key]:g}")
            seen_labels[key] = code
        out.append(cls(code=code, zh=zh, en=en, aliases=aliases))
    return tuple(out)


def _build(doc: Any, *, source: str, sha256: str) -> Codebook:
    problems = _Problems()
    if not isinstance(doc, Mapping):
        raise CodebookError("codebook must be a YAML mapping", file=source, value=type(doc).__name__)
    problems.keys("codebook", doc, _TOP_KEYS)
    if doc.get("format") != FORMAT:
        problems.add(f"format: expected {FORMAT!r}, got {doc.get('format')!r}")
    version = doc.get("version")
    if version != FORMAT_VERSION:
        problems.add(f"version: expected {FORMAT_VERSION}, got {version!r}")
    study = doc.get("study") or {}
    if not isinstance(study, Mapping):
        problems.add("study: expected a mapping")
        study = {}
    min_answered = doc.get("min_answered", 0.5)
    if isinstance(min_answered, bool) or not isinstance(min_answered, (int, float)) or not 0 < min_answered <= 1:
        problems.add(f"min_answered: expected a share in (0, 1], got {min_answered!r}")
        min_answered = 0.5

    # scales
    scales: dict[str, Scale] = {}
    raw_scales = doc.get("scales") or {}
    if not isinstance(raw_scales, Mapping):
        problems.add("scales: expected a mapping of scale id -> scale")
        raw_scales = {}
    for sid, sc in raw_scales.items():
        w = f"scales.{sid}"
        if not isinstance(sc, Mapping):
            problems.add(f"{w}: expected a mapping with levels")
            continue
        problems.keys(w, sc, {"levels", "missing", "recode"})
        levels = _levels(sc.get("levels"), f"{w}.levels", problems)
        missing = _levels(sc.get("missing"), f"{w}.missing", problems)
        if len(levels) < 2:
            problems.add(f"{w}: needs at least two levels")
            continue
        codes = [lv.code for lv in levels]
        if codes != sorted(codes):
            problems.add(f"{w}.levels: codes must be in ascending order, got {codes}")
        clash = set(codes) & {lv.code for lv in missing}
        if clash:
            problems.add(f"{w}: code(s) {sorted(clash)} are both valid and missing")
        recode: dict[float, float] = {}
        raw_recode = sc.get("recode") or {}
        if not isinstance(raw_recode, Mapping):
            problems.add(f"{w}.recode: expected a mapping of export code -> scale code")
            raw_recode = {}
        for src_code, dst_code in raw_recode.items():
            a = _num(src_code, f"{w}.recode key", problems)
            b = _num(dst_code, f"{w}.recode[{src_code}]", problems)
            if a is None or b is None:
                continue
            if b not in codes:
                problems.add(f"{w}.recode[{src_code}]: {b:g} is not a code of the scale ({', '.join(f'{c:g}' for c in codes)})")
            recode[a] = b
        scales[str(sid)] = Scale(id=str(sid), levels=levels, missing=missing, recode=recode)

    # constructs
    constructs_raw = doc.get("constructs") or {}
    if not isinstance(constructs_raw, Mapping):
        problems.add("constructs: expected a mapping of construct id -> labels")
        constructs_raw = {}
    construct_meta: dict[str, dict[str, Any]] = {}
    for cid, c in constructs_raw.items():
        w = f"constructs.{cid}"
        if not isinstance(c, Mapping):
            problems.add(f"{w}: expected a mapping with zh, en, role")
            continue
        problems.keys(w, c, _CONSTRUCT_KEYS)
        role = c.get("role", "dimension")
        if role not in CONSTRUCT_ROLES:
            problems.add(f"{w}.role: expected one of {', '.join(CONSTRUCT_ROLES)}, got {role!r}")
        c_zh, c_en = _zh_en(c, w, problems)
        construct_meta[str(cid)] = {"zh": c_zh, "en": c_en, "role": role}

    all_ids: dict[str, str] = {}

    def claim(id_: Any, where: str) -> str | None:
        if not isinstance(id_, str) or not _ID_RE.match(id_):
            problems.add(f"{where}.id: expected an identifier (letter, then letters, digits, _), got {id_!r}")
            return None
        if id_ in all_ids:
            problems.add(f"{where}: duplicate id {id_!r} (also {all_ids[id_]})")
            return None
        all_ids[id_] = where
        return id_

    # items
    items: dict[str, Item] = {}
    members: dict[str, list[str]] = {cid: [] for cid in construct_meta}
    for k, w, it in problems.entries(doc, "items", _ITEM_KEYS):
        iid = claim(it.get("id"), w)
        w = f"items[{k}] ({it.get('id')!s})"
        scale = it.get("scale")
        if scale not in scales:
            problems.add(f"{w}.scale: unknown scale {scale!r}" + (f" (known: {', '.join(scales)})" if scales else ""))
        construct = it.get("construct")
        if construct is not None and construct not in construct_meta:
            problems.add(f"{w}.construct: unknown construct {construct!r}")
        role = it.get("role", "likert")
        if role not in ITEM_ROLES:
            problems.add(f"{w}.role: expected one of {', '.join(ITEM_ROLES)}, got {role!r}")
        imp = it.get("importance_of")
        if role == "importance" and imp not in construct_meta:
            problems.add(f"{w}.importance_of: expected a construct id, got {imp!r}")
        reverse = it.get("reverse", False)
        if not isinstance(reverse, bool):
            problems.add(f"{w}.reverse: expected true or false, got {reverse!r}")
            reverse = False
        expected_raw = it.get("expected")
        expected: tuple[float, ...] = ()
        if role == "attention":
            vals = expected_raw if isinstance(expected_raw, list) else [expected_raw]
            nums = [_num(v, f"{w}.expected", problems) for v in vals]
            expected = tuple(v for v in nums if v is not None)
            if scale in scales and any(v not in scales[scale].codes for v in expected):
                problems.add(f"{w}.expected: {expected} not among the codes of scale {scale!r}")
        elif expected_raw is not None:
            problems.add(f"{w}.expected: only attention-check items take 'expected'")
        if iid is None:
            continue
        item = Item(
            id=iid,
            zh=_zh_en(it, w, problems)[0],
            en=_zh_en(it, w, _Problems())[1],
            scale=str(scale),
            construct=construct,
            reverse=reverse,
            role=role,
            importance_of=imp if role == "importance" else None,
            expected=expected,
            aliases=_as_str_tuple(it.get("aliases"), f"{w}.aliases", problems),
        )
        items[iid] = item
        if construct in members:
            members[construct].append(iid)

    constructs: dict[str, Construct] = {}
    for cid, m in construct_meta.items():
        if not members[cid]:
            problems.add(f"constructs.{cid}: has no items")
        constructs[cid] = Construct(id=cid, zh=m["zh"], en=m["en"], role=m["role"], items=tuple(members[cid]))

    # categoricals
    categoricals: dict[str, Categorical] = {}
    for k, w, c in problems.entries(doc, "categoricals", _CAT_KEYS):
        cid = claim(c.get("id"), w)
        w = f"categoricals[{k}] ({c.get('id')!s})"
        cats = _levels(c.get("categories"), f"{w}.categories", problems, cls=Category)
        missing = _levels(c.get("missing"), f"{w}.missing", problems, cls=Category)
        if len(cats) < 2:
            problems.add(f"{w}: needs at least two categories")
        if cid is None:
            continue
        categoricals[cid] = Categorical(
            id=cid, zh=_zh_en(c, w, problems)[0], en=_zh_en(c, w, _Problems())[1],
            categories=cats, ordered=bool(c.get("ordered", False)), multiple=bool(c.get("multiple", False)),
            missing=missing, aliases=_as_str_tuple(c.get("aliases"), f"{w}.aliases", problems),
        )

    # free-text questions
    texts: dict[str, TextQuestion] = {}
    for _k, w, t in problems.entries(doc, "texts", _TEXT_KEYS):
        tid = claim(t.get("id"), w)
        if tid is None:
            continue
        texts[tid] = TextQuestion(id=tid, zh=_zh_en(t, w, problems)[0],
                                  en=_zh_en(t, w, _Problems())[1],
                                  aliases=_as_str_tuple(t.get("aliases"), f"{w}.aliases", problems))

    # metadata columns
    meta: dict[str, MetaColumn] = {}
    raw_meta = doc.get("meta") or {}
    if not isinstance(raw_meta, Mapping):
        problems.add("meta: expected a mapping of role -> column")
        raw_meta = {}
    for role, m in raw_meta.items():
        w = f"meta.{role}"
        if role not in META_ROLES:
            problems.add(f"{w}: unknown role (allowed: {', '.join(META_ROLES)})")
            continue
        if not isinstance(m, Mapping):
            problems.add(f"{w}: expected a mapping with id and aliases")
            continue
        problems.keys(w, m, _META_KEYS)
        mid = claim(m.get("id"), w)
        if mid is None:
            continue
        meta[role] = MetaColumn(role=role, id=mid, aliases=_as_str_tuple(m.get("aliases"), f"{w}.aliases", problems),
                                identifier=bool(m.get("identifier", role == "ip")))

    # header aliases must be unambiguous across all columns
    owner: dict[str, str] = {}
    for cid, names in [
        *((i.id, (i.id, i.zh, i.en, *i.aliases)) for i in items.values()),
        *((c.id, (c.id, c.zh, c.en, *c.aliases)) for c in categoricals.values()),
        *((t.id, (t.id, t.zh, t.en, *t.aliases)) for t in texts.values()),
        *((m.id, (m.id, *m.aliases)) for m in meta.values()),
    ]:
        for name in names:
            key = normalize_label(name)
            if not key:
                continue
            if key in owner and owner[key] != cid:
                problems.add(f"header text or alias {name!r} names both {owner[key]!r} and {cid!r}")
            owner.setdefault(key, cid)

    screening_cfg = _screening_section(doc.get("screening"), problems)
    groups_raw = doc.get("groups") or []
    if not isinstance(groups_raw, list) or not all(isinstance(g, str) for g in groups_raw):
        problems.add("groups: expected a list of categorical ids")
        groups_raw = []
    for g in groups_raw:
        if g not in categoricals:
            problems.add(f"groups: {g!r} is not a categorical of the codebook")

    if not items:
        problems.add("items: the codebook defines no items")
    if problems.items:
        raise CodebookError("invalid codebook", file=source, problems=problems.items)
    extra = doc.get("extra") or {}
    return Codebook(
        format_version=int(version), study=dict(study), scales=scales, constructs=constructs,
        items=items, categoricals=categoricals, texts=texts, meta=meta,
        min_answered=float(min_answered), screening=screening_cfg, groups=tuple(groups_raw),
        source=source, sha256=sha256,
        extra=dict(extra) if isinstance(extra, Mapping) else {},
    )


def iter_headers(codebook: Codebook) -> Iterable[tuple[str, str]]:
    """Yield (normalised header text, column id) for every id, question text and alias."""
    for i in codebook.items.values():
        for name in (i.id, i.zh, i.en, *i.aliases):
            if name:
                yield normalize_label(name), i.id
    for c in codebook.categoricals.values():
        for name in (c.id, c.zh, c.en, *c.aliases):
            if name:
                yield normalize_label(name), c.id
    for t in codebook.texts.values():
        for name in (t.id, t.zh, t.en, *t.aliases):
            if name:
                yield normalize_label(name), t.id
    for m in codebook.meta.values():
        for name in (m.id, *m.aliases):
            yield normalize_label(name), m.id
