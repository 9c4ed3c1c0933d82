"""Store articles in the archive, in batched transactions, and record the run in ``crawl_runs``
and its failed fetches in ``fetch_errors``."""

from __future__ import annotations

from typing import Any

from scrapy import signals

from archiver.items import Article, GoneArticle
from archiver.provinces import MERGER_DAY, merged_province
from archiver.store import Archive, RunCounts


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.path = crawler.settings.get("ARCHIVER_DB")
        self.batch_size = crawler.settings.getint("ARCHIVER_BATCH_SIZE", 50)
        self.archive: Archive | None = None
        self.run_id = 0
        self.counts = RunCounts()
        self.pending = 0
        self.after_merger = 0  # articles dated after 1 July 2025 on a portal of a merged province
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.path, cache_mb=self.crawler.settings.getint("ARCHIVER_CACHE_MB", 256))
        self.archive.upsert_portal(spider.profile)
        if hasattr(spider, "plan"):
            spider.plan(
                self.archive.known_urls(spider.portal),
                self.archive.recent_urls(spider.portal, spider.revisit_since()),
                self.archive.had_complete_walk(spider.portal),
            )
        self.merged = merged_province(spider.profile.province)
        self.run_id = self.archive.start_run(spider.portal, spider.fetch_origin, getattr(spider, "mode", "full"))
        spider.run_id = self.run_id

    def process_item(self, item: Any) -> Any:
        if self.archive is None:
            return item
        if isinstance(item, Article):
            status = self.archive.save_article(item, run_id=self.run_id, seen_at=item.fetched_at)
            counter = "duplicates" if status == "duplicate" else status
            setattr(self.counts, counter, getattr(self.counts, counter) + 1)
            if status == "new" and self.merged and (item.published_iso or "") >= MERGER_DAY:
                self.after_merger += 1
            self.crawler.stats.inc_value(f"archiver/store/{status}")
        elif isinstance(item, GoneArticle):
            if self.archive.mark_gone(item.portal, item.canonical_url, item.status):
                self.counts.gone += 1
                self.crawler.stats.inc_value("archiver/store/gone")
        else:
            return item
        self.pending += 1
        if self.pending >= self.batch_size:
            self.archive.commit()
            self.pending = 0
        return item

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.commit()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.archive is None:
            return
        stats = self.crawler.stats
        c = self.counts
        c.pages = (stats.get_value("archiver/pages/listing") or 0) + (stats.get_value("archiver/pages/article") or 0)
        c.not_articles = stats.get_value("archiver/validate/not_article") or 0
        c.errors = len(spider.errors)
        status, why = "ok", None
        if c.pages == 0:
            status = "failed"
            why = f"{spider.errors[0][2]} ({spider.errors[0][0]})" if spider.errors else "no page could be fetched"
        elif reason not in ("finished", "closespider_pagecount"):
            status, why = "interrupted", reason
        elif c.errors:
            why = f"{c.errors} failed fetches, first: {spider.errors[0][0]} ({spider.errors[0][2]})"
        complete = status == "ok" and reason == "finished" and not getattr(spider, "capped", False)
        if getattr(spider, "capped", False):
            why = (why + "; " if why else "") + "page cap reached"
        if self.after_merger:
            note = (f"{self.after_merger} new article(s) dated on or after {MERGER_DAY} on a portal of "
                    f"{spider.profile.province}, merged into {spider.profile.new_unit}: still in use, or misdated?")  # fmt: skip
            spider.logger.warning(note)
            why = (why + "; " if why else "") + note
        self.archive.record_errors(self.run_id, spider.portal, spider.errors)
        self.archive.finish_run(self.run_id, c, status, why, complete=complete)
        self.archive.close()
        self.archive = None
