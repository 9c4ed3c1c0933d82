"""Property-based fuzzing: extraction and the spider's parsing on mutated fixture pages never let an
exception escape."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from archiver.extract import extract_article, extract_listing
from archiver.items import Capture
from archiver.profiles import get_portal
from spiders.portal import PortalSpider

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(FIXTURES.glob("*/*/page.html"))
SOURCES = [p.read_bytes() for p in PAGES]
SNIPPETS = [b"<", b">", b"</div>", b"<p>", b"<script>", b"\x00", b"\xff\xfe", b"&#x0;", b"&#99999999;", b"<!--",
            b"]]>", "Ð".encode(), "Cập nhật vào ngày (31/02/2021)".encode(), b"charset=utf-16", b"\xc3", b"<br>" * 50,
            "Các ý kiến của bạn đọc".encode(), b"<a href='javascript:x'>", b"<a href='http://[::1'>x</a>"]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> tuple[int, bytes]:
    i = draw(st.integers(0, len(SOURCES) - 1))
    data = bytearray(SOURCES[i])
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["cut", "insert", "dup", "flip", "truncate"]))
        a = draw(st.integers(0, len(data)))
        b = draw(st.integers(a, min(len(data), a + 2000)))
        if op == "cut":
            del data[a:b]
        elif op == "insert":
            data[a:a] = draw(st.sampled_from(SNIPPETS)) if draw(st.booleans()) else draw(st.binary(max_size=40))
        elif op == "dup":
            data[a:a] = data[a:b]
        elif op == "flip" and a < len(data):
            data[a] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[a:]
    return i, bytes(data)


SPIDERS: dict[str, PortalSpider] = {}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_extraction_never_raises(case: tuple[int, bytes]) -> None:
    i, data = case
    slug = PAGES[i].parent.parent.name
    url = get_portal(slug).base_url + "/tin-tuc/a/b.html"
    art = extract_article(data, url)
    assert isinstance(art.body_text, str)
    extract_listing(data, url, profile=get_portal(slug))
    extract_article(data.decode("utf-8", "replace"), url, profile=get_portal(slug))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_spider_parsing_never_raises(case: tuple[int, bytes]) -> None:
    i, data = case
    slug = PAGES[i].parent.parent.name
    if slug not in SPIDERS:
        import tempfile

        db = Path(tempfile.mkdtemp(prefix="fuzz-")) / "archive.db"
        crawler = get_crawler(PortalSpider, {"ARCHIVER_FULL": True, "ARCHIVER_DB": str(db), "ARCHIVER_WARC_ENABLED": False})
        crawler.spider = crawler._create_spider(portal=slug)
        SPIDERS[slug] = crawler.spider
    sp = SPIDERS[slug]
    url = sp.profile.base_url + "/tin-tuc/a/b.html"
    response = HtmlResponse(url=url, body=data, request=Request(url))
    for parse in (sp.parse_listing, sp.parse_article):
        for out in parse(response):
            assert out is not None
            if isinstance(out, Capture):  # the page goes on through the one ingest path
                outcome = sp.crawler.archiver.ingestor.ingest(out)
                assert outcome.item is not None or outcome.dropped
