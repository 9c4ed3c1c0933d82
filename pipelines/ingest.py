"""Hand each captured article page to ``archiver.ingest`` (extract, validate, dedupe) and what it
gives, with gone articles and failed fetches, to the archive's one writer; close the run.

The crawl runner gives the crawler a ``CrawlContext`` (the shared writer, this portal's run, its
site, its ingestor); this pipeline only adapts Scrapy's calls to it and counts in stats.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import DropItem

from archiver.attachments import document_hosts
from archiver.cluster import claim
from archiver.items import AttachmentFile, AttachmentLink, Capture, FetchError, GoneArticle, WaybackCursor
from archiver.runs import close_run


class IngestPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> IngestPipeline:
        return cls(crawler)

    @property
    def ctx(self) -> Any:
        return getattr(self.crawler, "archiver", None)

    def _pages(self) -> int:
        stats = self.crawler.stats
        return (stats.get_value("archiver/pages/listing") or 0) + (stats.get_value("archiver/pages/article") or 0)

    def process_item(self, item: Any) -> Any:
        ctx = self.ctx
        if ctx is None:
            return item
        stats = self.crawler.stats
        if isinstance(item, Capture):
            outcome = ctx.ingestor.ingest(item)
            stats.inc_value("archiver/extracted")
            for name, present in outcome.fill.items():
                if present:
                    stats.inc_value(f"archiver/filled/{name}")
            if outcome.item is None:
                reason = outcome.dropped or "dropped"
                if reason.startswith("not an article"):
                    stats.inc_value("archiver/validate/not_article")
                else:
                    stats.inc_value("archiver/dedupe/duplicate_url")
                raise DropItem(reason)
            stats.inc_value("archiver/validate/ok")
            ctx.writer.add(ctx.run, outcome.item, pages=self._pages())
            if self.crawler.settings.getbool("ARCHIVER_ATTACHMENTS_ENABLED"):
                self._attachments(outcome.extracted)
            return outcome.item
        if isinstance(item, GoneArticle | FetchError | WaybackCursor | AttachmentFile):
            ctx.writer.add(ctx.run, item, pages=self._pages())
        return item

    def _attachments(self, article: Any) -> None:
        """The documents an article links to (its body and its attachment block): each link
        recorded; each file on the portal's hosts (or an allowed document host) fetched once per
        run, an article's files one after another within its caps; what an incremental run finds
        stored already is not fetched again. Off-portal links are recorded, never fetched."""
        ctx, spider, stats = self.ctx, self.crawler.spider, self.crawler.stats
        if article is None or spider is None or not hasattr(spider, "next_attachment"):
            return
        site, settings = ctx.site, self.crawler.settings
        hosts = document_hosts(site.profile, settings)
        per_article = settings.getint("ARCHIVER_ATTACHMENTS_PER_ARTICLE", 20)
        queue: list[tuple[str, str, str | None]] = []
        for url, text in article.documents:
            target = site.to_fetch(url)
            canonical = site.canonical(url) if target is not None else url
            if target is None and urlsplit(url).netloc.lower() in hosts and urlsplit(url).scheme in ("http", "https"):
                target = url  # the province's document system, allowed by name
            ctx.writer.add(ctx.run, AttachmentLink(article.canonical_url, canonical, text))
            if target is None:
                stats.inc_value("archiver/attachments/offsite")
                continue
            if canonical in spider.attachments_seen:
                continue
            if not spider.full and canonical in spider.known_documents:
                stats.inc_value("archiver/attachments/known")
                continue
            if per_article and len(queue) >= per_article:
                stats.inc_value("archiver/attachments/over_cap")
                continue
            if not claim(spider.attachments_seen, canonical):
                continue  # another worker of the run took it meanwhile
            queue.append((target, canonical, text))
        if queue:
            budget = int(settings.getfloat("ARCHIVER_ATTACHMENTS_ARTICLE_MAX_MB", 200) * 2**20)
            req = spider.next_attachment(queue, budget)
            if req is not None:
                self.crawler.engine.crawl(req)

    def spider_closed(self, spider: Any, reason: str) -> None:
        ctx = self.ctx
        if ctx is None or ctx.run.finished:
            return
        state, detail = spider.portal_state() if hasattr(spider, "portal_state") else ("live", None)
        failure = spider.discovery_failure() if hasattr(spider, "discovery_failure") else None
        discovery = spider.discovery() if hasattr(spider, "discovery") else None
        ctx.close_warc()
        if ctx.cluster is not None:
            # A worker: the cluster's writer closes the run once every worker has left it.
            ctx.writer.worker_done(ctx.run, self.crawler.stats.get_stats(), reason, state=state, detail=detail,
                                   failure=failure, discovery=discovery)  # fmt: skip
            return
        close_run(ctx.writer, ctx.run, ctx.profile, self.crawler.stats.get_stats(), reason, state=state,
                  detail=detail, failure=failure, discovery=discovery, warn=spider.logger.warning)  # fmt: skip
        if ctx.own_writer:
            ctx.writer.close()
