"""Deduplicate within a run: the same canonical URL reached twice is passed on once.

Across runs (and across URLs of one article) the store decides: see ``Archive.save_article``.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from archiver.items import Article


class DedupePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article) or not item.canonical_url:
            return item
        if item.canonical_url in self.seen:
            self.crawler.stats.inc_value("archiver/dedupe/duplicate_url")
            raise DropItem(f"duplicate in this run: {item.canonical_url}")
        self.seen.add(item.canonical_url)
        return item
