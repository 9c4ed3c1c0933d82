"""Page inputs found by probing: each gives a stored article or a recorded reason, never an
exception that drops the item."""

from __future__ import annotations

import pytest

from archiver.extract import extract_article, extract_listing
from archiver.normalize import parse_views
from archiver.profiles import get_portal

DEMO = get_portal("demo")
URL = "https://haugiang-demo.example/tin-tuc/tin-trong-tinh/bai-1.html"


@pytest.mark.parametrize("tag", ["b", "span", "i", "font", "div"])
@pytest.mark.parametrize("depth", [1000, 20000])
def test_thousands_of_unclosed_tags_still_give_the_body(tag: str, depth: int) -> None:
    html = ("<html><body><div class='news-detail'><h1 class='news-title'>Tiêu đề</h1><div class='news-content'>"
            + f"<{tag}>" * depth + "<p>Nội dung bài viết.</p></div></div></body></html>")  # fmt: skip
    art = extract_article(html, URL, profile=DEMO)
    assert art.problems() == []
    assert art.body_text == "Nội dung bài viết."


@pytest.mark.parametrize("text", ["Lượt xem: 9223372036854775808", "Số lần xem: 99999999999999999999999",
                                  "Lượt xem: 1.000.000.000.000.000"])  # fmt: skip
def test_absurd_view_counts_are_none_and_the_article_is_kept(text: str) -> None:
    assert parse_views(text) is None
    html = (f"<html><body><div class='news-detail'><h1 class='news-title'>Tiêu đề</h1><div class='news-info'>{text}"
            "</div><div class='news-content'><p>Nội dung.</p></div></div></body></html>")  # fmt: skip
    art = extract_article(html, URL, profile=DEMO)
    assert art.views is None and art.views_raw == text and art.problems() == []


def test_base_href_is_honoured_for_listing_links() -> None:
    html = """<html><head><base href="https://haugiang-demo.example/tin-tuc/kinh-te/"></head><body>
    <div class="news-list"><div class="news-item"><a class="news-item-title" href="bai-a.html">A</a></div>
    <div class="news-item"><a class="news-item-title" href="/tin-tuc/tin-trong-tinh/bai-b.html">B</a></div></div>
    <div class="pager"><a href="trang-2/">2</a></div></body></html>"""
    page = extract_listing(html, "https://haugiang-demo.example/danh-muc/?id=5", profile=DEMO)
    assert page.article_urls == [
        "https://haugiang-demo.example/tin-tuc/kinh-te/bai-a.html",
        "https://haugiang-demo.example/tin-tuc/tin-trong-tinh/bai-b.html",
    ]
    assert page.next_urls == ["https://haugiang-demo.example/tin-tuc/kinh-te/trang-2/"]


def test_base_href_is_honoured_for_stored_links() -> None:
    html = """<html><head><base href="https://haugiang-demo.example/media/"></head><body><div class='news-detail'>
    <h1 class='news-title'>Tiêu đề</h1><div class='news-content'><p>Xem <a href="qd-01.pdf">quyết định</a>.</p>
    <img src="anh.jpg"></div></div></body></html>"""
    art = extract_article(html, URL, profile=DEMO)
    assert 'href="https://haugiang-demo.example/media/qd-01.pdf"' in art.body_html
    assert 'src="https://haugiang-demo.example/media/anh.jpg"' in art.body_html


@pytest.mark.parametrize("base", ["javascript:alert(1)", "http://[::1", "  ", "ftp://x/"])
def test_a_bad_base_href_falls_back_to_the_page_url(base: str) -> None:
    html = (f'<html><head><base href="{base}"></head><body><div class="news-list"><div class="news-item">'
            '<a class="news-item-title" href="bai-a.html">A</a></div></div></body></html>')  # fmt: skip
    page = extract_listing(html, "https://haugiang-demo.example/tin-tuc/kinh-te/", profile=DEMO)
    assert page.article_urls == ["https://haugiang-demo.example/tin-tuc/kinh-te/bai-a.html"]
