"""Run crawls from Python (the CLI's ``crawl`` and ``demo``): one Scrapy process, one spider
per portal, each recorded as a ``crawl_runs`` row by the store pipeline."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archiver.profiles import Profile
from archiver.store import Archive


def _quiet_tracebacks(level: str) -> None:
    """Log records without tracebacks: a cron log says what failed and where, in one line.
    (``--log-level DEBUG`` keeps them.)"""
    if level == "DEBUG":
        return
    factory = logging.getLogRecordFactory()

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.exc_info = None
        record.exc_text = None
        return record

    logging.setLogRecordFactory(make)


def make_settings(db: str | Path, *, max_pages: int | None = None, log_level: str = "WARNING",
                  overrides: dict[str, Any] | None = None, full: bool = True,
                  log_file: str | None = None) -> Settings:  # fmt: skip
    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.set("ARCHIVER_DB", str(db), priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("ARCHIVER_FULL", full, priority="cmdline")
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        settings.set("LOG_FILE", log_file, priority="cmdline")
    if max_pages:
        settings.set("ARCHIVER_MAX_PAGES", max_pages, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawls(profiles: list[Profile], db: str | Path, *, base_url: str | None = None,
               max_pages: int | None = None, log_level: str = "WARNING", overrides: dict[str, Any] | None = None,
               full: bool = True, log_file: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Crawl each portal (concurrently, each polite on its own host, each isolated: one failing
    portal does not stop the others); return their run rows. The caller holds the archive's lock."""
    from spiders.portal import PortalSpider

    settings = make_settings(db, max_pages=max_pages, log_level=log_level, overrides=overrides, full=full,
                             log_file=log_file)  # fmt: skip
    Archive(db).close()  # create or upgrade the archive before any spider opens it
    process = CrawlerProcess(settings)
    _quiet_tracebacks(log_level)
    crawlers = []
    for profile in profiles:
        crawler = process.create_crawler(PortalSpider)
        crawlers.append(crawler)
        process.crawl(crawler, profile=profile, base_url=base_url or "")
    process.start()
    run_ids = [getattr(c.spider, "run_id", None) for c in crawlers]
    with Archive(db) as archive:
        rows = []
        for profile, run_id in zip(profiles, run_ids, strict=True):
            found = list(archive.query("SELECT * FROM crawl_runs WHERE id = ?", (run_id,))) if run_id else []
            rows.append(found[0] if found else {"portal": profile.slug, "status": "failed",
                                                "reason": "the crawl did not start"})  # fmt: skip
    return rows
