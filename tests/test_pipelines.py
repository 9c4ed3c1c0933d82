"""The ingest pipeline as Scrapy runs it: captures in, articles to the writer, the run closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from archiver import demo
from archiver.items import Capture, FetchError
from archiver.store import Archive
from pipelines.ingest import IngestPipeline
from spiders.portal import PortalSpider

BASE = "https://haugiang-demo.example"
ARTS = demo.articles()


def make_crawler(tmp_db: Path, **settings: object):
    crawler = get_crawler(PortalSpider, {"ARCHIVER_DB": str(tmp_db), "ARCHIVER_BATCH_SIZE": 2,
                                         "ARCHIVER_WARC_ENABLED": False, **settings})  # fmt: skip
    crawler.spider = crawler._create_spider(portal="demo")
    return crawler


def capture(n: int = 0, *, body: bytes | None = None, path: str | None = None) -> Capture:
    a = ARTS[n]
    page = body if body is not None else demo._article_page(a, [ARTS[n + 1]]).encode()
    url = BASE + (path or a.path)
    return Capture(url=url, final_url=url, status=200, headers=(("Content-Type", "text/html; charset=utf-8"),),
                   body=page, fetched_at="2026-12-01T00:00:00+00:00")  # fmt: skip


def test_not_an_article_is_dropped_with_its_reason(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = IngestPipeline.from_crawler(crawler)
    assert pipe.process_item(capture(0)) is not None
    with pytest.raises(DropItem, match="not an article"):
        pipe.process_item(capture(1, body=demo.NOT_FOUND_PAGE.encode(), path=demo.NOT_FOUND_PATH))
    assert crawler.stats.get_value("archiver/validate/not_article") == 1
    assert crawler.stats.get_value("archiver/extracted") == 2
    assert crawler.stats.get_value("archiver/filled/published") == 1


def test_the_same_url_twice_in_a_run_is_stored_once(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = IngestPipeline.from_crawler(crawler)
    pipe.process_item(capture(0))
    with pytest.raises(DropItem, match="duplicate"):
        pipe.process_item(capture(0))
    assert crawler.stats.get_value("archiver/dedupe/duplicate_url") == 1


def test_articles_are_stored_in_batches_and_the_run_recorded(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = IngestPipeline.from_crawler(crawler)
    for n in (0, 1, 2):
        pipe.process_item(capture(n))
    # Batch size 2: two items are committed and visible to another connection, the third is not yet.
    with Archive(tmp_db) as other:
        assert other.count("articles") == 2
    crawler.stats.set_value("archiver/pages/article", 3)
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        assert other.count("articles") == 3
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert (run["portal"], run["new"], run["stored"], run["pages"], run["status"]) == ("demo", 3, 3, 3, "ok")
        portal = next(other.query("SELECT * FROM portals"))
        assert portal["new_unit"] == "thành phố Cần Thơ"
        assert {r["reason"] for r in other.query("SELECT reason FROM article_revisions")} == {"first"}


def test_run_with_no_page_is_failed_with_reason(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = IngestPipeline.from_crawler(crawler)
    crawler.stats.set_value("archiver/fetch/first_error", "http://127.0.0.1:9/ (Connection was refused)")
    pipe.process_item(FetchError("http://127.0.0.1:9/", None, "Connection was refused", 4))
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert run["status"] == "failed" and "Connection was refused" in run["reason"]


def test_dates_after_the_merger_on_a_merged_province_portal_are_flagged(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = IngestPipeline.from_crawler(crawler)  # the demo portal belongs to Hậu Giang, merged into Cần Thơ
    late = demo._article_page(ARTS[0], [ARTS[1]]).replace(ARTS[0].date_line, "[ Cập nhật vào ngày (01/08/2025) ]")
    pipe.process_item(capture(0, body=late.encode()))
    pipe.process_item(capture(1))
    crawler.stats.set_value("archiver/pages/article", 2)
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert run["status"] == "ok"
        assert "1 new article(s) dated on or after 2025-07-01" in run["reason"] and "thành phố Cần Thơ" in run["reason"]


def test_an_item_error_is_one_short_line_without_the_item() -> None:
    from archiver.items import Article
    from archiver.logformatter import ArchiverLogFormatter

    url = BASE + ARTS[0].path
    art = Article(url=url, canonical_url=url, title="T", body_text="Nội dung rất dài. " * 500)
    entry = ArchiverLogFormatter().item_error(art, OverflowError("Python int too large to convert to SQLite INTEGER"),
                                              None)  # fmt: skip
    text = entry["msg"] % entry["args"]
    assert "\n" not in text and len(text) < 400
    assert url in text and "OverflowError: Python int too large" in text and "Nội dung" not in text
