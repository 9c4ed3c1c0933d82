"""Text cleaning, URL canonicalisation, bylines and folding: table tests of real strings."""

from __future__ import annotations

import unicodedata

import pytest

from archiver.normalize import canonical_url, clean_lines, clean_text, dateline_source, fold, split_byline

TEXT = [
    ("tình hình mới.Theo Chỉ thị", "tình hình mới. Theo Chỉ thị"),
    ("đạt 35,2%.Nguyên nhân", "đạt 35,2%. Nguyên nhân"),
    ("năm 2021.Theo đó", "năm 2021. Theo đó"),
    ("TP.HCM và Th.S Nguyễn", "TP.HCM và Th.S Nguyễn"),
    ("1.234 tỷ và 14.832,55 đồng", "1.234 tỷ và 14.832,55 đồng"),
    ("xem http://haugiang.gov.vn/Tin.Html", "xem http://haugiang.gov.vn/Tin.Html"),
    ("email: vp@haugiang.gov.Vn", "email: vp@haugiang.gov.Vn"),
    ("\u00d0ảng bộ", "Đảng bộ"),
    ("Ða số", "Đa số"),
    ("bảo\u00a0vệ  an\u200bninh", "bảo vệ anninh"),
    ("Ho\u0300a Bi\u0300nh", "Hòa Bình"),
    ("dòng một\ndòng hai", "dòng một dòng hai"),
    ("  ", ""),
]


@pytest.mark.parametrize(("raw", "expected"), TEXT)
def test_clean_text(raw: str, expected: str) -> None:
    got = clean_text(raw)
    assert got == expected
    assert unicodedata.is_normalized("NFC", got)
    assert clean_text(got) == got


def test_clean_lines_joins_hard_breaks_inside_a_sentence() -> None:
    assert clean_lines(["chuẩn bị sẵn sàng cơ sở vật chất,", "trang thiết bị.", "", "Đoạn mới."]) == [
        "chuẩn bị sẵn sàng cơ sở vật chất, trang thiết bị.",
        "Đoạn mới.",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Đảng bộ tỉnh Hậu Giang", "dang bo tinh hau giang"), ("BẢO VỆ AN NINH", "bao ve an ninh"),
     ("Ðiện Biên", "dien bien"), ("", "")],
)  # fmt: skip
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


BASE = "https://www.haugiang.gov.vn"
URLS = [
    # tracking parameters and fragments dropped, query sorted
    (f"{BASE}/tin-tuc/a-1.html?utm_source=zalo&utm_medium=x#top", {}, f"{BASE}/tin-tuc/a-1.html"),
    (f"{BASE}/a.aspx?id=5&fbclid=abc", {}, f"{BASE}/a.aspx?id=5"),
    (f"{BASE}/a.html;jsessionid=ABC123", {}, f"{BASE}/a.html"),
    # http/https, www/bare host, port of a mirror: one URL
    ("http://haugiang.gov.vn/tin-tuc/a-1.html", {}, f"{BASE}/tin-tuc/a-1.html"),
    ("http://127.0.0.1:8123/tin-tuc/a-1.html", {"hosts": ["127.0.0.1:8123"]}, f"{BASE}/tin-tuc/a-1.html"),
    # SharePoint: only the identifying parameter stays
    (
        "https://soctrang.gov.vn/noidung/tintuc/Pages/chi-tiet-tin-tuc.aspx?l=Tintrongtinh&ItemID=28383",
        {"keep_params": ["ItemID"], "origin": "https://www.soctrang.gov.vn"},
        "https://www.soctrang.gov.vn/noidung/tintuc/Pages/chi-tiet-tin-tuc.aspx?ItemID=28383",
    ),
    (
        "https://quangnam.gov.vn/webcenter/portal/ubnd/pages_tin-tuc/chi-tiet?dDocName=PORTAL512708&_afrLoop=123",
        {"keep_params": ["dDocName"], "origin": "https://quangnam.gov.vn"},
        "https://quangnam.gov.vn/webcenter/portal/ubnd/pages_tin-tuc/chi-tiet?dDocName=PORTAL512708",
    ),
    # percent-encoded Vietnamese paths keep one spelling
    (
        "https://x.gov.vn/tin-t%E1%BB%A9c/tabid/255/post/3011/a.aspx",
        {},
        "https://x.gov.vn/tin-t%E1%BB%A9c/tabid/255/post/3011/a.aspx",
    ),
    (
        "https://x.gov.vn/tin-tức/tabid/255/post/3011/a.aspx",
        {},
        "https://x.gov.vn/tin-t%E1%BB%A9c/tabid/255/post/3011/a.aspx",
    ),
    # another host is never rewritten onto the portal
    ("https://baohaugiang.com.vn/a.html", {}, "https://baohaugiang.com.vn/a.html"),
]


@pytest.mark.parametrize(("url", "kw", "expected"), URLS)
def test_canonical_url(url: str, kw: dict, expected: str) -> None:
    kw = {"origin": BASE, "hosts": ["haugiang.gov.vn"]} | kw
    got = canonical_url(url, **kw)
    assert got == expected
    assert canonical_url(got, **kw) == got


BYLINES = [
    (["Nội dung bài viết.", "Thanh Tâm"], "Thanh Tâm", None),
    (["Nội dung bài viết./. Hồng Nguyên"], "Hồng Nguyên", None),
    (["Nội dung.", "Lê Văn Mười"], "Lê Văn Mười", None),
    (["Nội dung.", "T.H"], "T.H", None),
    (["Nội dung.", "Tin và ảnh: Minh Khoa"], "Minh Khoa", None),
    (["Nội dung.", "Tin, ảnh: Ngọc Hân"], "Ngọc Hân", None),
    (["Nội dung.", "Thực hiện: Phương Thảo"], "Phương Thảo", None),
    (["Nội dung.", "Tác giả: Nguyễn Thị Thu Hà"], "Nguyễn Thị Thu Hà", None),
    (["Nội dung.", "Nguồn: Báo Hậu Giang"], None, "Báo Hậu Giang"),
    (["Nội dung.", "(Theo Báo Cần Thơ)"], None, "Báo Cần Thơ"),
    (["Nội dung.", "Kim Ngân st (Nguồn Báo An Giang Online)"], "Kim Ngân", "Báo An Giang Online"),
    (["Nội dung.", "Phòng Tư pháp huyện Châu Thành"], "Phòng Tư pháp huyện Châu Thành", None),
    (["Nội dung.", "Nguyễn Văn An", "Phòng Tư pháp huyện Long Mỹ"], "Nguyễn Văn An, Phòng Tư pháp huyện Long Mỹ", None),
    (["Nội dung dài của bài viết.", "Câu cuối cùng của bài viết, không phải tên người."], None, None),
]


@pytest.mark.parametrize(("paras", "author", "source"), BYLINES)
def test_split_byline(paras: list[str], author: str | None, source: str | None) -> None:
    rest, got_author, got_source = split_byline(paras)
    assert (got_author, got_source) == (author, source)
    assert rest and all(author is None or author not in p for p in rest[-1:])


@pytest.mark.parametrize(
    ("lead", "expected"),
    [("CTTĐT - Sáng ngày 12/3", "CTTĐT"), ("(BTĐKT)- Chiều 10/4", "BTĐKT"), ("STO - Ngày 5/5", "STO"),
     ("(HG) - Sáng nay", "HG"), ("Sáng ngày 12/3, UBND tỉnh", None)],
)  # fmt: skip
def test_dateline_is_a_source(lead: str, expected: str | None) -> None:
    assert dateline_source(lead) == expected
