"""Pipelines as Scrapy runs them: validate drops non-articles with a reason, dedupe drops
repeats within a run, store writes in batches and records the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from archiver.items import Article
from archiver.store import Archive
from pipelines.dedupe import DedupePipeline
from pipelines.store import StorePipeline
from pipelines.validate import ValidatePipeline
from spiders.portal import PortalSpider

URL = "https://haugiang-demo.example/tin-tuc/tin-trong-tinh/a-1.html"


def make_crawler(tmp_db: Path, **settings: object):
    crawler = get_crawler(PortalSpider, {"ARCHIVER_DB": str(tmp_db), "ARCHIVER_BATCH_SIZE": 2, **settings})
    crawler.spider = crawler._create_spider(portal="demo")
    return crawler


def item(n: int = 1, body: str = "Nội dung.") -> Article:
    url = URL.replace("a-1", f"a-{n}")
    return Article(url=url, canonical_url=url, fetched_url=url, portal="demo", title=f"Bài {n}", body_text=body,
                   views=n)  # fmt: skip


def test_validate_drops_non_articles_with_reason(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = ValidatePipeline.from_crawler(crawler)
    assert pipe.process_item(item()) is not None
    with pytest.raises(DropItem, match="empty body"):
        pipe.process_item(item(body=""))
    assert crawler.stats.get_value("archiver/validate/not_article") == 1
    assert crawler.stats.get_value("archiver/validate/empty_body") == 1


def test_dedupe_drops_repeats_in_a_run(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = DedupePipeline.from_crawler(crawler)
    pipe.process_item(item(1))
    with pytest.raises(DropItem, match="duplicate"):
        pipe.process_item(item(1))
    pipe.process_item(item(2))
    assert crawler.stats.get_value("archiver/dedupe/duplicate_url") == 1


def test_store_batches_and_records_the_run(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    for n in (1, 2, 3):
        pipe.process_item(item(n))
    # Batch size 2: two items are committed and visible to another connection, the third is not yet.
    with Archive(tmp_db) as other:
        assert other.count("articles") == 2
    crawler.stats.set_value("archiver/pages/article", 3)
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        assert other.count("articles") == 3
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert (run["portal"], run["new"], run["pages"], run["status"]) == ("demo", 3, 3, "ok")
        portal = next(other.query("SELECT * FROM portals"))
        assert portal["new_unit"] == "thành phố Cần Thơ"


def test_run_with_no_page_is_failed_with_reason(tmp_db: Path) -> None:
    crawler = make_crawler(tmp_db)
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    from archiver.items import FetchError

    crawler.stats.set_value("archiver/fetch/first_error", "http://127.0.0.1:9/ (Connection was refused)")
    pipe.process_item(FetchError("http://127.0.0.1:9/", None, "Connection was refused", 4))
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert run["status"] == "failed" and "Connection was refused" in run["reason"]


def test_dates_after_the_merger_on_a_merged_province_portal_are_flagged(tmp_db: Path) -> None:
    from datetime import date

    crawler = make_crawler(tmp_db)
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()  # the demo portal belongs to Hậu Giang, merged into Cần Thơ
    late = item(1)
    late.published = date(2025, 8, 1)
    pipe.process_item(late)
    pipe.process_item(item(2))
    crawler.stats.set_value("archiver/pages/article", 2)
    pipe.spider_closed(crawler.spider, "finished")
    with Archive(tmp_db) as other:
        run = next(other.query("SELECT * FROM crawl_runs"))
        assert run["status"] == "ok"
        assert "1 new article(s) dated on or after 2025-07-01" in run["reason"] and "thành phố Cần Thơ" in run["reason"]


def test_an_item_error_is_one_short_line_without_the_item() -> None:
    from archiver.logformatter import ArchiverLogFormatter

    art = item(1, body="Nội dung rất dài. " * 500)
    entry = ArchiverLogFormatter().item_error(art, OverflowError("Python int too large to convert to SQLite INTEGER"),
                                              None)  # fmt: skip
    text = entry["msg"] % entry["args"]
    assert "\n" not in text and len(text) < 400
    assert URL in text and "OverflowError: Python int too large" in text and "Nội dung" not in text
