"""Direct identifiers in survey data: find them, mask them, pseudonymise respondent ids.

A questionnaire export from a Chinese survey platform can carry personal information that the
analysis never needs: the respondent's IP address (a metadata column), and whatever residents
type into open questions ("我叫张伟，电话13812345678，身份证号……"). Under the Personal
Information Protection Law (PIPL, 2021) such data must be minimised. :func:`scrub` is the one
call the pipeline makes before anything is written to ``data/processed`` or a report: it drops
identifier columns, replaces respondent numbers by keyed pseudonyms and masks identifiers in
free text.

What is detected (``kind`` -> mask token):

- ``mobile`` -> ``[手机号]``: mainland mobile numbers ``1[3-9]`` + 9 digits, optionally with
  ``+86``/``0086``/``86`` and ``-`` or space separators (138-1234-5678), not part of a longer
  digit run.
- ``id_number`` -> ``[身份证号]``: resident identity numbers, 18 characters whose last is the
  GB 11643-1999 check character (ISO 7064 MOD 11-2) and which carry a valid birth date; and
  legacy 15-digit numbers with a valid date; and, after a cue (身份证, 身份证号码, 证件号, ...),
  any run of 15-19 digits (the last may be X) whatever its check character. Elsewhere an
  18-digit number with a wrong check character is not flagged (to avoid masking order or
  account numbers).
- ``ipv4``/``ipv6`` -> ``[IP]``: addresses validated by :mod:`ipaddress`.
- ``email`` -> ``[邮箱]``.
- ``wechat`` -> ``[微信号]``: a WeChat ID (6-20 letters, digits, ``_`` or ``-`` starting with a
  letter) or number introduced by 微信/微信号/威信/V信/vx/wx/WeChat/weixin.
- ``qq`` -> ``[QQ号]``: a QQ number (5-11 digits) introduced by QQ/扣扣.
- ``name`` -> ``[姓名]``: a personal name after a cue (我叫, 我是, 姓名, 联系人, 名叫, 本人,
  民警, 警官, 辅警, 所长 ...). After the strong cues (我叫, 姓名, 联系人, 名叫) 2-3 Chinese
  characters are taken; after the weak ones (我是, 本人, 民警, 警官, 辅警, 所长) only a
  common surname (single or compound) followed by one or two characters.

Notes
-----
The name heuristic is deliberately narrow and will miss names without a cue ("张伟帮我办了
证"), nicknames, and names written in pinyin; it may also mask a few words that follow a cue
and happen to start with a surname character (我是王府井附近的居民 -> 我是[姓名]附近的居民;
words after a weak cue that end in 人/员/户/市/州/... are taken for places or groups:
我是温州人 stays as it is).
Free text should still be read by a person before it is published. Landline numbers, bank
cards, licence plates and addresses are not detected.

Pseudonyms are ``R-`` + the first 12 hex digits of HMAC-SHA256(key, id): stable for one key,
unlinkable without it. The key comes from the ``key`` argument, the environment variable
``SERVICESTUDY_KEY``, or a file named by ``SERVICESTUDY_KEY_FILE`` that must lie outside any
git repository. Without a key a random one is drawn for the run, so respondents cannot be
linked across runs (the report returned by :func:`scrub` says so).

Validated against: the worked example of GB 11643-1999 (11010519491231002X) and an
independent implementation of the check character; HMAC-SHA256 from :mod:`hmac`; Hypothesis
properties (every inserted identifier is masked, masking is idempotent) in
``tests/test_privacy.py``.

References
----------
GB 11643-1999 *Citizen identification number*. Standardization Administration of China.
ISO/IEC 7064:2003 *Check character systems* (MOD 11-2).
Krawczyk, H., Bellare, M., & Canetti, R. (1997). *HMAC: Keyed-hashing for message
authentication* (RFC 2104).
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, ReadError

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MASKS",
    "PseudonymKey",
    "find_identifiers",
    "is_valid_id_number",
    "mask_identifiers",
    "pseudonymize",
    "resolve_key",
    "scrub",
]

KEY_ENV = "SERVICESTUDY_KEY"
KEY_FILE_ENV = "SERVICESTUDY_KEY_FILE"
MIN_KEY_BYTES = 16

#: kind -> the token that replaces it in free text.
MASKS: dict[str, str] = {
    "id_number": "[身份证号]",
    "mobile": "[手机号]",
    "email": "[邮箱]",
    "ipv4": "[IP]",
    "ipv6": "[IP]",
    "wechat": "[微信号]",
    "qq": "[QQ号]",
    "name": "[姓名]",
}

# --- patterns ---------------------------------------------------------------------------
# \d would also match full-width digits; people type those on Chinese keyboards.
_D = r"[0-9０-９]"
_ID18 = re.compile(rf"(?<![0-9０-９A-Za-z])[1-9１-９]{_D}{{16}}[0-9０-９XxＸｘ](?![0-9０-９A-Za-z])")
_ID15 = re.compile(rf"(?<![0-9０-９A-Za-z])[1-9１-９]{_D}{{14}}(?![0-9０-９A-Za-z])")
_MOBILE = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+|＋|00)?86[-\s]?)?[1１][3-9３-９]{_D}[-\s]?{_D}{{4}}[-\s]?{_D}{{4}}(?![0-9０-９])"
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?![0-9A-Fa-f:])"
)
_SEP = r"[\s:：是为＝=]*"
_WECHAT = re.compile(
    rf"(?:微信号?|威信|V信|v信|(?<![A-Za-z])(?:vx|wx|wechat|weixin)(?![A-Za-z]))(?:\s*(?:账号|号码|号|ID|id))?{_SEP}"
    r"(?P<id>[A-Za-z][-_A-Za-z0-9]{5,19}|[0-9]{5,11})(?![-_A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])(?P<wxid>wxid_[A-Za-z0-9]{6,30})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# after an explicit cue, any 15-19 character ID-like run counts (typos, fake or partial numbers)
_ID_CUE = re.compile(
    rf"(?:身份证|证件|公民身份)(?:号码|号)?{_SEP}(?P<id>{_D}{{14,18}}[0-9０-９XxＸｘ])(?![0-9０-９A-Za-z])"
)
_QQ = re.compile(rf"(?:(?<![A-Za-z])QQ|扣扣)(?:号码?)?{_SEP}(?P<id>[1-9][0-9]{{4,10}})(?![0-9])", re.IGNORECASE)

# common single surnames (the ~200 most frequent) and compound surnames
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓"
    "修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植"
    "衡富尧闭由"
)
_SURNAMES_2 = (
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "夏侯", "令狐", "澹台", "轩辕", "南宫", "西门", "端木", "独孤", "百里", "呼延", "万俟", "钟离",
)
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
_STOP = "的了在是和与及或也都就还又很我你他她们这那个说啊吧呢吗么，。！？、；："
_GIVEN = f"[^\\W{_STOP}0-9A-Za-z_]"
_NAME_STRONG = re.compile(
    r"(?:我叫|我的名字是|名字叫|名字是|名叫|姓名|联系人|署名|落款)[\s:：为是]*"
    rf"(?P<id>{_SURNAME}{_GIVEN}{{1,2}}|{_GIVEN}{{2,3}})"
)
# a word after a weak cue that ends like this is a place or a group, not a name
_NOT_NAME_END = frozenset("人员族户者们市县区省镇村乡街路州籍")
_NAME_WEAK = re.compile(
    rf"(?:我是|本人|民警|警官|辅警|所长|警察|同志)[\s:：]*(?P<id>{_SURNAME}{_GIVEN}{{1,2}})"
)


def is_valid_id_number(text: str) -> bool:
    """True for an 18-character resident identity number with a valid check character and
    birth date (GB 11643-1999), or a 15-digit legacy number with a valid birth date.

    Parameters
    ----------
    text
        The candidate number (full-width digits and a lower-case ``x`` are accepted: the text
        is NFKC-normalised and upper-cased first).

    Returns
    -------
    bool

    Notes
    -----
    Check character (ISO 7064 MOD 11-2): with weights ``w_i = 2^(17-i) mod 11`` for the
    first 17 digits ``a_i`` (i = 0..16), ``c = (12 - sum a_i w_i mod 11) mod 11``, written
    ``X`` when 10. Digits 7-14 (18-character form) or 7-12 (15-character form, year 19yy)
    must be a real calendar date between 1890 and 2100. The region code is not checked.

    References
    ----------
    GB 11643-1999 *Citizen identification number*. Standardization Administration of China.

    ISO/IEC 7064:2003 *Information technology - Security techniques - Check character
    systems* (MOD 11-2).

    Examples
    --------
    >>> is_valid_id_number("11010519491231002X")
    True
    >>> is_valid_id_number("110105194912310021")
    False

    Validated against: the worked example of GB 11643-1999 (11010519491231002X) and an
    independent implementation of the check character, with invalid check characters,
    impossible dates and wrong lengths (tests/test_privacy.py).
    """
    import unicodedata

    s = unicodedata.normalize("NFKC", text).upper()
    if len(s) == 18 and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X"):
        weights = [pow(2, 17 - i, 11) for i in range(17)]
        total = sum(int(c) * w for c, w in zip(s[:17], weights, strict=True))
        check = (12 - total % 11) % 11
        if s[17] != ("X" if check == 10 else str(check)):
            return False
        y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    elif len(s) == 15 and s.isdigit():
        y, m, d = 1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])
    else:
        return False
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= date(2100, 1, 1)


def _valid_ip(text: str, version: int) -> bool:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    if addr.version != version:
        return False
    # "1.2" style partial matches are excluded by the pattern; require real groups for v6
    return version == 4 or (text.count(":") >= 2 and any(ch.isalnum() for ch in text))


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    text: str


def _scan(text: str) -> list[_Hit]:
    """All identifier spans in ``text``, overlaps resolved (earliest, then longest, wins)."""
    hits: list[_Hit] = []
    for m in _EMAIL.finditer(text):
        hits.append(_Hit(m.start(), m.end(), "email", m.group()))
    for m in _ID18.finditer(text):
        if is_valid_id_number(m.group()):
            hits.append(_Hit(m.start(), m.end(), "id_number", m.group()))
    for m in _ID15.finditer(text):
        if is_valid_id_number(m.group()):
            hits.append(_Hit(m.start(), m.end(), "id_number", m.group()))
    for m in _ID_CUE.finditer(text):
        hits.append(_Hit(m.start("id"), m.end("id"), "id_number", m.group("id")))
    for m in _MOBILE.finditer(text):
        hits.append(_Hit(m.start(), m.end(), "mobile", m.group()))
    for m in _WECHAT.finditer(text):
        g = "id" if m.group("id") is not None else "wxid"
        hits.append(_Hit(m.start(g), m.end(g), "wechat", m.group(g)))
    for m in _QQ.finditer(text):
        hits.append(_Hit(m.start("id"), m.end("id"), "qq", m.group("id")))
    for m in _IPV4.finditer(text):
        if _valid_ip(m.group(), 4):
            hits.append(_Hit(m.start(), m.end(), "ipv4", m.group()))
    if ":" in text:
        for m in _IPV6.finditer(text):
            if _valid_ip(m.group(), 6):
                hits.append(_Hit(m.start(), m.end(), "ipv6", m.group()))
    for m in _NAME_STRONG.finditer(text):
        hits.append(_Hit(m.start("id"), m.end("id"), "name", m.group("id")))
    for m in _NAME_WEAK.finditer(text):
        name = m.group("id")
        if name[-1] in _NOT_NAME_END or text[m.end("id") : m.end("id") + 1] in _NOT_NAME_END:
            continue  # 我是温州人, 我是党员, 我是宁波人: a place or a group, not a name
        hits.append(_Hit(m.start("id"), m.end("id"), "name", name))
    # priority among overlapping spans: the more specific kinds first, then the longer span
    order = {k: i for i, k in enumerate(("email", "id_number", "mobile", "wechat", "qq", "ipv6", "ipv4", "name"))}
    hits.sort(key=lambda h: (order[h.kind], -(h.end - h.start), h.start))
    chosen: list[_Hit] = []
    for h in hits:
        if all(h.end <= c.start or h.start >= c.end for c in chosen):
            chosen.append(h)
    return sorted(chosen, key=lambda h: h.start)


def _mask_text(text: str) -> str:
    """A display form that shows only the ends of a match: 138*******78."""
    n = len(text)
    if n <= 2:
        return text[:1] + "*" if n == 2 else "*"
    keep = 1 if n < 7 else 2
    return text[:keep] + "*" * (n - 2 * keep) + text[-keep:]


def _as_text(value: Any) -> str | None:
    """The text form of a cell for scanning; integral floats lose their ``.0`` so that a
    phone number stored as a number (13812345678.0) is seen as digits."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def find_identifiers(data: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """List the direct identifiers in a table or a column.

    Parameters
    ----------
    data
        A DataFrame or a Series. Text cells are scanned; numbers are scanned as their digits
        (a phone number stored as a number is found); missing values are skipped.

    Returns
    -------
    DataFrame
        One row per identifier found, with columns ``column`` (the column name; the Series
        name for a Series), ``row`` (the index label of the row), ``kind`` (``mobile``,
        ``id_number``, ``ipv4``, ``ipv6``, ``email``, ``wechat``, ``qq``, ``name``),
        ``start``/``end`` (character offsets in the cell's text) and ``match`` (the matched
        text, masked so that the listing itself does not disclose it).

    Raises
    ------
    DataError
        ``data`` is neither a DataFrame nor a Series.

    Notes
    -----
    The patterns and their limits are listed in the module docstring (mobile and resident
    identity numbers, IPv4/IPv6, e-mail, WeChat and QQ after a cue, names after a cue).
    Detection is pattern-based: it finds what the patterns describe and no more, so free
    text should still be read before publication. Boolean columns are skipped.

    References
    ----------
    GB 11643-1999 *Citizen identification number*. Standardization Administration of China.

    ISO/IEC 7064:2003 *Information technology - Security techniques - Check character
    systems* (MOD 11-2).

    Personal Information Protection Law of the People's Republic of China (中华人民共和国个人
    信息保护法), adopted 20 August 2021, in force 1 November 2021; Article 6 (minimisation).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["电话13812345678", "我叫张伟，很满意", "无"], name="suggestion")
    >>> find_identifiers(s)[["row", "kind", "match"]].to_dict("records")
    [{'row': 0, 'kind': 'mobile', 'match': '13*******78'}, {'row': 1, 'kind': 'name', 'match': '张*'}]

    Tested on: hand-written positive and negative cases for every kind, the layout of the
    listing, and a generated Wenjuanxing export with injected identifiers
    (tests/test_privacy.py).
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):
        raise DataError("find_identifiers needs a DataFrame or a Series", value=type(data).__name__)
    records: list[dict[str, Any]] = []
    for j, column in enumerate(frame.columns):
        col = frame.iloc[:, j]
        if pd.api.types.is_bool_dtype(col.dtype):
            continue
        for row, value in col.items():
            text = _as_text(value)
            if not text:
                continue
            for h in _scan(text):
                records.append(
                    {"column": column, "row": row, "kind": h.kind, "start": h.start, "end": h.end,
                     "match": _mask_text(h.text)}
                )
    out = pd.DataFrame(records, columns=["column", "row", "kind", "start", "end", "match"])
    return out.astype({"start": "int64", "end": "int64"})


def mask_identifiers(text: Any, *, counts: Counter[str] | None = None) -> Any:
    """Replace the identifiers in a free-text answer by tokens such as ``[手机号]``.

    Parameters
    ----------
    text
        An open-ended answer. Missing values and non-text values are returned unchanged.
    counts
        Optional :class:`collections.Counter` updated with the number of masks per kind.

    Returns
    -------
    str
        The text with every identifier replaced by its token (see :data:`MASKS`).

    Notes
    -----
    The same detection as :func:`find_identifiers`; overlapping matches are resolved in favour
    of the earliest and then the longest. Masking is idempotent: the tokens contain no
    identifier.

    References
    ----------
    Personal Information Protection Law of the People's Republic of China (中华人民共和国个人
    信息保护法), adopted 20 August 2021, in force 1 November 2021; Article 6 (minimisation).

    Examples
    --------
    >>> mask_identifiers("我叫王小明，手机+86 138-1234-5678，邮箱 wxm@example.com，微信号：wxm_2022")
    '我叫[姓名]，手机[手机号]，邮箱 [邮箱]，微信号：[微信号]'
    >>> mask_identifiers("身份证11010519491231002X，IP 10.0.0.1")
    '身份证[身份证号]，IP [IP]'

    Tested on: every kind by hand, and Hypothesis properties (every identifier inserted into
    random filler text is masked; masking is idempotent) (tests/test_privacy.py).
    """
    if not isinstance(text, str) or not text:
        return text
    hits = _scan(text)
    if not hits:
        return text
    parts: list[str] = []
    pos = 0
    for h in hits:
        parts.append(text[pos : h.start])
        parts.append(MASKS[h.kind])
        pos = h.end
        if counts is not None:
            counts[h.kind] += 1
    parts.append(text[pos:])
    return "".join(parts)


# --- pseudonyms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PseudonymKey:
    """A key for :func:`pseudonymize` and where it came from (the key itself is not shown)."""

    key: bytes
    source: str
    linkable: bool

    def __repr__(self) -> str:  # never print the key
        return f"PseudonymKey(source={self.source!r}, linkable={self.linkable})"


def _inside_git_repository(path: Path) -> Path | None:
    for parent in (path, *path.parents):
        if (parent / ".git").exists():
            return parent
    return None


def _key_bytes(key: bytes | str, where: str) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    raw = raw.strip()
    if len(raw) < MIN_KEY_BYTES:
        raise DataError(
            f"the pseudonym key from {where} is {len(raw)} bytes long",
            expected=f"at least {MIN_KEY_BYTES} bytes (e.g. python -c 'import secrets; print(secrets.token_hex(32))')",
        )
    return raw


def resolve_key(key: bytes | str | PseudonymKey | None = None) -> PseudonymKey:
    """Find the pseudonym key: the argument, else ``$SERVICESTUDY_KEY``, else the file named
    by ``$SERVICESTUDY_KEY_FILE`` (refused when it lies inside a git repository), else a
    random key for this run only (``linkable=False``).

    Parameters
    ----------
    key
        The key as bytes or text (at least 16 bytes), a :class:`PseudonymKey` (returned as
        is), or None to look in the environment.

    Returns
    -------
    PseudonymKey
        The key bytes, a description of where they came from (``source``; never the key
        itself) and whether pseudonyms are linkable across runs.

    Raises
    ------
    DataError
        The key is shorter than 16 bytes.
    ReadError
        The key file is missing, unreadable or inside a git repository.

    Notes
    -----
    Keys must never be committed with the data: a key file inside a git working tree is
    refused. A random key (``secrets.token_bytes(32)``) makes pseudonyms unlinkable across
    runs, which is safe but means the same respondent gets a new pseudonym each run.

    References
    ----------
    Krawczyk, H., Bellare, M., & Canetti, R. (1997). *HMAC: Keyed-hashing for message
    authentication*. RFC 2104, IETF.

    Examples
    --------
    >>> resolve_key("0123456789abcdef0123").source
    'argument'
    >>> k = resolve_key(resolve_key("0123456789abcdef0123"))
    >>> k.linkable
    True

    Tested on: each source in turn (argument, environment variable, key file, a key file
    inside a repository, a missing key file, no key) (tests/test_privacy.py).
    """
    if isinstance(key, PseudonymKey):
        return key
    if key is not None:
        return PseudonymKey(_key_bytes(key, "the key argument"), "argument", True)
    env = os.environ.get(KEY_ENV)
    if env:
        return PseudonymKey(_key_bytes(env, f"${KEY_ENV}"), f"environment variable {KEY_ENV}", True)
    file = os.environ.get(KEY_FILE_ENV)
    if file:
        path = Path(file).expanduser()
        if not path.is_file():
            raise ReadError("pseudonym key file not found", file=path, expected=f"a file named by ${KEY_FILE_ENV}")
        repo = _inside_git_repository(path.resolve())
        if repo is not None:
            raise ReadError(
                f"refusing a pseudonym key file inside the git repository {str(repo)!r}",
                file=path,
                expected="a key file outside any repository (keys must never be committed)",
            )
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"cannot read the pseudonym key file ({exc.strerror or exc})", file=path) from None
        return PseudonymKey(_key_bytes(raw, str(path)), f"key file ${KEY_FILE_ENV}", True)
    return PseudonymKey(
        secrets.token_bytes(32),
        "random key for this run (no key given; respondents cannot be linked across runs)",
        False,
    )


def _id_text(value: Any) -> str | None:
    text = _as_text(value)
    return None if text is None else text.strip()


def pseudonymize(
    values: Iterable[Any] | pd.Series,
    *,
    key: bytes | str | PseudonymKey,
    prefix: str = "R-",
    length: int = 12,
) -> pd.Series:
    """Keyed pseudonyms for respondent ids: ``prefix`` + HMAC-SHA256(key, id) truncated.

    Parameters
    ----------
    values
        Respondent ids (numbers or text). A number and its text form (``7``, ``7.0``, ``"7"``)
        get the same pseudonym; missing values stay missing.
    key
        The secret key (at least 16 bytes), or a :class:`PseudonymKey` from
        :func:`resolve_key`. The same key gives the same pseudonyms in every run.
    prefix
        Text put before the hex digest.
    length
        Number of hex digits kept (12 = 48 bits: collisions are unlikely below millions of
        respondents; a collision raises :class:`~servicestudy.errors.DataError`).

    Returns
    -------
    Series
        Pseudonyms (``str`` dtype) with the index and name of ``values``.

    Raises
    ------
    DataError
        A key shorter than 16 bytes, ``length`` outside 8-64, or two ids with the same
        pseudonym.

    Notes
    -----
    ``pseudonym = prefix + hex(HMAC-SHA256(key, utf8(id)))[:length]``, the id written as
    text (an integral float as an integer). Without the key the pseudonyms cannot be linked
    back to the ids by trying every plausible id, which a plain hash would allow.

    References
    ----------
    Krawczyk, H., Bellare, M., & Canetti, R. (1997). *HMAC: Keyed-hashing for message
    authentication*. RFC 2104, IETF.

    Examples
    --------
    >>> s = pseudonymize([1, 2, 1.0], key="a key of sixteen bytes or more")
    >>> bool(s.str.startswith("R-").all()), s[0] == s[2], s[0] == s[1], len(s[0])
    (True, True, False, 14)

    Validated against: Python's :mod:`hmac` (``hmac.new(key, id, sha256)``) computed in the
    test, and Hypothesis properties (stable and distinct for distinct ids)
    (tests/test_privacy.py).
    """
    if not 8 <= length <= 64:
        raise DataError("pseudonym length out of range", value=length, expected="8 to 64 hex digits")
    k = key.key if isinstance(key, PseudonymKey) else _key_bytes(key, "the key argument")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    cache: dict[str, str] = {}
    out: list[Any] = []
    for v in series.tolist():
        text = _id_text(v)
        if text is None or text == "":
            out.append(None)
            continue
        if text not in cache:
            digest = hmac.digest(k, text.encode("utf-8"), "sha256").hex()  # = hmac.new(...).hexdigest()
            cache[text] = prefix + digest[:length]
        out.append(cache[text])
    if len(set(cache.values())) < len(cache):
        raise DataError("two respondent ids got the same pseudonym", expected="a longer pseudonym length")
    return pd.Series(out, index=series.index, name=series.name, dtype="str")


# --- scrub ------------------------------------------------------------------------------


def _fully_identifier(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    hits = _scan(text)
    if len(hits) == 1 and hits[0].start == 0 and hits[0].end == len(text) and hits[0].kind != "name":
        return hits[0].kind
    return None


def _mostly_identifiers(col: pd.Series, threshold: float) -> str | None:
    """The identifier kind if more than ``threshold`` of the non-missing cells are entirely one
    identifier (a phone-number or e-mail column), else None."""
    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return None
    if pd.api.types.is_float_dtype(col.dtype) or pd.api.types.is_integer_dtype(col.dtype):
        # only numbers with 11+ digits can be phone or ID numbers
        vals = col.dropna()
        if vals.empty or float(np.nanmax(np.abs(vals.to_numpy(dtype=float)))) < 1e10:
            return None
    counts = col.dropna().value_counts()
    if counts.empty:
        return None
    total = int(counts.sum())
    kinds: Counter[str] = Counter()
    for value, n in counts.items():
        text = _as_text(value)
        kind = _fully_identifier(text) if text else None
        if kind is not None:
            kinds[kind] += int(n)
    if kinds and sum(kinds.values()) > threshold * total:
        return kinds.most_common(1)[0][0]
    return None


def scrub(
    df: pd.DataFrame,
    codebook: Any,
    *,
    key: bytes | str | PseudonymKey | None = None,
    threshold: float = 0.5,
    pseudonymize_ids: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Remove direct identifiers from a survey table before it is written anywhere.

    Steps, in order:

    1. drop the metadata columns the codebook marks ``identifier: true`` (e.g. ``ip``);
    2. drop every other column in which more than ``threshold`` of the non-missing cells are
       entirely an identifier (a column of phone numbers, e-mails, ID numbers, IPs);
    3. replace the respondent-id column (codebook role ``respondent_id``; also the index when
       it carries that name) by keyed pseudonyms, see :func:`pseudonymize`;
    4. mask identifiers inside every remaining text cell (free-text answers first of all),
       see :func:`mask_identifiers`.

    Parameters
    ----------
    df
        The table (raw headers mapped to codebook ids, or coded data).
    codebook
        A :class:`~servicestudy.codebook.Codebook` or the name/path of one.
    key
        The pseudonym key; default: see :func:`resolve_key`.
    threshold
        Share of cells above which a column counts as an identifier column.
    pseudonymize_ids
        ``False`` skips step 3 and keeps the platform's respondent numbers (sequence numbers,
        not identifiers by themselves), so that an intermediate file stays deterministic
        without a key and can be traced back to the raw export; no key is then needed.

    Returns
    -------
    (DataFrame, dict)
        The scrubbed copy and a report: ``dropped_columns`` (column -> reason),
        ``pseudonymized`` (the id column or None), ``masked`` (kind -> number of masks),
        ``masked_cells`` (column -> number of cells changed), ``key_source`` and
        ``linkable_across_runs``. The report never contains the key or an identifier.

    Raises
    ------
    DataError
        ``df`` is not a DataFrame, or the key is too short.
    ReadError
        A key file cannot be used (see :func:`resolve_key`).

    Notes
    -----
    Data minimisation as PIPL Art. 6 asks: what the analysis does not need is removed before
    anything is written. ``scrub`` does not make data anonymous in the statistical sense
    (combinations of demographics can still single out a respondent in a small cell).

    References
    ----------
    Personal Information Protection Law of the People's Republic of China (中华人民共和国个人
    信息保护法), adopted 20 August 2021, in force 1 November 2021; Article 6 (minimisation).

    Examples
    --------
    >>> import pandas as pd
    >>> from servicestudy.codebook import load_codebook
    >>> df = pd.DataFrame({"resp_id": [1, 2], "ip": ["10.1.2.3", "10.1.2.4"],
    ...                    "suggestion": ["请联系13812345678", "很好"]})
    >>> clean, rep = scrub(df, load_codebook("k_station"), key="0123456789abcdef-demo")
    >>> list(clean.columns), clean["suggestion"].tolist(), rep["masked"]
    (['resp_id', 'suggestion'], ['请联系[手机号]', '很好'], {'mobile': 1})

    Tested on: a table with every kind of identifier, the index as id column and a random
    key, and end to end: no injected identifier reaches the processed files or the prepared
    report data of a generated Wenjuanxing export (tests/test_privacy.py).
    """
    from .codebook import Codebook, load_codebook

    cb = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    if not isinstance(df, pd.DataFrame):
        raise DataError("scrub needs a DataFrame", value=type(df).__name__)
    pkey = resolve_key(key) if pseudonymize_ids else None
    out = df.copy()
    dropped: dict[str, str] = {}
    meta: Mapping[str, Any] = cb.meta
    id_col = meta["respondent_id"].id if "respondent_id" in meta else None

    for m in meta.values():
        if m.identifier and m.id in out.columns:
            dropped[str(m.id)] = f"codebook marks {m.role!r} as an identifier"
    out = out.drop(columns=[c for c in out.columns if str(c) in dropped])
    for c in list(out.columns):
        if c == id_col:
            continue
        kind = _mostly_identifiers(out[c], threshold) if not isinstance(out[c], pd.DataFrame) else None
        if kind is not None:
            dropped[str(c)] = f"mostly {kind} values"
            out = out.drop(columns=[c])

    pseudonymized = None
    if pkey is not None and id_col is not None and id_col in out.columns:
        out[id_col] = pseudonymize(out[id_col], key=pkey)
        pseudonymized = id_col
    if pkey is not None and id_col is not None and out.index.name == id_col:
        out.index = pd.Index(pseudonymize(pd.Series(out.index), key=pkey).tolist(), name=id_col, dtype="str")
        pseudonymized = id_col

    counts: Counter[str] = Counter()
    masked_cells: dict[str, int] = {}
    memo: dict[str, tuple[str, Counter[str]]] = {}

    def mask(v: Any) -> Any:
        """mask_identifiers(v, counts=counts), each distinct text scanned once."""
        if not isinstance(v, str):
            return v
        hit = memo.get(v)
        if hit is None:
            found: Counter[str] = Counter()
            hit = memo[v] = (mask_identifiers(v, counts=found), found)
        if hit[1]:
            counts.update(hit[1])
        return hit[0]

    for j, c in enumerate(out.columns):
        if c == id_col:
            continue
        col = out.iloc[:, j]
        if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
            continue
        new = col.map(mask)
        changed = int((new.fillna("") != col.fillna("")).sum()) if len(col) else 0
        if changed:
            out.iloc[:, j] = new
            masked_cells[str(c)] = changed

    report = {
        "dropped_columns": dropped,
        "pseudonymized": pseudonymized,
        "n_pseudonyms": int(out[id_col].nunique()) if pseudonymized and id_col in out.columns else 0,
        "masked": dict(sorted(counts.items())),
        "masked_cells": masked_cells,
        "key_source": pkey.source if pkey is not None else None,
        "linkable_across_runs": pkey.linkable if pkey is not None else None,
    }
    return out, report
