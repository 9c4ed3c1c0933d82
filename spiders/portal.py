"""The one profile-driven spider: walks a portal's listings (categories, pagination) to its
articles. It only decides what to fetch next; extraction lives in ``archiver.extract``.

    scrapy crawl portal -a portal=haugiang [-a base_url=http://127.0.0.1:8000]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from archiver.extract import extract_article, extract_listing
from archiver.normalize import canonical_url, parse_datetime
from archiver.profiles import Profile, get_portal


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portal: str = "", base_url: str = "", profile: Profile | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        if not portal and profile is None:
            raise ValueError("PortalSpider needs -a portal=<slug>")
        self.profile = profile or get_portal(portal)
        self.portal = self.profile.slug
        # Where to fetch from: the portal itself, or a mirror of it.
        self.fetch_origin = (base_url or self.profile.base_url).rstrip("/")
        self.fetch_host = urlsplit(self.fetch_origin).netloc.lower()
        self.now: datetime | None = None
        self.errors: list[tuple[str, str]] = []
        # Pages this run may still request (ARCHIVER_MAX_PAGES); None: no cap.
        self.budget: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PortalSpider:
        settings = crawler.settings
        kwargs.setdefault("base_url", settings.get("ARCHIVER_BASE_URL") or "")
        spider = super().from_crawler(crawler, *args, **kwargs)
        fixed = settings.get("ARCHIVER_NOW")
        spider.now = parse_datetime(fixed) if fixed else datetime.now(UTC)  # type: ignore[assignment]
        cap = settings.getint("ARCHIVER_MAX_PAGES", 0)
        spider.budget = cap if cap > 0 else None
        return spider

    def request(self, url: str, callback: Any, **kw: Any) -> scrapy.Request | None:
        """A request within the page cap, or None once the cap is spent."""
        if self.budget is not None:
            if self.budget <= 0:
                self.crawler.stats.inc_value("archiver/pages/over_cap")
                return None
            self.budget -= 1
        return scrapy.Request(url, callback=callback, errback=self.on_error, **kw)

    # -- URLs ------------------------------------------------------------------------------
    def to_fetch(self, url: str) -> str | None:
        """The URL to request for a link found on a page, or None if it leaves the portal."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        host = parts.netloc.lower()
        if host == self.fetch_host:
            return url
        if self.profile.owns(url):
            # A link to the portal's own host while crawling a mirror: fetch it from the mirror.
            o = urlsplit(self.fetch_origin)
            return urlunsplit((o.scheme, o.netloc, parts.path, parts.query, ""))
        return None

    def canonical(self, url: str) -> str:
        return canonical_url(
            url,
            keep_params=self.profile.get("urls.keep_params"),
            drop_params=self.profile.get("urls.drop_params", ()),
            origin=self.profile.base_url,
            hosts=(*self.profile.hosts, self.fetch_host),
        )

    def fetch_form(self, url: str) -> str:
        """The canonical URL spelled on the fetch origin: tracking parameters dropped before
        requesting, so the same article listed twice is fetched once."""
        canon = urlsplit(self.canonical(url))
        o = urlsplit(self.fetch_origin)
        return urlunsplit((o.scheme, o.netloc, canon.path, canon.query, ""))

    # -- crawling --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for start in self.profile.start_urls:
            req = self.request(urljoin(self.fetch_origin + "/", start), self.parse_listing, cb_kwargs={"depth": 0})
            if req is not None:
                yield req

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        self.crawler.stats.inc_value("archiver/pages/listing")
        listing = extract_listing(response.text, response.url, profile=self.profile)
        if not listing.article_urls:
            self.crawler.stats.inc_value("archiver/listing/empty")
        for link in listing.article_urls:
            target = self.to_fetch(link)
            if target is None:
                self.crawler.stats.inc_value("archiver/links/offsite")
                continue
            req = self.request(self.fetch_form(target), self.parse_article)
            if req is not None:
                yield req
        for link in listing.next_urls:
            target = self.to_fetch(link)
            req = self.request(target, self.parse_listing, cb_kwargs={"depth": depth + 1}) if target else None
            if req is not None:
                yield req

    def parse_article(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("archiver/pages/article")
        if not hasattr(response, "text"):
            self.crawler.stats.inc_value("archiver/pages/not_text")
            return
        # Extract against the canonical URL, so that links and images in the stored HTML point
        # at the portal, not at the mirror the page was fetched from.
        canonical = self.canonical(response.url)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        art = extract_article(response.body, canonical, profile=self.profile, now=self.now, content_type=content_type)
        art.portal = self.portal
        art.fetched_url = response.url
        art.canonical_url = canonical
        art.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        yield art

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = failure.getErrorMessage() or failure.type.__name__
        response = getattr(failure.value, "response", None)
        if response is not None:
            reason = f"HTTP {response.status}"
        self.errors.append((url, reason))
        self.crawler.stats.inc_value("archiver/fetch/errors")
        self.logger.warning("fetch failed: %s (%s)", url, reason)
