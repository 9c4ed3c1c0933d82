"""Drop what is not an archivable article (error page, no title, empty body), with its reason."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from archiver.items import Article


class ValidatePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        problems = item.problems()
        if problems:
            stats = self.crawler.stats
            stats.inc_value("archiver/validate/not_article")
            for p in problems:
                stats.inc_value(f"archiver/validate/{p.replace(' ', '_')}")
            raise DropItem(f"not an article ({', '.join(problems)}): {item.fetched_url or item.url}")
        self.crawler.stats.inc_value("archiver/validate/ok")
        return item
