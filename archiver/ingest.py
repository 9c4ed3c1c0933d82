"""The one path from a fetched page to the archive: ``Capture`` -> extract -> validate -> dedupe
-> what the store writes. Knows nothing of Scrapy; the live crawl, ``archiver reparse`` and
``archiver import-warc`` all use it.

``Ingestor(site, ...).ingest(capture)`` returns an ``Outcome``: the ``Ingested`` item the
writer stores (the article, the capture it came from, the extractor that made it, and, if its
text differs from what is stored, why: ``source`` when the portal changed the page, ``reextract``
when the same page now extracts differently because our code or profile changed, ``unknown``
when the earlier page's bytes are not kept to tell), or why the page was dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.extract import extract_article, extractor_version
from archiver.items import Article, Capture
from archiver.site import Site
from archiver.store.archive import content_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ingested:
    """An article to store, with its provenance."""

    article: Article
    record_id: str | None  # the capture's WARC-Record-ID (None: not recorded)
    extractor: str
    reason: str = "source"  # why a changed text is a new revision
    source: str = "live"  # the capture's source: a ``wayback`` capture may be older than what is stored
    digest: str | None = None  # the capture's payload digest


@dataclass(frozen=True)
class Reextracted:
    """``archiver reparse``: what the current extractor makes of an article's stored capture."""

    article_id: str
    article: Article
    capture_id: int
    extractor: str


@dataclass
class Outcome:
    item: Ingested | None = None
    dropped: str | None = None  # why not stored: "not an article (...)", "duplicate in this run"
    extracted: Article | None = None
    fill: dict[str, bool] = field(default_factory=dict)


def filled(art: Article, profile: Any = None) -> dict[str, bool]:
    """Which watched fields an extracted article has (see ``archiver.runs.WATCHED_FIELDS``). A
    field the profile has a selector for counts only when that selector found it: when the
    generic extractor had to fill it in, the selector no longer matches (a redesign), even if
    the archive still gets the value."""
    from archiver.runs import WATCHED_FIELDS

    present = {
        "title": bool((art.title or "").strip()),
        "published": art.published is not None,
        "body": bool((art.body_text or "").strip()),
        "views": art.views is not None,
        "author": bool(art.author),
        "category": bool(art.category),
    }
    if profile is not None:
        for name, key in WATCHED_FIELDS.items():
            if profile.get(key) and art.rules.get(name, "").startswith("generic"):
                present[name] = False
    return present


# (content_hash, extractor, payload digest, loader of its capture) of the stored latest revision of
# the article at a canonical URL, or None when there is none.
History = Callable[[str], "tuple[str, str | None, str | None, Callable[[], Capture | None] | None] | None"]


class Ingestor:
    def __init__(self, site: Site, *, now: datetime | None = None, history: History | None = None,
                 warc: Any = None) -> None:  # fmt: skip
        self.site = site
        self.now = now
        self.history = history
        self.warc = warc  # a WarcStore: the extraction outcome is written beside the response
        self.extractor = extractor_version(site.profile)
        self.seen: set[str] = set()
        self.on_warc_error: Callable[[str], None] | None = None

    def extract(self, capture: Capture) -> Article:
        """The article a capture holds, normalised, on its canonical URL (links in the stored
        HTML point at the portal, not at the mirror it was fetched from)."""
        canonical = self.site.canonical(capture.final_url)
        # Relative dates ("2 giờ trước") are read against the time the page was captured, so that
        # re-extracting a stored capture later gives the same date.
        now = self.now or _time(capture.fetched_at)
        art = extract_article(capture.content(), canonical, profile=self.site.profile, now=now,
                              content_type=capture.content_type)  # fmt: skip
        return dataclasses.replace(art, portal=self.site.portal, canonical_url=canonical, fetched_url=capture.final_url,
                                   fetched_at=capture.fetched_at)  # fmt: skip

    def ingest(self, capture: Capture) -> Outcome:
        art = self.extract(capture)
        out = Outcome(extracted=art, fill=filled(art, self.site.profile))
        problems = art.problems()
        if problems:
            out.dropped = f"not an article ({', '.join(problems)}): {capture.final_url}"
        elif self._key(art, capture) in self.seen:
            out.dropped = f"duplicate in this run: {art.canonical_url}"
        self._metadata(capture, art, problems, out.dropped)
        if out.dropped:
            return out
        assert art.canonical_url is not None
        self.seen.add(self._key(art, capture))
        out.item = Ingested(art, capture.record_id, self.extractor, self.reason(art, capture), capture.source,
                            capture.payload_digest)  # fmt: skip
        return out

    @staticmethod
    def _key(art: Article, capture: Capture) -> str:
        """One article per run; from the Wayback Machine, one per capture time."""
        key = art.canonical_url or ""
        return f"{key} @{capture.fetched_at}" if capture.source == "wayback" else key

    def reason(self, art: Article, capture: Capture) -> str:
        """Why this extraction would be a new revision, if its text differs from the stored one."""
        if self.history is None or art.canonical_url is None:
            return "source"
        stored = self.history(art.canonical_url)
        if stored is None:
            return "source"
        stored_hash, stored_extractor, stored_digest, load = stored
        new_hash = content_hash(art.title, art.body_text)
        if new_hash == stored_hash:
            return "source"  # no new revision anyway
        if capture.payload_digest and stored_digest and capture.payload_digest == stored_digest:
            return "reextract"  # the same bytes: only the extraction can differ
        if stored_extractor == self.extractor:
            return "source"  # the same extractor: the page changed
        stored_capture = load() if load is not None else None
        if stored_capture is None:
            return "unknown"  # extractor and page both may have changed; the old bytes are not kept
        try:
            old = self.extract(stored_capture)
        except Exception as exc:  # noqa: BLE001 - an unreadable old capture cannot decide
            log.warning("%s: cannot re-extract the earlier capture (%s)", art.canonical_url, exc)
            return "unknown"
        return "reextract" if content_hash(old.title, old.body_text) == new_hash else "source"

    def _metadata(self, capture: Capture, art: Article, problems: list[str], dropped: str | None) -> None:
        if self.warc is None or capture.record_id is None or capture.source not in ("live", "mirror"):
            return
        outcome = {
            "extractor": self.extractor,
            "profile": self.site.profile.slug,
            "canonical_url": art.canonical_url,
            "outcome": "stored" if not dropped else ("duplicate" if dropped.startswith("duplicate") else "not_article"),
            "problems": problems,
            "fields": filled(art),
            "rules": art.rules,
            "content_hash": content_hash(art.title, art.body_text) if not problems else None,
            "published": art.published_iso,
            "published_raw": art.published_raw,
        }
        from archiver.capture.warc import WarcError

        try:
            self.warc.record_metadata(url=capture.final_url, concurrent_to=capture.record_id,
                                      fetched_at=capture.fetched_at, outcome=outcome)  # fmt: skip
        except WarcError as exc:
            log.error("%s", exc)
            if self.on_warc_error is not None:
                self.on_warc_error(f"cannot write WARC: {exc}")
            self.warc = None


def _time(iso: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None


def read_stored(base: Path, warc_file: str | None, offset: int | None) -> Capture | None:
    """The capture a revision came from, read back from its WARC file (None if not kept)."""
    if not warc_file or offset is None:
        return None
    from archiver.capture.warc import WarcError, read_capture

    path = Path(warc_file) if Path(warc_file).is_absolute() else base / warc_file
    try:
        return read_capture(path, offset, stored_as=warc_file)
    except WarcError as exc:
        log.warning("%s", exc)
        return None


def archive_history(archive: Any, base: Path, portal: str) -> History:
    """The ``History`` of a portal's articles in an archive, reading old captures lazily."""

    def lookup(canonical: str) -> tuple[str, str | None, str | None, Callable[[], Capture | None] | None] | None:
        rev = archive.latest_revision(portal, canonical)
        if rev is None:
            return None
        if not rev["capture_id"]:
            return rev["content_hash"], rev["extractor"], None, None
        warc_file, offset, digest = archive.payload_location(rev["capture_id"])
        return rev["content_hash"], rev["extractor"], digest, lambda: read_stored(base, warc_file, offset)

    return lookup
