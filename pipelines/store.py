"""Hand articles, gone articles and failed fetches to the archive's one writer, and close the run.

The crawl runner (``archiver.crawl``) gives the crawler a ``CrawlContext`` (the writer shared by
every portal of the crawl, this portal's run, its profile). A bare ``scrapy crawl portal`` has
none: the pipeline then opens a writer and a run of its own.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals

from archiver.items import Article, FetchError, GoneArticle
from archiver.provinces import MERGER_DAY
from archiver.runs import Observation, Plan, RunCounts, judge


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.ctx = getattr(crawler, "archiver", None)
        self.own_writer = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.ctx is not None:
            return
        from archiver.crawl import CrawlContext
        from archiver.store.writer import Writer

        s = self.crawler.settings
        spider = self.crawler.spider
        writer = Writer(s.get("ARCHIVER_DB"), batch_size=s.getint("ARCHIVER_BATCH_SIZE", 50),
                        interval=s.getfloat("ARCHIVER_COMMIT_INTERVAL", 30.0),
                        retry_for=s.getfloat("ARCHIVER_STORE_RETRY_SECONDS", 300.0),
                        cache_mb=s.getint("ARCHIVER_CACHE_MB", 256))  # fmt: skip
        run = writer.open_run(spider.profile, spider.fetch_origin, "full")
        self.ctx = CrawlContext(writer, run, spider.profile, Plan())
        self.own_writer = True

    def process_item(self, item: Any) -> Any:
        if self.ctx is None or not isinstance(item, Article | GoneArticle | FetchError):
            return item
        stats = self.crawler.stats
        pages = (stats.get_value("archiver/pages/listing") or 0) + (stats.get_value("archiver/pages/article") or 0)
        self.ctx.writer.add(self.ctx.run, item, pages=pages)
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        ctx = self.ctx
        if ctx is None or ctx.run.finished:
            return
        writer, run = ctx.writer, ctx.run
        writer.flush(block=True)
        obs = Observation.from_stats(self.crawler.stats.get_stats(), reason)
        counts = RunCounts(**vars(run.counts))
        counts.pages, counts.not_articles = obs.pages, obs.not_articles
        notes = []
        if run.after_merger:
            note = (f"{run.after_merger} new article(s) dated on or after {MERGER_DAY} on a portal of "
                    f"{ctx.profile.province}, merged into {ctx.profile.new_unit}: still in use, or misdated?")  # fmt: skip
            spider.logger.warning(note)
            notes.append(note)
        previous = None
        if not writer.failed:
            try:
                previous = writer.archive.last_complete_run(run.portal)
            except Exception:  # noqa: BLE001 - a read that fails only loses the comparison
                previous = None
        verdict = judge(obs, counts, store_failure=writer.failed, previous=previous, profile=ctx.profile, notes=notes)
        if verdict.status not in ("ok",):
            spider.logger.warning("%s: run %s: %s", run.portal, verdict.status, verdict.reason)
        writer.finish_run(run, counts, verdict.status, verdict.reason, verdict.complete, obs.extracted, obs.fill)
        if self.own_writer:
            writer.close()
