"""A progress line on the terminal while crawling (nothing when stderr is not a terminal)."""

from __future__ import annotations

import sys
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class ProgressLine:
    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressLine:
        interval = crawler.settings.getfloat("ARCHIVER_PROGRESS_INTERVAL", 2.0)
        if interval <= 0 or not sys.stderr.isatty():
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.show, spider)
        self.loop.start(self.interval, now=False)

    def show(self, spider: Any) -> None:
        s = self.crawler.stats
        get = lambda k: s.get_value(k, 0)  # noqa: E731
        pages = get("archiver/pages/listing") + get("archiver/pages/article")
        sys.stderr.write(
            f"\r{spider.portal}: {pages} pages, {get('archiver/store/new')} new, {get('archiver/store/updated')} updated, "
            f"{get('archiver/store/unchanged')} unchanged, {get('archiver/fetch/errors')} errors\x1b[K\n"
        )

    def closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
