"""Every saved page, field by field, plus strings that must not appear in the body."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from archiver.extract import extract_article, extract_listing
from archiver.profiles import get_portal
from tests.conftest import fixture_cases, load_case

FIELDS = ("title", "category", "published", "published_raw", "views", "views_raw", "author", "source", "lead",
          "body_text")  # fmt: skip


@pytest.mark.parametrize("case", fixture_cases("article"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_article_fixture(case: Path) -> None:
    html, meta, expected, now = load_case(case)
    # profile=None: the profile is found from the URL's host, as the issue asks.
    art = extract_article(html, meta["url"], now=now)
    assert art.profile == expected["profile"]
    got = art.to_dict()
    for field in FIELDS:
        assert got[field] == expected[field], field
    for bad in expected["body_text_must_not_contain"]:
        assert bad not in art.body_text, bad
    for bad in expected["body_html_must_not_contain"]:
        assert bad not in art.body_html, bad
    assert unicodedata.is_normalized("NFC", art.body_text)
    assert art.problems() == []


@pytest.mark.parametrize("case", fixture_cases("article"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_article_fixture_with_explicit_profile_and_family_detection(case: Path) -> None:
    html, meta, expected, now = load_case(case)
    explicit = extract_article(html, meta["url"], profile=get_portal(expected["profile"]), now=now)
    assert explicit.body_text == expected["body_text"]
    # On an unknown host the CMS family is recognised in the page itself.
    detected = extract_article(html, "https://unknown.example.gov.vn/a.html", now=now)
    assert detected.title == expected["title"]
    assert detected.published_iso == expected["published"]


@pytest.mark.parametrize("case", fixture_cases("listing"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_listing_fixture(case: Path) -> None:
    html, meta, expected, _ = load_case(case)
    listing = extract_listing(html, meta["url"], profile=get_portal(case.parent.name))
    assert listing.category == expected["category"]
    assert listing.article_urls == expected["article_urls"]
    assert listing.next_urls == expected["next_urls"]


def test_body_html_links_are_absolute_and_clean() -> None:
    case = Path(__file__).parent / "fixtures" / "haugiang" / "article"
    html, meta, _, now = load_case(case)
    art = extract_article(html, meta["url"], now=now)
    assert 'src="https://www.haugiang.gov.vn/media/2051/chi-thi-covid.jpg"' in art.body_html
    assert 'href="https://www.haugiang.gov.vn/media/2052/chi-thi-05-ct-ubnd.pdf"' in art.body_html
    assert "Các ý kiến của bạn đọc" not in art.body_html


def test_error_page_is_not_an_article() -> None:
    html = ('<html><body><div class="news-detail"><h1 class="news-title">Trang không tồn tại</h1>'
            '<div class="news-content"><p>Trang không tồn tại hoặc đã bị xóa.</p></div></div></body></html>')  # fmt: skip
    art = extract_article(html, "https://www.haugiang.gov.vn/tin-tuc/x/y.html")
    assert "empty body" in art.problems()


def test_empty_and_broken_pages_never_raise() -> None:
    for html in ("", "<html>", "<<<>>>", b"\xff\xfe\x00garbage", "<div class='news-content'></div>"):
        art = extract_article(html, "https://www.haugiang.gov.vn/tin-tuc/a/b.html")
        assert art.problems()


def test_generic_extraction_without_profile() -> None:
    html = """<html><head><meta property="og:title" content="Tin không có hồ sơ">
    <meta property="article:published_time" content="2024-05-17T10:15:00+07:00"></head>
    <body><div class="menu"><p>Trang chủ</p></div><div class="x"><p>Đoạn một của bài viết khá dài.</p>
    <p>Đoạn hai của bài viết.</p></div></body></html>"""
    art = extract_article(html, "https://khong-co-ho-so.example/bai-1")
    assert art.profile is None
    assert art.title == "Tin không có hồ sơ"
    assert art.published_iso == "2024-05-17T10:15:00+07:00"
    assert art.body_text == "Đoạn một của bài viết khá dài.\n\nĐoạn hai của bài viết."


def test_windows_1258_bytes_are_decoded() -> None:
    # windows-1258 writes tones as combining marks after a base letter: "ộ" is "ô" + U+0323.
    text = "<html><head><meta charset='windows-1258'></head><body><h1>Th\u00f4ng b\u00e1o</h1><p>N\u00f4\u0323i dung th\u00f4ng ba\u0301o m\u01a1\u0301i \u0111\u00e2y.</p></body></html>"
    art = extract_article(text.encode("cp1258"), "https://x.example/a")
    assert art.title == "Thông báo"
    assert art.body_text == "Nội dung thông báo mới đây."  # composed (NFC), not "ô" + combining dot


def test_undeclared_windows_1258_is_sniffed() -> None:
    text = (
        "<html><body><h1>Th\u00f4ng b\u00e1o</h1><p>N\u00f4\u0323i dung cho con \u0111\u01b0\u01a1\u0300ng m\u01a1\u0301i.</p></body></html>"
    )
    art = extract_article(text.encode("cp1258"), "https://x.example/a")
    assert art.title == "Thông báo"
    assert art.body_text == "Nội dung cho con đường mới."
    # the HTTP header wins over sniffing
    art = extract_article(
        "<h1>Tiêu đề</h1><p>Nội dung.</p>".encode(), "https://x.example/a", content_type="text/html; charset=utf-8"
    )
    assert art.title == "Tiêu đề"


def test_malformed_urls_in_a_page_never_raise() -> None:
    html = ("<div class='news-detail'><h1 class='news-title'>Tiêu đề</h1><div class='news-content'>"
            "<p>Nội dung <a href='http://[::1'>x</a> <img src='http://[bad'></p></div></div>"
            "<div class='news-list'><div class='news-item'><a class='news-item-title' href='http://[::1'>y</a></div></div>")  # fmt: skip
    art = extract_article(html, "https://www.haugiang.gov.vn/tin-tuc/a/b.html")
    assert art.body_text == "Nội dung x" and "[::1" not in art.body_html
    listing = extract_listing(html, "https://www.haugiang.gov.vn/tin-tuc/a/", profile=get_portal("haugiang"))
    assert listing.article_urls == []
