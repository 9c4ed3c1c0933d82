"""Find it: pure functions ``(html, url, profile, now) -> record``. Never imports Scrapy.

``EXTRACTOR_VERSION`` names the extraction code: raise it whenever a change can change what is
extracted from a page. ``extractor_version(profile)`` adds a digest of the profile's keys, so
that an edited selector is a new extractor too. Each revision records the extractor that made
it; ``archiver reparse`` re-extracts stored captures with the current one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from archiver.extract.article import extract_article
from archiver.extract.listing import extract_listing


def find_published(html: str | bytes, url: str, *, now: Any = None, content_type: str | None = None) -> Any:
    """The publication date of a page (date or aware datetime, or None), without extracting the
    rest: the generic extractor's date rules (labelled line next to the title, htmldate, JSON-LD
    and meta tags, the URL)."""
    from archiver.extract.generic import published_only
    from archiver.extract.html import to_unicode

    return published_only(to_unicode(html, content_type), url, now)[0]

EXTRACTOR_VERSION = "2026.12.1"


def extractor_version(profile: Any = None) -> str:
    if profile is None:
        return f"{EXTRACTOR_VERSION}+generic"
    keys = json.dumps(profile.keys, sort_keys=True, ensure_ascii=False, default=str)
    return f"{EXTRACTOR_VERSION}+{hashlib.sha1(keys.encode()).hexdigest()[:8]}"


__all__ = ["EXTRACTOR_VERSION", "extract_article", "extract_listing", "extractor_version", "find_published"]
