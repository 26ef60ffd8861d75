"""Reading the qualitative material: theme codebooks, interview notes and coding sheets.

The analyses live in :mod:`servicestudy.qualitative` and never touch files. Everything read
here is masked (:func:`servicestudy.privacy.mask_identifiers`) before it is returned, so no
name, phone, ID number, e-mail, WeChat/QQ id or IP typed into interview notes reaches an
analysis, a figure or a report. Interviews without recorded consent are refused.
"""

from __future__ import annotations

import datetime as _dt
import importlib.resources
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import CodebookError, DataError, ReadError
from .qualitative import ThemeCodebook, parse_themes

__all__ = ["ROLES", "interview_segments", "load_themes", "read_coding_sheet", "read_interviews"]

# role id -> accepted spellings (English and Chinese)
ROLES: dict[str, tuple[str, ...]] = {
    "resident": ("resident", "residents", "居民", "群众", "市民"),
    "officer": ("officer", "police officer", "police", "民警", "警察", "辅警"),
    "community_worker": ("community worker", "community_worker", "社区工作者", "社区干部", "网格员"),
}
_YES = {"yes", "y", "true", "1", "是", "同意", "已同意", "有"}
_NO = {"no", "n", "false", "0", "否", "不同意", "未同意", "无"}
_META_COLUMNS = ("id", "file", "role", "date", "consent")
_TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".docx"}
_INTERVIEWER = re.compile(r"^\s*(?:问|Q|Interviewer|访谈者|采访者)\s*[:：]", re.IGNORECASE)
_SPEAKER = re.compile(r"^\s*(?:答|A|Interviewee|受访者)\s*[:：]\s*", re.IGNORECASE)


def _yaml_load(raw: bytes, source: str) -> Any:
    from .codebook import _LimitedLoader

    try:
        return yaml.load(raw.decode("utf-8-sig"), Loader=_LimitedLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        msg = " ".join(str(exc).split())
        raise CodebookError(f"not valid UTF-8 YAML ({msg[:120]})", file=source) from None


def load_themes(path_or_name: str | Path | ThemeCodebook = "k_station") -> ThemeCodebook:
    """Load a theme codebook: a YAML file, or the name of one shipped with the package.

    Parameters
    ----------
    path_or_name
        A ``.yaml`` path, or a name such as ``"k_station"`` (``servicestudy/themes/``).

    Returns
    -------
    ThemeCodebook

    Raises
    ------
    CodebookError
        Unreadable file, invalid YAML or a codebook that fails :func:`parse_themes`.

    Examples
    --------
    >>> cb = load_themes("k_station")
    >>> cb.version, len(cb.themes), sorted(cb.areas)
    ('1.0.0', 12, ['cause', 'problem', 'recommendation'])
    """
    if isinstance(path_or_name, ThemeCodebook):
        return path_or_name
    text = str(path_or_name)
    p = Path(text)
    if p.suffix.lower() in {".yaml", ".yml"} or "/" in text or "\\" in text:
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise CodebookError(f"cannot read theme codebook ({exc.strerror})", file=p) from None
        source = str(p)
    else:
        res = importlib.resources.files("servicestudy") / "themes" / f"{text}.yaml"
        if not res.is_file():
            raise CodebookError("no theme codebook of that name", value=text, expected="'k_station' or a .yaml path")
        raw = res.read_bytes()
        source = f"themes/{text}.yaml"
    return parse_themes(_yaml_load(raw, source), source=source)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            return pd.read_excel(path, dtype=str, engine="calamine")
        if path.suffix.lower() in {".yaml", ".yml"}:
            doc = _yaml_load(path.read_bytes(), str(path))
            items = doc.get("interviews") if isinstance(doc, dict) else doc
            if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
                raise ReadError("expected a list of interviews (mappings)", file=path,
                                expected="a YAML list under 'interviews:' with id, file, role, date, consent")
            return pd.DataFrame([{k: (None if v is None else str(v)) for k, v in x.items()} for x in items])
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(f"cannot read ({' '.join(str(exc).split())[:120]})", file=path) from None


def _role(value: str, path: Path, row: int) -> str:
    v = " ".join(value.strip().lower().replace("_", " ").split())
    for role, names in ROLES.items():
        if v in {n.replace("_", " ") for n in names}:
            return role
    raise DataError("unknown interviewee role", file=path, row=row, column="role", value=value,
                    expected="resident, officer or community worker (居民, 民警, 社区工作者)")


def _read_notes(path: Path) -> str:
    if path.suffix.lower() == ".docx":
        import docx

        try:
            return "\n\n".join(p.text for p in docx.Document(str(path)).paragraphs)
        except Exception as exc:  # python-docx raises several kinds on a broken file
            raise ReadError(f"not a readable .docx ({type(exc).__name__})", file=path) from None
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (byte {exc.start})", file=path,
                        expected="interview notes saved as UTF-8 .txt/.md or .docx") from None


def read_interviews(metadata: str | Path) -> pd.DataFrame:
    """Read interview metadata and notes; refuse interviews without consent; mask identifiers.

    Parameters
    ----------
    metadata
        A CSV, XLSX or YAML file with one row per interview and the columns ``id`` (a
        pseudonym such as ``I01``: never a name), ``file`` (the notes, relative to the
        metadata file: ``.txt``, ``.md`` or ``.docx``, UTF-8), ``role`` (resident, officer,
        community worker), ``date`` (YYYY-MM-DD) and ``consent`` (yes/no). Other columns are
        ignored and never read into the result.

    Returns
    -------
    DataFrame
        One row per interview: ``interview, role, date, file, text`` where ``text`` is the
        masked notes.

    Raises
    ------
    DataError
        A missing column, an empty or duplicate id, an unknown role, a bad date, a consent
        other than yes/no, or **an interview without consent** (the whole read is refused:
        remove the row or record consent).
    ReadError
        An unreadable metadata or notes file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "I01.md").write_text("# notes\\n\\n答：最好能网上办理。电话13800001234", encoding="utf-8")
    >>> _ = (d / "meta.csv").write_text("id,file,role,date,consent\\nI01,I01.md,民警,2022-03-01,yes\\n", encoding="utf-8")
    >>> read_interviews(d / "meta.csv")[["interview", "role", "text"]].to_numpy().tolist()
    [['I01', 'officer', '# notes\\n\\n答：最好能网上办理。电话[手机号]']]
    """
    from .privacy import mask_identifiers

    path = Path(metadata)
    if not path.is_file():
        raise ReadError("interview metadata file not found", file=path,
                        expected="a CSV/XLSX/YAML file with id, file, role, date, consent")
    meta = _read_table(path)
    meta.columns = [str(c).strip().lower() for c in meta.columns]
    for c in _META_COLUMNS:
        if c not in meta.columns:
            raise DataError("missing column", file=path, column=c, expected=f"columns {', '.join(_META_COLUMNS)}")
    rows = []
    seen: set[str] = set()
    for k, rec in enumerate(meta.to_dict("records")):
        row = k + 2  # header is row 1
        rid = str(rec.get("id") or "").strip()
        if not rid:
            raise DataError("empty interview id", file=path, row=row, column="id", expected="a pseudonym such as I01")
        if mask_identifiers(rid) != rid:
            raise DataError("the interview id looks like personal data", file=path, row=row, column="id",
                            value=mask_identifiers(rid), expected="a pseudonym such as I01")
        if rid in seen:
            raise DataError("duplicate interview id", file=path, row=row, column="id", value=rid)
        seen.add(rid)
        consent = str(rec.get("consent") or "").strip().lower()
        if consent in _NO:
            raise DataError(f"interview {rid} has no recorded consent: it is refused", file=path, row=row,
                            column="consent", value=rec.get("consent"),
                            expected="consent 'yes' (remove the row or record consent first)")
        if consent not in _YES:
            raise DataError("consent must be yes or no", file=path, row=row, column="consent",
                            value=rec.get("consent"), expected="yes/no (是/否)")
        role = _role(str(rec.get("role") or ""), path, row)
        date_text = str(rec.get("date") or "").strip()
        try:
            date = _dt.date.fromisoformat(date_text[:10])
        except ValueError:
            raise DataError("not a date", file=path, row=row, column="date", value=rec.get("date"),
                            expected="YYYY-MM-DD") from None
        fname = str(rec.get("file") or "").strip()
        notes = (path.parent / fname).resolve()
        if not fname or notes.suffix.lower() not in _TEXT_SUFFIXES:
            raise DataError("not a notes file", file=path, row=row, column="file", value=fname,
                            expected=".txt, .md or .docx next to the metadata")
        if not notes.is_file():
            raise ReadError("notes file not found", file=path, row=row, column="file", value=fname)
        text = _read_notes(notes)
        rows.append({"interview": rid, "role": role, "date": date.isoformat(), "file": fname,
                     "text": mask_identifiers(text.replace("\r\n", "\n").replace("\r", "\n"))})
    if not rows:
        raise DataError("no interviews listed", file=path, expected="at least one row")
    return pd.DataFrame(rows)


def interview_segments(interviews: pd.DataFrame) -> pd.DataFrame:
    """Split interview notes into segments (paragraphs) for coding.

    Parameters
    ----------
    interviews
        The result of :func:`read_interviews`.

    Returns
    -------
    DataFrame
        One row per paragraph: ``segment_id`` (``<interview>-<nn>``), ``interview, role,
        speaker, text``. Markdown headings, ``>`` notes and blank lines are not segments;
        paragraphs beginning ``问：``/``Q:`` are the interviewer's (``speaker = interviewer``)
        and the rest the interviewee's, with a leading ``答：``/``A:`` removed.

    Examples
    --------
    >>> iv = pd.DataFrame({"interview": ["I01"], "role": ["officer"], "date": ["2022-03-01"],
    ...                    "file": ["I01.md"], "text": ["# I01\\n\\n问：忙吗？\\n\\n答：警力不足。\\n很忙。"]})
    >>> interview_segments(iv)[["segment_id", "speaker", "text"]].to_numpy().tolist()
    [['I01-01', 'interviewer', '问：忙吗？'], ['I01-02', 'interviewee', '警力不足。 很忙。']]
    """
    rows = []
    for rec in interviews.to_dict("records"):
        k = 0
        for para in re.split(r"\n\s*\n", str(rec["text"])):
            lines = [ln.strip() for ln in para.split("\n") if ln.strip()
                     and not ln.lstrip().startswith(("#", ">", "<!--"))]
            if not lines:
                continue
            text = " ".join(lines)
            k += 1
            interviewer = bool(_INTERVIEWER.match(text))
            rows.append({"segment_id": f"{rec['interview']}-{k:02d}", "interview": rec["interview"],
                         "role": rec["role"], "speaker": "interviewer" if interviewer else "interviewee",
                         "text": text if interviewer else _SPEAKER.sub("", text, count=1)})
    return pd.DataFrame(rows, columns=["segment_id", "interview", "role", "speaker", "text"])


def read_coding_sheet(*paths: str | Path, themes: ThemeCodebook | None = None) -> pd.DataFrame:
    """Read and stack manual coding sheets (CSV or XLSX: ``segment_id, coder, theme``).

    Parameters
    ----------
    *paths
        One sheet per coder, or sheets that each hold several coders.
    themes
        When given, every non-empty theme must be one of its ids.

    Returns
    -------
    DataFrame
        ``segment_id, coder, theme, file, row`` (all text; ``theme`` is ``""`` for "read,
        no theme"); duplicate rows are kept once.

    Raises
    ------
    DataError
        A missing column, an empty segment id or coder, or an unknown theme, named by file
        and row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("segment_id,coder,theme\\n1,A,workload\\n2,A,\\n", encoding="utf-8")
    >>> read_coding_sheet(p)[["segment_id", "coder", "theme"]].to_numpy().tolist()
    [['1', 'A', 'workload'], ['2', 'A', '']]
    """
    if not paths:
        raise DataError("no coding sheet given", expected="one or more CSV/XLSX files")
    frames = []
    for p in map(Path, paths):
        if not p.is_file():
            raise ReadError("coding sheet not found", file=p)
        df = _read_table(p)
        df.columns = [str(c).strip().lower() for c in df.columns]
        for c in ("segment_id", "coder", "theme"):
            if c not in df.columns:
                raise DataError("missing column", file=p, column=c, expected="columns segment_id, coder, theme")
        df = df[["segment_id", "coder", "theme"]].fillna("").astype(str)
        df = df.apply(lambda col: col.str.strip())
        for k, rec in enumerate(df.to_dict("records")):
            for c in ("segment_id", "coder"):
                if not rec[c]:
                    raise DataError(f"empty {c}", file=p, row=k + 2, column=c, expected="a value in every row")
            if themes is not None and rec["theme"] and rec["theme"] not in themes.ids:
                raise DataError("theme not in the theme codebook", file=p, row=k + 2, column="theme",
                                value=rec["theme"], expected=f"one of {', '.join(themes.ids)} or empty")
        df["file"] = p.name
        df["row"] = range(2, len(df) + 2)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(subset=["segment_id", "coder", "theme"]).reset_index(drop=True)
