"""Drop what is not an archivable article (error page, no title, empty body), with its reason;
count every extracted article and which fields it had (a redesign shows as a falling fill rate)."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from archiver.items import Article


def filled(item: Article) -> dict[str, bool]:
    """Which watched fields an extracted article has (see ``archiver.runs.WATCHED_FIELDS``)."""
    return {
        "title": bool((item.title or "").strip()),
        "published": item.published is not None,
        "body": bool((item.body_text or "").strip()),
        "views": item.views is not None,
        "author": bool(item.author),
        "category": bool(item.category),
    }


class ValidatePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        stats = self.crawler.stats
        stats.inc_value("archiver/extracted")
        for name, present in filled(item).items():
            if present:
                stats.inc_value(f"archiver/filled/{name}")
        problems = item.problems()
        if problems:
            stats.inc_value("archiver/validate/not_article")
            for p in problems:
                stats.inc_value(f"archiver/validate/{p.replace(' ', '_')}")
            raise DropItem(f"not an article ({', '.join(problems)}): {item.fetched_url or item.url}")
        stats.inc_value("archiver/validate/ok")
        return item
