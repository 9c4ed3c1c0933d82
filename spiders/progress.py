"""One progress line on the terminal for the whole crawl, updated in place (nothing when stderr
is not a terminal, as under cron)."""

from __future__ import annotations

import sys
from typing import Any


class ProgressLine:
    def __init__(self, crawlers: list[Any], interval: float) -> None:
        self.crawlers = crawlers
        self.interval = interval
        self.loop: Any = None
        self.shown = False

    @classmethod
    def for_process(cls, crawlers: list[Any], settings: Any) -> ProgressLine | None:
        interval = settings.getfloat("ARCHIVER_PROGRESS_INTERVAL", 2.0)
        if interval <= 0 or not sys.stderr.isatty():
            return None
        return cls(crawlers, interval)

    def start(self) -> None:
        from twisted.internet import task

        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def line(self) -> str:
        total = {"pages": 0, "new": 0, "updated": 0, "unchanged": 0, "errors": 0}
        active = 0
        for crawler in self.crawlers:
            ctx = getattr(crawler, "archiver", None)
            stats = crawler.stats
            if stats is None:
                continue
            get = lambda k, s=stats: int(s.get_value(k, 0) or 0)  # noqa: E731
            total["pages"] += get("archiver/pages/listing") + get("archiver/pages/article")
            total["errors"] += get("archiver/fetch/errors")
            if ctx is not None:
                c = ctx.run.counts
                total["new"] += c.new
                total["updated"] += c.updated
                total["unchanged"] += c.unchanged
                active += not ctx.run.finished
        return (f"{active}/{len(self.crawlers)} portal(s) running: {total['pages']} pages, {total['new']} new, "
                f"{total['updated']} updated, {total['unchanged']} unchanged (committed), {total['errors']} errors")  # fmt: skip

    def show(self) -> None:
        # \r and "erase to end of line": the line is rewritten in place, it does not scroll.
        sys.stderr.write("\r" + self.line()[:200] + "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
