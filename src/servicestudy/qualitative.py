"""The qualitative half: segment, code, count and quote open answers and interview notes.

Pure functions (no file I/O; :mod:`servicestudy.textio` reads interview notes, coding sheets
and theme codebooks). The flow::

    texts (masked) --code_themes(themes)--> ThemeCoding (which words matched)
      --theme_frequencies / theme_cooccurrence / theme_satisfaction / representative_quotes
    manual coding sheets --coder_agreement (Cohen's kappa, Krippendorff's alpha)
                         --combine_codings--> the same codes table

Chinese text is segmented with ``rjieba`` (a Rust port of jieba) and a user dictionary of the
domain's terms shipped with the package; English text is split into words. Everything is
deterministic: no random numbers, results sorted by fixed keys.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._results import Result
from .errors import CodebookError, DataError

__all__ = [
    "AREAS",
    "Agreement",
    "CoderAgreement",
    "JointDisplay",
    "QualitativeAnalysis",
    "TextTable",
    "Theme",
    "ThemeCodebook",
    "ThemeCoding",
    "analyse_qualitative",
    "code_themes",
    "coder_agreement",
    "cohen_kappa",
    "combine_codings",
    "joint_display",
    "keyword_frequencies",
    "krippendorff_alpha",
    "parse_themes",
    "representative_quotes",
    "segment_text",
    "survey_evidence",
    "theme_cooccurrence",
    "theme_frequencies",
    "theme_satisfaction",
]

AREAS = ("problem", "cause", "recommendation")
_ROLES_EXPECTED = "a mapping with 'format: servicestudy-themes', 'areas', 'groups' and 'themes'"


# --- segmentation ---------------------------------------------------------------------------


def _lexicon(name: str) -> tuple[str, ...]:
    text = (importlib.resources.files("servicestudy") / "lexicon" / name).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(unicodedata.normalize("NFKC", line).lower())
    return tuple(out)


@functools.cache
def _stopwords() -> frozenset[str]:
    return frozenset(_lexicon("stopwords_zh.txt") + _lexicon("stopwords_en.txt"))


@functools.cache
def _segmenter(extra: tuple[str, ...]) -> Any:
    import rjieba

    seg = rjieba.Jieba()
    for word in (*_lexicon("userdict_zh.txt"), *extra):
        seg.add_word(word, None, None)
    return seg


_MASK_TOKEN = re.compile(r"\[(?:身份证号|手机号|邮箱|IP|微信号|QQ号|姓名)\]")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in token)


def segment_text(text: Any, *, stopwords: bool = True, userdict: Sequence[str] = (),
                 min_length: int = 1) -> list[str]:
    """Split a Chinese or English text into words.

    Parameters
    ----------
    text
        One answer or paragraph. Missing values and empty text give ``[]``.
    stopwords
        Drop the stop words shipped with the package (``lexicon/stopwords_zh.txt``,
        ``lexicon/stopwords_en.txt``).
    userdict
        Extra terms kept as one word, added to the shipped user dictionary
        (``lexicon/userdict_zh.txt``: 派出所, 最多跑一次, 户籍, 出入境, 110, ...).
    min_length
        Drop words shorter than this many characters.

    Returns
    -------
    list of str
        Words in order, NFKC-normalised and lower-cased; punctuation, spaces and the masks of
        :func:`servicestudy.privacy.mask_identifiers` (``[手机号]`` ...) are dropped.

    Notes
    -----
    Chinese is cut by ``rjieba`` (jieba's dictionary and algorithm: maximum-probability path
    over the prefix dictionary) without the HMM for unknown words, so the result depends only
    on the dictionaries. Latin-script runs come out as whole words.

    References
    ----------
    Sun, J. (2012-2020). *jieba: Chinese text segmentation*. https://github.com/fxsjy/jieba;
    rjieba, the Python binding of jieba-rs (messense).

    Examples
    --------
    >>> segment_text("我去派出所办理户籍，最多跑一次！")
    ['去', '派出所', '办理', '户籍', '最多跑一次']
    >>> segment_text("The police station is too busy", min_length=2)
    ['police', 'station', 'busy']

    Tested on: a fixed corpus with expected tokens (tests/test_qualitative.py).
    """
    if not isinstance(text, str) or not text.strip():
        return []
    norm = _MASK_TOKEN.sub(" ", unicodedata.normalize("NFKC", text)).lower()
    seg = _segmenter(tuple(_normalise(w) for w in userdict))
    stop = _stopwords() if stopwords else frozenset()
    return [t for t in seg.cut(norm, hmm=False)
            if _is_word(t) and t.strip() == t and len(t) >= min_length and t not in stop]


# --- theme codebook -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Theme:
    """One theme: its group, labels and the terms that code it."""

    id: str
    group: str
    area: str
    zh: str
    en: str
    keywords: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


@dataclasses.dataclass(frozen=True)
class ThemeCodebook:
    """A versioned, bilingual theme codebook (see :func:`servicestudy.textio.load_themes`)."""

    study: str
    version: str
    areas: Mapping[str, Mapping[str, str]]
    groups: Mapping[str, Mapping[str, str]]
    themes: tuple[Theme, ...]
    source: str = "<dict>"

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    def group_label(self, group: str, lang: str = "en") -> str:
        return str(self.groups[group][lang])

    def area_label(self, area: str, lang: str = "en") -> str:
        return str(self.areas[area][lang])

    def themes_in(self, *, group: str | None = None, area: str | None = None) -> list[str]:
        return [t.id for t in self.themes
                if (group is None or t.group == group) and (area is None or t.area == area)]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "theme": t.id, "group": t.group, "area": t.area, "zh": t.zh, "en": t.en,
            "keywords": "; ".join(t.keywords), "patterns": "; ".join(t.patterns),
            "exclude": "; ".join(t.exclude)} for t in self.themes])


def _str_list(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise CodebookError("must be a list of non-empty terms", file=source, column=where, value=value,
                            expected="a YAML list such as [网上, online]")
    return tuple(str(v) for v in value)


def parse_themes(doc: Any, *, source: str = "<dict>") -> ThemeCodebook:
    """Check a theme codebook (the parsed YAML) and build a :class:`ThemeCodebook`.

    Raises
    ------
    CodebookError
        A missing section, a theme without keywords or patterns, an unknown group or area, a
        duplicate theme id, or a pattern that is not a regular expression.

    Examples
    --------
    >>> cb = parse_themes({"format": "servicestudy-themes", "version": 1, "study": "demo",
    ...     "themes_version": "0.1", "areas": {"problem": {"zh": "问题", "en": "Problems"}},
    ...     "groups": {"queues": {"area": "problem", "zh": "排队", "en": "Queues"}},
    ...     "themes": [{"id": "queue", "group": "queues", "zh": "排队", "en": "Queues",
    ...                 "keywords": ["排队", "queue"]}]})
    >>> cb.ids, cb.theme("queue").area
    (['queue'], 'problem')
    """
    if not isinstance(doc, Mapping) or doc.get("format") != "servicestudy-themes":
        raise CodebookError("not a theme codebook", file=source, expected=_ROLES_EXPECTED)
    if doc.get("version") != 1:
        raise CodebookError("unsupported theme codebook version", file=source, column="version",
                            value=doc.get("version"), expected="1")
    for key in ("areas", "groups", "themes", "study", "themes_version"):
        if key not in doc:
            raise CodebookError(f"missing section {key!r}", file=source, expected=_ROLES_EXPECTED)
    areas = doc["areas"]
    if not isinstance(areas, Mapping) or not set(areas) <= set(AREAS):
        raise CodebookError("unknown area", file=source, column="areas", value=list(areas or ()),
                            expected=f"areas among {list(AREAS)}")
    for a, lab in areas.items():
        if not isinstance(lab, Mapping) or not {"zh", "en"} <= set(lab):
            raise CodebookError("an area needs zh and en labels", file=source, column=f"areas.{a}", value=lab)
    groups = doc["groups"]
    if not isinstance(groups, Mapping):
        raise CodebookError("groups must be a mapping", file=source, column="groups", value=groups)
    for g, spec in groups.items():
        if not isinstance(spec, Mapping) or spec.get("area") not in areas or not {"zh", "en"} <= set(spec):
            raise CodebookError("a group needs an area and zh and en labels", file=source,
                                column=f"groups.{g}", value=spec, expected=f"area among {list(areas)}")
    themes: list[Theme] = []
    seen: set[str] = set()
    if not isinstance(doc["themes"], list) or not doc["themes"]:
        raise CodebookError("themes must be a non-empty list", file=source, column="themes")
    for k, spec in enumerate(doc["themes"]):
        where = f"themes[{k}]"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("id"), str):
            raise CodebookError("a theme needs an id", file=source, column=where, value=spec)
        tid = spec["id"]
        if tid in seen:
            raise CodebookError("duplicate theme id", file=source, column=where, value=tid)
        seen.add(tid)
        group = spec.get("group")
        if group not in groups:
            raise CodebookError("unknown group", file=source, column=f"{where}.group", value=group,
                                expected=f"one of {sorted(groups)}")
        if not isinstance(spec.get("zh"), str) or not isinstance(spec.get("en"), str):
            raise CodebookError("a theme needs zh and en labels", file=source, column=where, value=tid)
        keywords = _str_list(spec.get("keywords"), f"{where}.keywords", source)
        patterns = _str_list(spec.get("patterns"), f"{where}.patterns", source)
        exclude = _str_list(spec.get("exclude"), f"{where}.exclude", source)
        if not keywords and not patterns:
            raise CodebookError("a theme needs keywords or patterns", file=source, column=where, value=tid)
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise CodebookError(f"not a regular expression ({exc})", file=source,
                                    column=f"{where}.patterns", value=p) from None
        themes.append(Theme(id=tid, group=group, area=str(groups[group]["area"]), zh=spec["zh"],
                            en=spec["en"], keywords=keywords, patterns=patterns, exclude=exclude))
    return ThemeCodebook(study=str(doc["study"]), version=str(doc["themes_version"]),
                         areas={a: dict(v) for a, v in areas.items()},
                         groups={g: dict(v) for g, v in groups.items()},
                         themes=tuple(themes), source=source)


# --- rule coding ----------------------------------------------------------------------------


def _term_regex(term: str) -> re.Pattern[str]:
    norm = _normalise(term)
    if norm.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(norm)}(?![a-z0-9])")
    return re.compile(re.escape(norm))


@functools.cache
def _compiled(theme: Theme) -> tuple[list[tuple[str, re.Pattern[str]]], list[re.Pattern[str]]]:
    terms = [(t, _term_regex(t)) for t in theme.keywords]
    terms += [(p, re.compile(p, re.IGNORECASE)) for p in theme.patterns]
    return terms, [_term_regex(x) for x in theme.exclude]


def _match_theme(norm: str, theme: Theme) -> list[tuple[str, int, int]]:
    terms, excl = _compiled(theme)
    text = norm
    for rx in excl:
        text = rx.sub(lambda m: "\x00" * len(m.group(0)), text)
    hits = [(m.start(), -(m.end() - m.start()), term, m.end())
            for term, rx in terms for m in rx.finditer(text) if m.end() > m.start()]
    hits.sort()
    out: list[tuple[str, int, int]] = []
    end = -1
    for start, _, term, stop in hits:  # longest match first at each position; no overlaps
        if start >= end:
            out.append((term, start, stop))
            end = stop
    return out


@dataclasses.dataclass(frozen=True)
class ThemeCoding(Result):
    """Themes coded for each text segment, and the words that coded them.

    Attributes
    ----------
    codes
        Boolean DataFrame, one row per segment (index = segment id), one column per theme.
    answered
        Boolean Series: the segment has text (missing and blank answers are kept, uncoded).
    matches
        Long table ``segment_id, theme, term, start, end``: every match, offsets into the
        NFKC-normalised, lower-cased text.
    themes
        The :class:`ThemeCodebook` used.
    """

    codes: pd.DataFrame
    answered: pd.Series
    matches: pd.DataFrame
    themes: ThemeCodebook

    @property
    def n_segments(self) -> int:
        return len(self.codes)

    @property
    def n_answered(self) -> int:
        return int(self.answered.sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per segment: ``segment_id, answered, n_themes, themes, matched``."""
        by_seg: dict[Any, list[str]] = {}
        for r in self.matches.itertuples(index=False):
            by_seg.setdefault(r.segment_id, []).append(f"{r.theme}:{r.term}")
        return pd.DataFrame({
            "segment_id": self.codes.index.to_list(),
            "answered": self.answered.to_numpy(bool),
            "n_themes": self.codes.sum(axis=1).to_numpy(np.int64),
            "themes": ["+".join(c for c, v in row.items() if v) for _, row in self.codes.iterrows()],
            "matched": ["; ".join(by_seg.get(s, [])) for s in self.codes.index],
        })


def _as_series(texts: Any) -> pd.Series:
    if isinstance(texts, pd.Series):
        s = texts
    elif isinstance(texts, Mapping):
        s = pd.Series(dict(texts), dtype=object)
    else:
        s = pd.Series(list(texts), dtype=object)
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise DataError("segment ids must be unique", column="segment_id", value=dup)
    return s


def code_themes(texts: pd.Series | Sequence[Any] | Mapping[Any, Any], themes: ThemeCodebook) -> ThemeCoding:
    """Code text segments with the themes of a theme codebook, by rule.

    Parameters
    ----------
    texts
        One text per segment (an open answer or an interview paragraph), masked beforehand;
        a Series is indexed by segment id. Missing or blank texts are kept as unanswered.
    themes
        The theme codebook (:func:`servicestudy.textio.load_themes`).

    Returns
    -------
    ThemeCoding
        ``codes`` (segments x themes, boolean), ``answered`` and ``matches`` (which words
        matched where).

    Notes
    -----
    The text is NFKC-normalised and lower-cased. For each theme the spans matched by its
    exclusions are blanked out, then its keywords (Chinese: substrings; ASCII: whole words)
    and regular-expression patterns are searched; at each position the longest match wins
    and matches do not overlap. A theme is coded when at least one match remains. The rule
    reads each segment alone, so coding is deterministic and order-free.

    Examples
    --------
    >>> from servicestudy.textio import load_themes
    >>> cb = load_themes("k_station")
    >>> c = code_themes(["希望开通网上办理，不用排队", "警力不足，排队太久", None], cb)
    >>> c.to_frame()[["themes", "matched"]].to_numpy().tolist()
    [['online_services', 'online_services:网上'], ['in_person_only+workload', 'in_person_only:排队; workload:警力不足'], ['', '']]

    Validated against: hand-coded examples and the simulated answers' known theme rates
    (tests/test_qualitative.py).
    """
    s = _as_series(texts)
    answered = s.map(lambda v: isinstance(v, str) and bool(v.strip())).astype(bool)
    codes = np.zeros((len(s), len(themes.themes)), dtype=bool)
    rows: list[tuple[Any, str, str, int, int]] = []
    for i, (sid, value) in enumerate(s.items()):
        if not answered.iloc[i]:
            continue
        norm = _normalise(value)
        for j, theme in enumerate(themes.themes):
            hits = _match_theme(norm, theme)
            if hits:
                codes[i, j] = True
                rows.extend((sid, theme.id, term, a, b) for term, a, b in hits)
    matches = pd.DataFrame(rows, columns=["segment_id", "theme", "term", "start", "end"])
    matches = matches.astype({"start": "int64", "end": "int64"})
    return ThemeCoding(codes=pd.DataFrame(codes, index=s.index, columns=themes.ids),
                       answered=pd.Series(answered.to_numpy(bool), index=s.index, name="answered"),
                       matches=matches, themes=themes)


def _codes(coding: ThemeCoding | pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    if isinstance(coding, ThemeCoding):
        return coding.codes, coding.answered
    if isinstance(coding, pd.DataFrame):
        codes = coding.astype(bool)
        return codes, pd.Series(True, index=codes.index, name="answered")
    raise DataError("expected a ThemeCoding or a boolean DataFrame of codes", value=type(coding).__name__)


# --- frequencies ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TextTable(Result):
    """A table result of the qualitative analyses; ``table`` is what ``to_frame()`` returns."""

    table: pd.DataFrame
    what: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _wilson(count: int, n: int, conf_level: float) -> tuple[float, float]:
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _check_level(conf_level: float) -> None:
    if not (isinstance(conf_level, float | int) and 0 < conf_level < 1):
        raise DataError("conf_level must be between 0 and 1", column="conf_level", value=conf_level)


def theme_frequencies(coding: ThemeCoding | pd.DataFrame, *, by: pd.Series | None = None,
                      base: str = "answered", conf_level: float = 0.95) -> TextTable:
    """How often each theme is raised, overall and by respondent group, with Wilson CIs.

    Parameters
    ----------
    coding
        A :class:`ThemeCoding` or a boolean codes table (segments x themes).
    by
        Group labels aligned with the segments (e.g. residence, or the interviewee's role);
        ``None`` for the overall frequencies only. Segments with a missing group are counted
        in ``all`` and in no group.
    base
        ``"answered"`` (share of segments with text) or ``"all"`` (share of all segments).
    conf_level
        Confidence level of the Wilson score interval.

    Returns
    -------
    TextTable
        Columns ``group, theme, count, n_obs, proportion, ci_low, ci_high``; group ``"all"``
        first, then the groups in order of appearance (categorical order when categorical).

    Notes
    -----
    Wilson score interval: :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n +
    z^2/4n^2}}{1+z^2/n}` (R ``prop.test(x, n, correct = FALSE)``).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA*, 22(158), 209-212.

    Examples
    --------
    >>> codes = pd.DataFrame({"a": [True, False, True, True], "b": [False, False, True, False]})
    >>> theme_frequencies(codes).to_frame()[["theme", "count", "proportion"]].to_numpy().tolist()
    [['a', 3, 0.75], ['b', 1, 0.25]]

    Validated against: R 4.2.2 ``prop.test(correct = FALSE)`` (tests/reference/qualitative.R).
    """
    _check_level(conf_level)
    if base not in ("answered", "all"):
        raise DataError("unknown base", column="base", value=base, expected="'answered' or 'all'")
    codes, answered = _codes(coding)
    keep = answered if base == "answered" else pd.Series(True, index=codes.index)
    parts: list[tuple[str, pd.Series]] = [("all", keep)]
    if by is not None:
        by = pd.Series(by)
        if len(by) != len(codes):
            raise DataError("group labels are not aligned with the segments", column="by",
                            value=len(by), expected=f"{len(codes)} labels")
        by = pd.Series(by.to_numpy(), index=codes.index, dtype=by.dtype)
        levels = list(by.cat.categories) if isinstance(by.dtype, pd.CategoricalDtype) else list(pd.unique(by.dropna()))
        parts += [(str(g), keep & (by == g).fillna(False).astype(bool)) for g in levels]
    rows = []
    for g, mask in parts:
        n = int(mask.sum())
        for t in codes.columns:
            k = int((codes[t] & mask).sum())
            lo, hi = _wilson(k, n, conf_level)
            rows.append({"group": g, "theme": t, "count": k, "n_obs": n,
                         "proportion": k / n if n else math.nan, "ci_low": lo, "ci_high": hi})
    return TextTable(pd.DataFrame(rows), what="theme_frequencies")


def theme_cooccurrence(coding: ThemeCoding | pd.DataFrame) -> TextTable:
    """How often two themes are raised in the same segment.

    Returns
    -------
    TextTable
        Square table (themes x themes) of counts of segments coded with both; the diagonal
        holds each theme's count.

    Examples
    --------
    >>> codes = pd.DataFrame({"a": [True, True, False], "b": [True, False, True]})
    >>> theme_cooccurrence(codes).to_frame().to_numpy().tolist()
    [[2, 1], [1, 2]]
    """
    codes, _ = _codes(coding)
    x = codes.to_numpy(np.int64)
    return TextTable(pd.DataFrame(x.T @ x, index=codes.columns, columns=codes.columns), what="theme_cooccurrence")


def keyword_frequencies(texts: pd.Series | Sequence[Any], *, top: int = 20, min_length: int = 2,
                        userdict: Sequence[str] = ()) -> TextTable:
    """The most frequent words of a set of texts (stop words removed).

    Returns
    -------
    TextTable
        Columns ``word, count, n_segments`` (segments using the word), sorted by count
        descending, then word; at most ``top`` rows.

    Examples
    --------
    >>> keyword_frequencies(["网上办理很方便", "希望网上办理更多业务", "排队太久"]).to_frame().head(2).to_numpy().tolist()
    [['办理', 2, 2], ['网上', 2, 2]]
    """
    counts: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    for value in _as_series(texts):
        words = segment_text(value, min_length=min_length, userdict=userdict)
        counts.update(words)
        docs.update(set(words))
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return TextTable(pd.DataFrame({"word": [w for w, _ in rows], "count": [c for _, c in rows],
                                   "n_segments": [docs[w] for w, _ in rows]}), what="keyword_frequencies")


def _t_ci(v: np.ndarray, conf_level: float) -> tuple[float, float, float, float]:
    from scipy import stats

    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - half, m + half


def theme_satisfaction(coding: ThemeCoding | pd.DataFrame, satisfaction: pd.Series, *,
                       conf_level: float = 0.95) -> TextTable:
    """Mean satisfaction of the respondents who raise each theme, beside those who do not.

    Parameters
    ----------
    coding
        Codes of the respondents' open answers (one segment per respondent).
    satisfaction
        Satisfaction score per respondent, aligned with the segments; missing scores are left
        out of both means (counted in ``n_missing``).
    conf_level
        Level of the t intervals.

    Returns
    -------
    TextTable
        Columns ``theme, n_with, mean_with, ci_low, ci_high, n_without, mean_without,
        difference, diff_ci_low, diff_ci_high, n_missing``. "Without" means answered but did
        not raise the theme.

    Notes
    -----
    ``ci`` is the one-sample t interval :math:`\\bar x \\pm t_{n-1} s/\\sqrt n`; the
    difference interval is Welch's (R ``t.test(with, without)``). Respondents choose what to
    write, so these are descriptive contrasts, not effects.

    Examples
    --------
    >>> codes = pd.DataFrame({"a": [True, True, False, False]})
    >>> theme_satisfaction(codes, pd.Series([2.0, 3.0, 4.0, 5.0])).to_frame()[["mean_with", "mean_without", "difference"]].to_numpy().tolist()
    [[2.5, 4.5, -2.0]]

    Validated against: R 4.2.2 ``t.test`` (tests/reference/qualitative.R).
    """
    from scipy import stats

    _check_level(conf_level)
    codes, answered = _codes(coding)
    sat = pd.Series(pd.Series(satisfaction).to_numpy(float), index=codes.index)
    if len(sat) != len(codes):
        raise DataError("satisfaction is not aligned with the segments", value=len(sat),
                        expected=f"{len(codes)} values")
    ok = answered & sat.notna()
    rows = []
    for t in codes.columns:
        a = sat[ok & codes[t]].to_numpy(float)
        b = sat[ok & ~codes[t]].to_numpy(float)
        m1, s1, lo, hi = _t_ci(a, conf_level)
        m2, s2, _, _ = _t_ci(b, conf_level)
        d = m1 - m2 if a.size and b.size else math.nan
        dlo = dhi = math.nan
        if a.size > 1 and b.size > 1:
            v1, v2 = s1 * s1 / a.size, s2 * s2 / b.size
            if v1 + v2 > 0:
                df = (v1 + v2) ** 2 / (v1 * v1 / (a.size - 1) + v2 * v2 / (b.size - 1))
                half = float(stats.t.ppf(0.5 + conf_level / 2, df)) * math.sqrt(v1 + v2)
                dlo, dhi = d - half, d + half
        rows.append({"theme": t, "n_with": int(a.size), "mean_with": m1, "ci_low": lo, "ci_high": hi,
                     "n_without": int(b.size), "mean_without": m2, "difference": d,
                     "diff_ci_low": dlo, "diff_ci_high": dhi,
                     "n_missing": int((answered & sat.isna()).sum())})
    return TextTable(pd.DataFrame(rows), what="theme_satisfaction")


def representative_quotes(coding: ThemeCoding, texts: pd.Series | Sequence[Any], *,
                          ids: pd.Series | Sequence[str] | None = None, per_theme: int = 2,
                          max_chars: int = 80) -> TextTable:
    """Quotes for each theme, chosen by a fixed rule and masked.

    Parameters
    ----------
    coding
        The rule coding of ``texts``.
    texts
        The segments' texts, aligned with ``coding``.
    ids
        Pseudonymous ids to show with the quotes (e.g. ``"I03 (officer)"``); by default
        ``"S001"``, ``"S002"``, ... by position. Masked like the texts.
    per_theme
        Number of quotes per theme.
    max_chars
        Longer texts are cut to this many characters and end with "…".

    Returns
    -------
    TextTable
        Columns ``theme, rank, id, quote, terms``.

    Notes
    -----
    The rule: among the segments coded with the theme, prefer the one with the most distinct
    matched terms of that theme, then the shorter text, then the earlier segment; a segment
    already quoted for an earlier theme of the codebook is skipped when another is available.
    Every quote and id passes through :func:`servicestudy.privacy.mask_identifiers`.

    Examples
    --------
    >>> from servicestudy.textio import load_themes
    >>> c = code_themes(["警力不足，人手不够", "警力不足", "很好"], load_themes("k_station"))
    >>> representative_quotes(c, ["警力不足，人手不够", "警力不足", "很好"], per_theme=1).to_frame().to_numpy().tolist()
    [['workload', 1, 'S001', '警力不足，人手不够', '警力不足; 人手不够']]
    """
    from .privacy import mask_identifiers

    s = _as_series(texts)
    if len(s) != len(coding.codes):
        raise DataError("texts are not aligned with the coding", value=len(s), expected=f"{len(coding.codes)} texts")
    pos = {sid: k for k, sid in enumerate(coding.codes.index)}
    id_list = [f"S{k + 1:03d}" for k in range(len(s))] if ids is None else [str(v) for v in ids]
    if len(id_list) != len(s):
        raise DataError("ids are not aligned with the texts", value=len(id_list), expected=f"{len(s)} ids")
    used: set[int] = set()
    rows = []
    for t in coding.codes.columns:
        m = coding.matches[coding.matches["theme"] == t]
        terms: dict[int, list[str]] = {}
        for r in m.itertuples(index=False):
            lst = terms.setdefault(pos[r.segment_id], [])
            if r.term not in lst:
                lst.append(r.term)
        cands = sorted(terms, key=lambda k: (-len(terms[k]), len(str(s.iloc[k])), k))
        fresh = [k for k in cands if k not in used]
        chosen = (fresh + [k for k in cands if k in used])[:per_theme]
        for rank, k in enumerate(chosen, 1):
            used.add(k)
            text = mask_identifiers(" ".join(str(s.iloc[k]).split()))
            if len(text) > max_chars:
                text = text[: max_chars - 1] + "…"
            rows.append({"theme": t, "rank": rank, "id": mask_identifiers(id_list[k]), "quote": text,
                         "terms": "; ".join(terms[k])})
    return TextTable(pd.DataFrame(rows, columns=["theme", "rank", "id", "quote", "terms"]),
                     what="representative_quotes")


# --- agreement between coders ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Agreement(Result):
    """An agreement coefficient between coders."""

    estimate: float
    method: str
    n_units: int
    n_coders: int
    observed: float
    expected: float


def cohen_kappa(a: Sequence[Any] | pd.Series, b: Sequence[Any] | pd.Series) -> Agreement:
    """Cohen's kappa between two coders' nominal codes of the same units.

    Parameters
    ----------
    a, b
        The two coders' codes (any hashable labels), aligned by position. Units where either
        code is missing are left out (``n_units`` counts the units used).

    Returns
    -------
    Agreement
        ``estimate`` = kappa, ``observed`` = :math:`p_o`, ``expected`` = :math:`p_e`.

    Notes
    -----
    :math:`\\kappa = (p_o - p_e)/(1 - p_e)` with :math:`p_o` the share of units on which the
    coders agree and :math:`p_e = \\sum_k p_{a,k} p_{b,k}` from each coder's own marginal
    distribution (unweighted kappa, as R ``irr::kappa2(weight = "unweighted")``). When
    :math:`p_e = 1` (both coders used one and the same code) kappa is undefined: NaN.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
    Psychological Measurement*, 20(1), 37-46.

    Examples
    --------
    >>> round(cohen_kappa([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 1]).estimate, 6)
    0.333333

    Validated against: an independent base-R implementation (tests/reference/qualitative.R).
    """
    x = pd.Series(list(a), dtype=object)
    y = pd.Series(list(b), dtype=object)
    if len(x) != len(y):
        raise DataError("the two coders' codes differ in length", value=f"{len(x)} vs {len(y)}",
                        expected="one code per unit from each coder")
    ok = x.notna() & y.notna()
    x, y = x[ok].to_numpy(), y[ok].to_numpy()
    n = len(x)
    if n == 0:
        return Agreement(math.nan, "cohen_kappa", 0, 2, math.nan, math.nan)
    po = float(np.mean(x == y))
    cats = sorted(set(x) | set(y), key=str)
    pe = float(sum(np.mean(x == c) * np.mean(y == c) for c in cats))
    kappa = (po - pe) / (1 - pe) if pe < 1 else math.nan
    return Agreement(kappa, "cohen_kappa", n, 2, po, pe)


def krippendorff_alpha(data: pd.DataFrame | np.ndarray, *, level: str = "nominal") -> Agreement:
    """Krippendorff's alpha for any number of coders, with missing codes.

    Parameters
    ----------
    data
        Units x coders (one row per unit, one column per coder); NaN = not coded.
    level
        ``"nominal"`` or ``"interval"`` (the difference function).

    Returns
    -------
    Agreement
        ``estimate`` = alpha, ``observed`` = :math:`D_o`, ``expected`` = :math:`D_e`;
        ``n_units`` counts the pairable units (coded by at least two coders).

    Notes
    -----
    From the coincidence matrix :math:`o_{ck} = \\sum_u \\frac{\\#(c,k \\text{ pairs in } u)}
    {m_u - 1}` over units with :math:`m_u \\ge 2` codes, :math:`n_c = \\sum_k o_{ck}`,
    :math:`n = \\sum_c n_c`: :math:`\\alpha = 1 - (n-1)\\frac{\\sum_{c,k} o_{ck}\\delta^2_{ck}}
    {\\sum_{c,k} n_c n_k \\delta^2_{ck}}`, with :math:`\\delta^2 = [c \\ne k]` (nominal) or
    :math:`(c-k)^2` (interval). Returned ``observed`` and ``expected`` are
    :math:`D_o = \\sum o\\delta^2/n` and :math:`D_e = \\sum n_c n_k \\delta^2 / (n(n-1))`.

    References
    ----------
    Krippendorff, K. (2011). *Computing Krippendorff's alpha-reliability*. Annenberg School
    for Communication, University of Pennsylvania. (Worked example C: nominal alpha 0.743,
    interval 0.849.)

    Examples
    --------
    >>> nan = float("nan")
    >>> d = pd.DataFrame({"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...                   "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...                   "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...                   "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]})
    >>> round(krippendorff_alpha(d).estimate, 3), round(krippendorff_alpha(d, level="interval").estimate, 3)
    (0.743, 0.849)

    Validated against: Krippendorff's (2011) worked example and an independent base-R
    implementation (tests/reference/qualitative.R); the ``krippendorff`` package (0.9.0) gives
    the same values (docs/qualitative.md).
    """
    if level not in ("nominal", "interval"):
        raise DataError("unknown level", column="level", value=level, expected="'nominal' or 'interval'")
    frame = pd.DataFrame(data)
    if level == "interval":
        try:
            frame = frame.astype(float)
        except (TypeError, ValueError):
            raise DataError("interval alpha needs numeric codes", column="level", value=level) from None
    values = sorted(set(frame.stack().dropna().tolist()), key=lambda v: (str(type(v)), v))
    index = {v: i for i, v in enumerate(values)}
    q = len(values)
    o = np.zeros((q, q))
    n_units = 0
    for _, row in frame.iterrows():
        codes = [index[v] for v in row.dropna().tolist()]
        m = len(codes)
        if m < 2:
            continue
        n_units += 1
        cnt = np.bincount(codes, minlength=q).astype(float)
        o += (np.outer(cnt, cnt) - np.diag(cnt)) / (m - 1)
    nc = o.sum(axis=1)
    n = nc.sum()
    if q == 0 or n <= 1:
        return Agreement(math.nan, f"krippendorff_alpha_{level}", n_units, frame.shape[1], math.nan, math.nan)
    if level == "nominal":
        delta = 1.0 - np.eye(q)
    else:
        v = np.asarray(values, dtype=float)
        delta = (v[:, None] - v[None, :]) ** 2
    do = float((o * delta).sum() / n)
    de = float((np.outer(nc, nc) * delta).sum() / (n * (n - 1)))
    alpha = 1 - do / de if de > 0 else math.nan
    return Agreement(alpha, f"krippendorff_alpha_{level}", n_units, frame.shape[1], do, de)


def _check_sheet(sheet: pd.DataFrame) -> pd.DataFrame:
    need = ["segment_id", "coder", "theme"]
    missing = [c for c in need if c not in sheet.columns]
    if missing:
        raise DataError("a coding sheet needs the columns segment_id, coder, theme", column=missing[0],
                        expected="columns segment_id, coder, theme")
    out = sheet[need].copy()
    out["segment_id"] = out["segment_id"].astype(str)
    out["coder"] = out["coder"].astype(str)
    out["theme"] = out["theme"].where(out["theme"].notna(), "").astype(str).str.strip()
    return out


@dataclasses.dataclass(frozen=True)
class CoderAgreement(Result):
    """Agreement of two coders, theme by theme (``table``) and pooled over all themes."""

    table: pd.DataFrame
    coders: tuple[str, str]
    n_segments: int
    kappa_pooled: float
    alpha_pooled: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _presence(sheet: pd.DataFrame, coder: str, segments: list[str], themes: list[str]) -> pd.DataFrame:
    sub = sheet[sheet["coder"] == coder]
    out = pd.DataFrame(False, index=segments, columns=themes)
    coded = sub[sub["theme"] != ""]
    for sid, t in zip(coded["segment_id"], coded["theme"], strict=True):
        if sid in out.index and t in out.columns:
            out.loc[sid, t] = True
    return out


def coder_agreement(sheet: pd.DataFrame, *, coders: Sequence[str] | None = None,
                    themes: Sequence[str] | ThemeCodebook | None = None) -> CoderAgreement:
    """Cohen's kappa and Krippendorff's alpha of two coders, per theme and pooled.

    Parameters
    ----------
    sheet
        Long coding sheet with columns ``segment_id, coder, theme`` (one row per theme a coder
        gave a segment; a row with an empty theme records a segment read and given no theme).
    coders
        The two coders to compare; by default the sheet must name exactly two.
    themes
        Theme ids (or the codebook) to report; by default every theme in the sheet.

    Returns
    -------
    CoderAgreement
        ``table``: ``theme, n_segments, count_a, count_b, agreement, kappa, alpha`` where each
        theme is a present/absent decision per segment; ``kappa_pooled`` and ``alpha_pooled``
        treat every (segment, theme) decision as one unit.

    Notes
    -----
    Only segments that both coders read enter (``n_segments``); a segment read by one coder
    only raises :class:`~servicestudy.errors.DataError` naming it, since agreement on it is
    not defined. Alpha is nominal.

    Examples
    --------
    >>> sheet = pd.DataFrame({"segment_id": ["1", "1", "2", "3", "1", "2", "3"],
    ...                       "coder": ["A", "A", "A", "A", "B", "B", "B"],
    ...                       "theme": ["x", "y", "x", "", "x", "", "y"]})
    >>> coder_agreement(sheet).to_frame()[["theme", "agreement"]].to_numpy().tolist()
    [['x', 0.6666666666666666], ['y', 0.3333333333333333]]
    """
    s = _check_sheet(sheet)
    names = list(dict.fromkeys(s["coder"])) if coders is None else [str(c) for c in coders]
    if len(names) != 2:
        raise DataError("agreement needs exactly two coders", column="coder", value=names,
                        expected="two coders (pass coders=[...] to choose)")
    a, b = names
    seg_a = set(s.loc[s["coder"] == a, "segment_id"])
    seg_b = set(s.loc[s["coder"] == b, "segment_id"])
    only = sorted(seg_a ^ seg_b)
    if only:
        who = a if only[0] in seg_a else b
        raise DataError(f"segment coded by {who!r} only", column="segment_id", value=only[0],
                        expected="every segment read by both coders (an empty theme records 'no theme')")
    segments = sorted(seg_a, key=lambda v: (len(v), v))
    if isinstance(themes, ThemeCodebook):
        theme_ids = themes.ids
    elif themes is None:
        theme_ids = sorted({t for t in s["theme"] if t})
    else:
        theme_ids = list(themes)
    if isinstance(themes, ThemeCodebook) or themes is not None:
        unknown = sorted({t for t in s["theme"] if t} - set(theme_ids))
        if unknown:
            raise DataError("theme not in the theme codebook", column="theme", value=unknown[0],
                            expected=f"one of {theme_ids}")
    pa = _presence(s, a, segments, theme_ids)
    pb = _presence(s, b, segments, theme_ids)
    rows = []
    for t in theme_ids:
        k = cohen_kappa(pa[t].astype(int), pb[t].astype(int))
        al = krippendorff_alpha(pd.DataFrame({a: pa[t].astype(int), b: pb[t].astype(int)}))
        rows.append({"theme": t, "n_segments": len(segments), "count_a": int(pa[t].sum()),
                     "count_b": int(pb[t].sum()), "agreement": k.observed, "kappa": k.estimate,
                     "alpha": al.estimate})
    va = pa.to_numpy(int).ravel()
    vb = pb.to_numpy(int).ravel()
    kp = cohen_kappa(va, vb).estimate
    ap = krippendorff_alpha(pd.DataFrame({a: va, b: vb})).estimate
    return CoderAgreement(pd.DataFrame(rows), (a, b), len(segments), kp, ap)


def combine_codings(sheet: pd.DataFrame, *, rule: str = "union",
                    themes: Sequence[str] | ThemeCodebook | None = None) -> pd.DataFrame:
    """Combine coders' sheets into one codes table (segments x themes, boolean).

    Parameters
    ----------
    sheet
        Long coding sheet ``segment_id, coder, theme`` (several coders).
    rule
        ``"union"`` (a theme is coded when any coder gave it), ``"all"`` (every coder who read
        the segment gave it) or ``"majority"`` (more than half of them).
    themes
        Columns of the result; by default every theme in the sheet.

    Returns
    -------
    DataFrame
        Boolean codes indexed by segment id, usable wherever a :class:`ThemeCoding` is.

    Examples
    --------
    >>> sheet = pd.DataFrame({"segment_id": [1, 1, 2], "coder": ["A", "B", "A"], "theme": ["x", "x", "y"]})
    >>> combine_codings(sheet, rule="all").to_numpy().tolist()
    [[True, False], [False, True]]
    """
    if rule not in ("union", "all", "majority"):
        raise DataError("unknown rule", column="rule", value=rule, expected="'union', 'all' or 'majority'")
    s = _check_sheet(sheet)
    theme_ids = (themes.ids if isinstance(themes, ThemeCodebook)
                 else sorted({t for t in s["theme"] if t}) if themes is None else list(themes))
    segments = sorted(set(s["segment_id"]), key=lambda v: (len(v), v))
    readers = s.groupby("segment_id")["coder"].nunique()
    coded = s[s["theme"] != ""].drop_duplicates()
    votes = coded.groupby(["segment_id", "theme"])["coder"].nunique()
    out = pd.DataFrame(False, index=pd.Index(segments, name="segment_id"), columns=theme_ids)
    for (sid, t), v in votes.items():
        if t not in out.columns:
            continue
        m = readers[sid]
        out.loc[sid, t] = v >= 1 if rule == "union" else v == m if rule == "all" else v > m / 2
    return out


# --- joint display --------------------------------------------------------------------------


def survey_evidence(themes: ThemeCodebook, scores: pd.DataFrame, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Mean and t interval of the questionnaire score named by each recommendation group.

    Parameters
    ----------
    themes
        The theme codebook; a recommendation group's ``survey:`` key names a construct.
    scores
        Construct scores per respondent (columns named by construct, e.g. ``attitude`` or
        ``score_attitude``).

    Returns
    -------
    DataFrame
        Indexed by group: ``construct, estimate, sd, ci_low, ci_high, n_obs`` (groups whose
        construct is not among the scores are left out: no survey evidence).

    Examples
    --------
    >>> from servicestudy.textio import load_themes
    >>> ev = survey_evidence(load_themes(), pd.DataFrame({"score_forms": [3.0, 4.0, 5.0]}))
    >>> ev.loc["wider_services", "construct"], float(ev.loc["wider_services", "estimate"])
    ('forms', 4.0)
    """
    _check_level(conf_level)
    rows = {}
    for g, spec in themes.groups.items():
        c = spec.get("survey")
        if spec["area"] != "recommendation" or not c:
            continue
        col = c if c in scores.columns else f"score_{c}" if f"score_{c}" in scores.columns else None
        if col is None:
            continue
        v = scores[col].dropna().to_numpy(float)
        m, sd, lo, hi = _t_ci(v, conf_level)
        rows[g] = {"construct": c, "estimate": m, "sd": sd, "ci_low": lo, "ci_high": hi, "n_obs": int(v.size)}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["construct", "estimate", "sd", "ci_low", "ci_high", "n_obs"])



@dataclasses.dataclass(frozen=True)
class JointDisplay(Result):
    """Mixed-methods joint display: one row per recommendation group."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def joint_display(themes: ThemeCodebook, *, survey: pd.DataFrame, answers: ThemeCoding | None = None,
                  interviews: ThemeCoding | None = None, quotes: pd.DataFrame | None = None,
                  lang: str = "en") -> JointDisplay:
    """Survey evidence beside open-answer and interview evidence for each recommendation group.

    Parameters
    ----------
    themes
        The theme codebook; its groups in the ``recommendation`` area give the rows.
    survey
        One row per recommendation group (index = group id) with the survey evidence, e.g. the
        columns ``construct, estimate, ci_low, ci_high`` of the matching scale score. Groups
        without a row show no survey evidence.
    answers, interviews
        Rule codings of the open answers and of the interview segments (either may be None).
    quotes
        A :func:`representative_quotes` table of the interviews (or answers); the first quote
        of any theme in the group is shown.
    lang
        Language of the labels.

    Returns
    -------
    JointDisplay
        Columns ``group, label, survey_construct, survey_estimate, survey_ci_low,
        survey_ci_high, answers_count, answers_n, interviews_count, interviews_n, quote_id,
        quote``: counts are segments raising any theme of the group.
    """
    rows = []
    for g, spec in themes.groups.items():
        if spec["area"] != "recommendation":
            continue
        ids = themes.themes_in(group=g)
        row: dict[str, Any] = {"group": g, "label": spec[lang if lang in ("en", "zh") else "en"]}
        ev = survey.loc[g] if g in survey.index else None
        row["survey_construct"] = None if ev is None else str(ev.get("construct", ""))
        for k in ("estimate", "ci_low", "ci_high"):
            row[f"survey_{k}"] = math.nan if ev is None else float(ev.get(k, math.nan))
        for name, coding in (("answers", answers), ("interviews", interviews)):
            if coding is None:
                row[f"{name}_count"], row[f"{name}_n"] = 0, 0
                continue
            raised = coding.codes[ids].any(axis=1) & coding.answered
            row[f"{name}_count"] = int(raised.sum())
            row[f"{name}_n"] = coding.n_answered
        q = None if quotes is None else quotes[quotes["theme"].isin(ids)]
        if q is not None and len(q):
            q = q.sort_values(["rank", "theme"], key=lambda c: c.map(ids.index) if c.name == "theme" else c)
            row["quote_id"], row["quote"] = str(q.iloc[0]["id"]), str(q.iloc[0]["quote"])
        else:
            row["quote_id"], row["quote"] = "", ""
        rows.append(row)
    return JointDisplay(pd.DataFrame(rows))



# --- everything at once ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class QualitativeAnalysis(Result):
    """The qualitative half in one object: codings and every table (see :meth:`summary`)."""

    themes: ThemeCodebook
    answers: ThemeCoding | None
    interviews: ThemeCoding | None
    segments: pd.DataFrame | None
    tables: Mapping[str, pd.DataFrame]

    def summary(self) -> dict[str, pd.DataFrame]:
        """Every table by name (``answer_frequencies``, ``interview_frequencies``, ...)."""
        return {k: v.copy() for k, v in self.tables.items()}

    def to_frame(self) -> pd.DataFrame:
        """Theme frequencies of the open answers and of the interviews, side by side."""
        return pd.concat([v.assign(source=k) for k, v in self.tables.items() if k.endswith("_frequencies")],
                         ignore_index=True)


def analyse_qualitative(answers: pd.Series | None, themes: ThemeCodebook, *,
                        groups: pd.DataFrame | None = None, satisfaction: pd.Series | None = None,
                        interviews: pd.DataFrame | None = None, survey: pd.DataFrame | None = None,
                        answer_ids: pd.Series | None = None, conf_level: float = 0.95,
                        per_theme: int = 2, top: int = 20) -> QualitativeAnalysis:
    """Code and count the open answers and the interview segments; quotes; joint display.

    Parameters
    ----------
    answers
        Masked open answers, one per respondent (index = respondent id), or None.
    themes
        The theme codebook.
    groups
        Respondent group variables aligned with ``answers`` (one column per variable) for the
        frequencies by group.
    satisfaction
        Overall satisfaction score aligned with ``answers``.
    interviews
        Interview segments (:func:`servicestudy.textio.interview_segments`); only the
        interviewees' segments are coded.
    survey
        Survey evidence per recommendation group for the joint display (see
        :func:`joint_display`).
    answer_ids
        Pseudonymous ids shown with quotes of open answers (default ``S001``...).
    conf_level, per_theme, top
        Confidence level, quotes per theme, number of keywords.

    Returns
    -------
    QualitativeAnalysis
        ``tables``: ``answer_frequencies`` (overall and by each group variable, column
        ``variable``), ``answer_cooccurrence``, ``answer_keywords``, ``theme_satisfaction``,
        ``answer_quotes``, ``interview_frequencies`` (overall and by role),
        ``interview_cooccurrence``, ``interview_keywords``, ``interview_quotes``,
        ``joint_display``; tables without data are absent.

    Examples
    --------
    >>> from servicestudy.textio import load_themes
    >>> res = analyse_qualitative(pd.Series(["希望网上办理", "警力不足", ""]), load_themes())
    >>> sorted(res.summary())
    ['answer_cooccurrence', 'answer_frequencies', 'answer_keywords', 'answer_quotes', 'joint_display']
    """
    tables: dict[str, pd.DataFrame] = {}
    a_cod = i_cod = None
    said = None
    if answers is not None:
        a = _as_series(answers)
        a_cod = code_themes(a, themes)
        parts = [theme_frequencies(a_cod, conf_level=conf_level).table.assign(variable="all")]
        if groups is not None:
            for var in groups.columns:
                f = theme_frequencies(a_cod, by=groups[var], conf_level=conf_level).table
                parts.append(f[f["group"] != "all"].assign(variable=str(var)))
        tables["answer_frequencies"] = pd.concat(parts, ignore_index=True)
        tables["answer_cooccurrence"] = theme_cooccurrence(a_cod).table
        tables["answer_keywords"] = keyword_frequencies(a, top=top).table
        if satisfaction is not None:
            tables["theme_satisfaction"] = theme_satisfaction(a_cod, satisfaction, conf_level=conf_level).table
        tables["answer_quotes"] = representative_quotes(a_cod, a, ids=answer_ids, per_theme=per_theme).table
    if interviews is not None and len(interviews):
        seg = interviews[interviews["speaker"] == "interviewee"].reset_index(drop=True)
        said = pd.Series(seg["text"].to_numpy(), index=seg["segment_id"].to_numpy(), dtype=object)
        i_cod = code_themes(said, themes)
        f_all = theme_frequencies(i_cod, conf_level=conf_level).table.assign(variable="all")
        f_role = theme_frequencies(i_cod, by=seg["role"], conf_level=conf_level).table
        tables["interview_frequencies"] = pd.concat(
            [f_all, f_role[f_role["group"] != "all"].assign(variable="role")], ignore_index=True)
        # interviews raising each theme (an interview counts once)
        per_iv = i_cod.codes.groupby(seg["interview"].to_numpy()).any()
        tables["interview_counts"] = pd.DataFrame({
            "theme": per_iv.columns, "interviews": per_iv.sum().to_numpy(np.int64),
            "n_interviews": len(per_iv)})
        tables["interview_cooccurrence"] = theme_cooccurrence(i_cod).table
        tables["interview_keywords"] = keyword_frequencies(said, top=top).table
        ids = [f"{i} ({r})" for i, r in zip(seg["interview"], seg["role"], strict=True)]
        tables["interview_quotes"] = representative_quotes(i_cod, said, ids=ids, per_theme=per_theme).table
    quotes = tables.get("interview_quotes", tables.get("answer_quotes"))
    tables["joint_display"] = joint_display(
        themes, survey=survey if survey is not None else pd.DataFrame(), answers=a_cod, interviews=i_cod,
        quotes=quotes).table
    return QualitativeAnalysis(themes=themes, answers=a_cod, interviews=i_cod,
                               segments=None if interviews is None else interviews.copy(), tables=tables)
