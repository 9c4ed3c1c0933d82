"""Find it: pure functions ``(html, url, profile, now) -> record``. Never imports Scrapy."""

from archiver.extract.article import extract_article
from archiver.extract.listing import extract_listing

__all__ = ["extract_article", "extract_listing"]
