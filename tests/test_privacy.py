"""Tests of servicestudy.privacy: identifier detection, masking, pseudonyms and scrub."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicestudy.codebook import load_codebook
from servicestudy.errors import DataError, ReadError
from servicestudy.privacy import (
    MASKS,
    find_identifiers,
    is_valid_id_number,
    mask_identifiers,
    pseudonymize,
    resolve_key,
    scrub,
)

KEY = "test-key-0123456789abcdef"


def gb11643(first17: str) -> str:
    """The check character of GB 11643-1999, written out from the standard's definition:
    a_i weights W_i = 2^(i-1) mod 11 for i = 18..2, check = (12 - sum mod 11) mod 11."""
    total = sum(int(d) * (2 ** (18 - i) % 11) for i, d in enumerate(first17, start=1))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


# the example printed in the standard itself
STANDARD_EXAMPLE = "11010519491231002X"
VALID_ID = gb11643("33030419850712341")  # a Wenzhou (3303xx) code, born 1985-07-12
BAD_CHECK = VALID_ID[:17] + str((int(VALID_ID[17]) + 1) % 10 if VALID_ID[17] != "X" else 0)


def kinds(text: str) -> list[str]:
    return find_identifiers(pd.Series([text]))["kind"].tolist()


def test_checksum_helper_matches_standard_example():
    assert gb11643(STANDARD_EXAMPLE[:17]) == STANDARD_EXAMPLE


@pytest.mark.parametrize("number", [STANDARD_EXAMPLE, STANDARD_EXAMPLE.lower(), VALID_ID, "110105491231002"])
def test_valid_id_numbers(number):
    assert is_valid_id_number(number)
    assert kinds(f"身份证号{number}。") == ["id_number"]


@pytest.mark.parametrize(
    "number",
    [BAD_CHECK, "110105194913310027", "110105491331002", "1101051949123100"],
)
def test_invalid_id_numbers_are_not_flagged(number):
    assert not is_valid_id_number(number)
    assert "id_number" not in kinds(number)


@pytest.mark.parametrize("number", [BAD_CHECK, "000000199001349900X", "３３０３０４１９８５０７１２３４１Ｘ"])
def test_id_like_numbers_after_a_cue_are_flagged(number):
    assert kinds(f"身份证号：{number}，可核实") == ["id_number"]
    assert mask_identifiers(f"我的身份证{number}") == "我的身份证[身份证号]"


@pytest.mark.parametrize(
    "text",
    ["13812345678", "电话:13812345678。", "+86 138 1234 5678", "+8613812345678", "0086-19912345678",
     "138-1234-5678", "１３８１２３４５６７８", "我的手机是15957712345谢谢"],
)
def test_mobile_numbers(text):
    assert kinds(text) == ["mobile"]


@pytest.mark.parametrize("text", ["12345678901", "138123456789", "2138123456789", "订单号 1381234567"])
def test_not_mobile_numbers(text):
    assert "mobile" not in kinds(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("来自 192.168.1.20 的访问", "ipv4"),
        ("8.8.8.8", "ipv4"),
        ("2001:db8::1", "ipv6"),
        ("fe80::1ff:fe23:4567:890a 登录", "ipv6"),
        ("邮箱zhang.san+survey@example.com.cn谢谢", "email"),
        ("微信：zhangsan_88", "wechat"),
        ("加我微信号 Wang-2022 聊", "wechat"),
        ("wx:abc123456", "wechat"),
        ("WeChat ID: foo_bar9", "wechat"),
        ("wxid_a1b2c3d4e5", "wechat"),
        ("QQ：123456789", "qq"),
    ],
)
def test_other_identifiers(text, kind):
    assert kinds(text) == [kind]


@pytest.mark.parametrize(
    "text",
    ["999.1.1.1", "版本1.2.3", "10:30:00", "2022-10-01 10:30:00", "服务很好", "满意度 4.5 分",
     "我是本地居民", "wxyz_hello123", "a@b", "我是温州人", "我是党员，常来办事", "我是宁波人在这上班"],
)
def test_no_false_positives(text):
    assert kinds(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我叫李明，来办户口", "李明"),
        ("姓名：欧阳娜娜", "欧阳娜娜"),
        ("联系人 张三", "张三"),
        ("感谢民警王刚的帮助", "王刚"),
        ("我是陈小红，住在瓯海", "陈小红"),
        ("我是王建民", "王建民"),
        ("我叫阿依古丽", "阿依古"),  # no known surname: 2-3 characters after a strong cue
    ],
)
def test_names_after_cues(text, name):
    found = find_identifiers(pd.Series([text]))
    assert found["kind"].tolist() == ["name"]
    start, end = int(found["start"].iloc[0]), int(found["end"].iloc[0])
    assert text[start:end] == name


def test_find_identifiers_layout_and_masking():
    df = pd.DataFrame(
        {"a": ["13812345678", None, "ok"], "b": [1.0, 13912345678.0, np.nan]},
        index=[10, 11, 12],
    )
    found = find_identifiers(df)
    assert list(found.columns) == ["column", "row", "kind", "start", "end", "match"]
    assert found[["column", "row", "kind"]].values.tolist() == [["a", 10, "mobile"], ["b", 11, "mobile"]]
    assert found["match"].tolist() == ["13*******78", "13*******78"]
    empty = find_identifiers(pd.DataFrame({"x": ["无"]}))
    assert empty.empty
    assert list(empty.columns) == list(found.columns)


def test_mask_identifiers_all_kinds():
    text = (
        f"我叫张伟，身份证{VALID_ID}，电话+86 139-5771-2345，邮箱 zw@163.com，"
        "微信：zhangwei_1990，IP 10.20.30.40 或 2001:db8::8a2e:370:7334，QQ 87654321。"
    )
    masked = mask_identifiers(text)
    assert masked == (
        "我叫[姓名]，身份证[身份证号]，电话[手机号]，邮箱 [邮箱]，"
        "微信：[微信号]，IP [IP] 或 [IP]，QQ [QQ号]。"
    )
    assert mask_identifiers(None) is None
    assert mask_identifiers("服务很好") == "服务很好"


def test_pseudonymize_is_keyed_hmac():
    s = pseudonymize(pd.Series([7, 8, 7.0, None, "7"], name="resp_id"), key=KEY)
    expected = "R-" + hmac.new(KEY.encode(), b"7", hashlib.sha256).hexdigest()[:12]
    assert s.iloc[0] == expected
    assert s.iloc[2] == expected
    assert s.iloc[4] == expected
    assert pd.isna(s.iloc[3])
    assert s.iloc[1] != expected
    assert s.name == "resp_id"
    other = pseudonymize([7], key=KEY + "x")
    assert other.iloc[0] != expected
    with pytest.raises(DataError, match="at least 16 bytes"):
        pseudonymize([1], key="short")


def test_resolve_key_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("SERVICESTUDY_KEY", raising=False)
    monkeypatch.delenv("SERVICESTUDY_KEY_FILE", raising=False)
    random1, random2 = resolve_key(), resolve_key()
    assert not random1.linkable
    assert random1.key != random2.key
    assert "cannot be linked" in random1.source
    assert KEY not in repr(resolve_key(KEY))

    monkeypatch.setenv("SERVICESTUDY_KEY", KEY)
    assert resolve_key().key == KEY.encode()
    monkeypatch.delenv("SERVICESTUDY_KEY")

    outside = tmp_path / "outside" / "study.key"
    outside.parent.mkdir()
    outside.write_text(KEY + "\n")
    monkeypatch.setenv("SERVICESTUDY_KEY_FILE", str(outside))
    got = resolve_key()
    assert got.key == KEY.encode()
    assert got.linkable

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "keys").mkdir()
    inside = repo / "keys" / "study.key"
    inside.write_text(KEY)
    monkeypatch.setenv("SERVICESTUDY_KEY_FILE", str(inside))
    with pytest.raises(ReadError, match="inside the git repository"):
        resolve_key()
    monkeypatch.setenv("SERVICESTUDY_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ReadError, match="not found"):
        resolve_key()


def test_scrub_end_to_end_on_a_table():
    cb = load_codebook("k_station")
    df = pd.DataFrame(
        {
            "resp_id": [1, 2, 3, 4],
            "ip": ["10.0.0.1", "10.0.0.2", "2001:db8::1", "10.0.0.4"],
            "phone": [13812345678.0, 13912345678.0, np.nan, 15012345678.0],
            "email_col": ["a@x.com", "b@y.cn", "c@z.org", "无"],
            "suggestion": [f"我叫李明，身份证{VALID_ID}", "很好", None, "电话 138-1234-5678"],
            "Q1": [1, 2, 3, 4],
        }
    )
    clean, report = scrub(df, cb, key=KEY)
    assert list(clean.columns) == ["resp_id", "suggestion", "Q1"]
    assert set(report["dropped_columns"]) == {"ip", "phone", "email_col"}
    assert "identifier" in report["dropped_columns"]["ip"]
    assert clean["resp_id"].tolist() == pseudonymize([1, 2, 3, 4], key=KEY).tolist()
    assert clean["suggestion"].tolist()[:2] == ["我叫[姓名]，身份证[身份证号]", "很好"]
    assert clean["suggestion"].tolist()[3] == "电话 [手机号]"
    assert report["masked"] == {"id_number": 1, "mobile": 1, "name": 1}
    assert report["masked_cells"] == {"suggestion": 2}
    assert report["linkable_across_runs"] is True
    assert find_identifiers(clean.drop(columns="resp_id")).empty
    assert "李明" not in str(report)
    assert VALID_ID not in str(report)
    # the input is not modified
    assert df["suggestion"].iloc[0].startswith("我叫李明")


def test_scrub_index_and_random_key(monkeypatch):
    monkeypatch.delenv("SERVICESTUDY_KEY", raising=False)
    monkeypatch.delenv("SERVICESTUDY_KEY_FILE", raising=False)
    df = pd.DataFrame({"Q1": [1, 2]}, index=pd.Index([101, 102], name="resp_id"))
    clean, report = scrub(df, "k_station")
    assert report["linkable_across_runs"] is False
    assert "random" in report["key_source"]
    assert all(v.startswith("R-") for v in clean.index)


# --- end to end: identifiers typed into a raw export never reach processed data -----------------

INJECTED = {
    "id_number": VALID_ID,
    "mobile": "13957712345",
    "email": "zhang.wei1988@example.com",
    "ipv4": "203.0.113.77",
    "wechat": "zw_19880712",
    "name": "欧阳明",
}
IP_IN_COLUMN = "198.51.100.99"


def make_identified_export(path, *, n: int = 120, seed: int = 11):
    """A simulated Wenjuanxing export whose open answers carry one identifier of every kind
    (and the platform's IP column, which always holds IP addresses)."""
    from servicestudy.simulate import simulate, write_wenjuanxing

    responses = simulate(n, seed=seed).responses.copy()
    texts = [
        f"我叫{INJECTED['name']}，希望改进服务。",
        f"身份证号{INJECTED['id_number']}，办证太慢。",
        f"有问题请打电话 {INJECTED['mobile'][:3]}-{INJECTED['mobile'][3:7]}-{INJECTED['mobile'][7:]}",
        f"邮箱 {INJECTED['email']} 欢迎联系",
        f"加我微信号：{INJECTED['wechat']}",
        f"网上办事时IP {INJECTED['ipv4']} 被封了",
    ]
    for k, text in enumerate(texts):
        responses.loc[responses.index[k], "suggestion"] = text
    responses.loc[responses.index[0], "ip"] = IP_IN_COLUMN
    write_wenjuanxing(responses, path)
    return path


def _leaks(text: str) -> list[str]:
    found = [v for v in (*INJECTED.values(), IP_IN_COLUMN) if v in text]
    if "139-5771-2345" in text:
        found.append("139-5771-2345")
    return found


def _frame_text(df: pd.DataFrame) -> str:
    return df.reset_index().astype(str).to_csv(index=False)


@pytest.fixture(scope="module")
def identified_export(tmp_path_factory):
    return make_identified_export(tmp_path_factory.mktemp("raw") / "wave_pii.xlsx")


def test_injected_identifiers_are_in_the_raw_export(identified_export):
    from servicestudy.io import read_export

    raw = read_export(identified_export, "k_station")
    text = _frame_text(raw.data)
    assert sorted(_leaks(text)) == sorted(
        [v for k, v in INJECTED.items() if k != "mobile"] + [IP_IN_COLUMN, "139-5771-2345"]
    )


def test_no_identifier_reaches_processed_files(identified_export, tmp_path, monkeypatch, capsys):
    from servicestudy.cli import main

    monkeypatch.setenv("SERVICESTUDY_KEY", KEY)
    out = tmp_path / "processed"
    assert main(["code", str(identified_export), "--out", str(out)]) == 0
    capsys.readouterr()
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".parquet", ".csv", ".json"}
    for p in files:
        if p.suffix == ".parquet":
            df = pd.read_parquet(p)
            text = _frame_text(df)
            assert "ip" not in df.columns
            suggestion = df["suggestion"].dropna().tolist()
            assert "我叫[姓名]，希望改进服务。" in suggestion
            assert "身份证号[身份证号]，办证太慢。" in suggestion
            assert find_identifiers(df.drop(columns=["resp_id"])).empty
        else:
            text = p.read_text(encoding="utf-8-sig")
        assert _leaks(text) == [], p.name
    prov = (out / "responses_provenance.json").read_text(encoding="utf-8")
    assert '"linkable_across_runs": true' in prov


def test_no_identifier_reaches_prepared_report_data(identified_export, tmp_path):
    from servicestudy.report import load_prepared, prepare

    folder = tmp_path / "prepared"
    prepare(identified_export).save(folder)
    for p in sorted(folder.iterdir()):
        text = _frame_text(pd.read_parquet(p)) if p.suffix == ".parquet" else p.read_text(encoding="utf-8")
        assert _leaks(text) == [], p.name
    data = load_prepared(folder).data
    assert "[手机号]" in " ".join(data["suggestion"].dropna())


# --- properties ----------------------------------------------------------------------------------


FILLER = st.text(
    alphabet=st.sampled_from(list("服务很好希望改进办事效率窗口民警态度热情满意，。！ 、abcXYZ")), max_size=15
)


@st.composite
def identifiers(draw):
    kind = draw(st.sampled_from(["mobile", "id_number", "email", "ipv4", "wechat"]))
    if kind == "mobile":
        value = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                         min_size=9, max_size=9)))
        return kind, value, value
    if kind == "id_number":
        region = draw(st.sampled_from(["330304", "110105", "440106", "510107"]))
        born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)))
        seq = f"{draw(st.integers(0, 999)):03d}"
        value = gb11643(region + born.strftime("%Y%m%d") + seq)
        return kind, value, value
    if kind == "email":
        user = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=10))
        user = "u" + user.strip(".")
        value = f"{user}@{draw(st.sampled_from(['qq.com', '163.com', 'example.org']))}"
        return kind, value, value
    if kind == "ipv4":
        value = ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
        return kind, value, value
    wx = "w" + "".join(draw(st.lists(st.sampled_from("abcdefghijk_0123456789"), min_size=6, max_size=12)))
    return kind, f"微信：{wx}", wx


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(before=FILLER, ident=identifiers(), after=FILLER)
def test_masking_removes_every_inserted_identifier(before, ident, after):
    kind, inserted, secret = ident
    text = f"{before}，{inserted}，{after}"
    masked = mask_identifiers(text)
    assert secret not in masked
    assert MASKS[kind] in masked
    # masking is idempotent and leaves nothing to find
    assert mask_identifiers(masked) == masked
    assert find_identifiers(pd.Series([masked])).empty


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(ids=st.lists(st.one_of(st.integers(0, 10**9), st.text(min_size=1, max_size=8).filter(str.strip)),
                    min_size=1, max_size=30, unique=True))
def test_pseudonyms_are_stable_and_distinct(ids):
    a = pseudonymize(pd.Series(ids, dtype=object), key=KEY)
    b = pseudonymize(pd.Series(ids, dtype=object), key=KEY)
    assert a.tolist() == b.tolist()
    texts = {str(v).strip() for v in ids}
    assert a.nunique() == len(texts)
    assert all(p.startswith("R-") and len(p) == 14 for p in a)


def test_scrub_masks_repeated_texts_as_cell_by_cell_masking():
    """scrub scans each distinct text once; texts and counts equal masking every cell (issue 9)."""
    from collections import Counter

    from servicestudy.privacy import mask_identifiers

    texts = ["请联系13812345678", "很好", "邮箱 a@b.com 或 13812345678", "很好", None, "请联系13812345678", "",
             "我叫王小明", "请联系13812345678"]
    df = pd.DataFrame({"resp_id": range(1, len(texts) + 1), "suggestion": pd.Series(texts, dtype=object)})
    clean, rep = scrub(df, load_codebook("k_station"), key="0123456789abcdef-demo")
    want_counts: Counter = Counter()
    want = [mask_identifiers(v, counts=want_counts) if isinstance(v, str) else v for v in texts]
    assert [None if v is None or v != v else v for v in clean["suggestion"]] == want
    assert rep["masked"] == dict(sorted(want_counts.items()))
    assert rep["masked_cells"] == {"suggestion": sum(a != b for a, b in zip(texts, want, strict=True))}
