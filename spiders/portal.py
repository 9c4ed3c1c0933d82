"""The one profile-driven spider: walks a portal's listings (categories, pagination) to its
articles. It only decides what to fetch next; extraction lives in ``archiver.extract``.

    scrapy crawl portal -a portal=haugiang [-a base_url=http://127.0.0.1:8000]

Incremental by default (``ARCHIVER_FULL`` off): articles already in the archive are not fetched
again, except those published within ``ARCHIVER_REVISIT_DAYS`` (to refresh view counts and catch
edits); once the portal has had one complete walk, a chain of listing pages is abandoned after
``ARCHIVER_STOP_AFTER`` pages in a row that bring no new article. A run killed before its walk
was complete is followed by a full walk that still skips stored articles: resuming costs the
listing pages, never a stored article. In every mode, a listing chain stops after
``ARCHIVER_MAX_EMPTY_LISTINGS`` pages without an article link not already seen in the run (a
calendar or pagination trap), and the run stops at ``ARCHIVER_MAX_PAGES`` pages.
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
from archiver.items import FetchError, GoneArticle
from archiver.normalize import canonical_url, parse_datetime
from archiver.profiles import Profile, get_portal
from archiver.runs import Plan


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
        self.fetch_errors = 0
        self.stopping = False
        self.empty_streak = 0  # listing pages in a row (portal-wide) without a link new in this run
        self.max_fetch_errors = 0  # 0: no limit
        self.max_depth = 0  # listing hops from a start URL; 0: no limit
        self.max_next = 0  # further-listing links followed per listing page; 0: no limit
        self.budget: int | None = None  # pages this run may still request; None: no cap
        self.capped = False
        self.full = True
        self.stop_after = 0
        self.max_empty = 5
        self.known: set[str] = set()
        self.revisit: list[str] = []
        self.seen_links: set[str] = set()
        self.requested: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PortalSpider:
        settings = crawler.settings
        kwargs.setdefault("base_url", settings.get("ARCHIVER_BASE_URL") or "")
        spider = super().from_crawler(crawler, *args, **kwargs)
        fixed = settings.get("ARCHIVER_NOW")
        spider.now = parse_datetime(fixed) if fixed else datetime.now(UTC)  # type: ignore[assignment]
        cap = settings.getint("ARCHIVER_MAX_PAGES", 0)
        spider.budget = cap if cap > 0 else None
        spider.full = settings.getbool("ARCHIVER_FULL", True)
        spider.stop_after = settings.getint("ARCHIVER_STOP_AFTER", 3)
        spider.max_empty = settings.getint("ARCHIVER_MAX_EMPTY_LISTINGS", 5)
        spider.max_fetch_errors = settings.getint("ARCHIVER_MAX_FETCH_ERRORS", 0)
        spider.max_depth = settings.getint("ARCHIVER_MAX_LISTING_DEPTH", 0)
        spider.max_next = settings.getint("ARCHIVER_MAX_NEXT_LINKS", 0)
        # What the archive already holds: given by the crawl runner (none for a bare `scrapy crawl`).
        ctx = getattr(crawler, "archiver", None)
        plan = ctx.plan if ctx is not None else Plan()
        spider.known = plan.known
        spider.revisit = [] if spider.full else plan.revisit
        if spider.full or not plan.walked_before:
            spider.stop_after = 0  # walk every listing page
        return spider

    @property
    def mode(self) -> str:
        return "full" if self.full else "incremental"

    # -- URLs ------------------------------------------------------------------------------
    def may_fetch(self, url: str) -> bool:
        """Only the fetch origin and the portal's own hosts (subdomains when the profile says)."""
        return urlsplit(url).netloc.lower() == self.fetch_host or self.profile.owns(url)

    def to_fetch(self, url: str) -> str | None:
        """The URL to request for a link found on a page, or None if it leaves the portal."""
        try:
            parts = urlsplit(url)
        except ValueError:  # a URL urllib cannot parse is not followed
            self.crawler.stats.inc_value("archiver/links/malformed")
            return None
        if parts.scheme not in ("http", "https"):
            return None
        if parts.netloc.lower() == self.fetch_host:
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
        return self.on_origin(self.canonical(url))

    def on_origin(self, canonical: str) -> str:
        """A canonical URL spelled on the fetch origin (the portal itself, or its mirror)."""
        canon = urlsplit(canonical)
        o = urlsplit(self.fetch_origin)
        return urlunsplit((o.scheme, o.netloc, canon.path, canon.query, ""))

    def request(self, url: str, callback: Any, **kw: Any) -> scrapy.Request | None:
        """A request within the page cap, or None once the cap is spent."""
        if self.budget is not None:
            if self.budget <= 0:
                self.capped = True
                self.crawler.stats.inc_value("archiver/pages/over_cap")
                return None
            self.budget -= 1
        return scrapy.Request(url, callback=callback, errback=self.on_error, **kw)

    # -- crawling --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for start in self.profile.start_urls:
            url = urljoin(self.fetch_origin + "/", start)
            self.requested.add(url)
            req = self.request(url, self.parse_listing, cb_kwargs={"stale": 0, "empty": 0, "depth": 0})
            if req is not None:
                yield req
        for url in self.revisit:
            self.requested.add(self.fetch_form(url))
            req = self.request(self.fetch_form(url), self.parse_article, meta={"known": True}, dont_filter=True)
            if req is not None:
                self.crawler.stats.inc_value("archiver/revisit")
                yield req

    def parse_listing(self, response: Response, stale: int = 0, empty: int = 0,
                      depth: int = 0) -> Iterator[scrapy.Request]:  # fmt: skip
        self.crawler.stats.inc_value("archiver/pages/listing")
        if not hasattr(response, "text"):
            return
        listing = extract_listing(response.text, response.url, profile=self.profile)
        self.crawler.stats.inc_value("archiver/listing/links", len(listing.article_urls))
        new_in_archive = new_in_run = 0
        for link in listing.article_urls:
            target = self.to_fetch(link)
            if target is None:
                self.crawler.stats.inc_value("archiver/links/offsite")
                continue
            try:
                canon = self.canonical(target)
            except ValueError:  # a URL that cannot be canonicalised is not followed
                self.crawler.stats.inc_value("archiver/links/malformed")
                continue
            if canon not in self.seen_links:
                self.seen_links.add(canon)
                new_in_run += 1
            if canon in self.known and not self.full:
                self.crawler.stats.inc_value("archiver/links/known")
                continue
            new_in_archive += 1
            url = self.on_origin(canon)  # canonicalised once per link
            if url in self.requested:
                continue
            self.requested.add(url)
            # The spider dedupes article requests itself; Scrapy's filter would also swallow the
            # second hop of a redirect loop, which must end as a recorded failure.
            req = self.request(url, self.parse_article, dont_filter=True)
            if req is not None:
                yield req
        stale = 0 if new_in_archive else stale + 1
        empty = 0 if new_in_run else empty + 1
        # Portal-wide too: a pager that fans out to thousands of pages brings no new link on any.
        self.empty_streak = 0 if new_in_run else self.empty_streak + 1
        if self.max_empty and self.empty_streak >= self.max_empty * 10:
            if self.empty_streak == self.max_empty * 10:
                self.logger.warning("%s: %d listing pages in a row without a new link: following no further "
                                    "listing page", self.portal, self.empty_streak)  # fmt: skip
            self.crawler.stats.inc_value("archiver/listing/stopped_trap")
            return
        if self.stop_after and stale >= self.stop_after:
            self.crawler.stats.inc_value("archiver/listing/stopped_no_new")
            return
        if empty >= self.max_empty:
            self.crawler.stats.inc_value("archiver/listing/stopped_trap")
            self.logger.warning("%s: %d listing pages in a row without a new link, not following further (%s)",
                                self.portal, empty, response.url)  # fmt: skip
            return
        if self.max_depth and depth + 1 > self.max_depth:
            self.crawler.stats.inc_value("archiver/listing/stopped_depth")
            self.logger.warning("%s: listing chain %d pages deep, not following further (%s; "
                                "ARCHIVER_MAX_LISTING_DEPTH)", self.portal, depth + 1, response.url)  # fmt: skip
            return
        followed = 0
        for link in listing.next_urls:
            target = self.to_fetch(link)
            if target is None or target in self.requested:
                continue  # deduplicated here, so that the page cap counts pages really fetched
            if self.max_next and followed >= self.max_next:
                self.crawler.stats.inc_value("archiver/listing/next_links_dropped")
                continue
            followed += 1
            self.requested.add(target)
            req = self.request(target, self.parse_listing, cb_kwargs={"stale": stale, "empty": empty,
                                                                       "depth": depth + 1})  # fmt: skip
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
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        art = extract_article(response.body, canonical, profile=self.profile, now=self.now, content_type=content_type)
        art.portal = self.portal
        art.fetched_url = response.url
        art.canonical_url = canonical
        art.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        if response.request is not None and response.request.meta.get("redirect_urls"):
            # Moved (301): the article is kept under its new URL and recognised by its text.
            self.crawler.stats.inc_value("archiver/pages/redirected")
        yield art

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        reason = f"HTTP {status}" if status is not None else (failure.getErrorMessage() or failure.type.__name__)
        attempts = (request.meta.get("retry_times", 0) if request is not None else 0) + 1
        stats = self.crawler.stats
        stats.inc_value("archiver/fetch/errors")
        if stats.get_value("archiver/fetch/first_error") is None:
            stats.set_value("archiver/fetch/first_error", f"{url} ({reason})")
        self.logger.warning("fetch failed: %s (%s, %d attempt(s))", url, reason, attempts)
        yield FetchError(url, status, reason, attempts)
        self.fetch_errors += 1
        if self.max_fetch_errors and self.fetch_errors >= self.max_fetch_errors and not self.stopping:
            pages = (stats.get_value("archiver/pages/listing") or 0) + (stats.get_value("archiver/pages/article") or 0)
            if pages < self.fetch_errors:
                self.stopping = True
                from scrapy.utils.defer import deferred_from_coro

                self.logger.warning("%s: %d failed fetches and only %d pages: stopping the run "
                                    "(ARCHIVER_MAX_FETCH_ERRORS)", self.portal, self.fetch_errors, pages)  # fmt: skip
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="too_many_errors"))
        if status in (404, 410) and request is not None and request.callback == self.parse_article:
            canon = self.canonical(url)
            if canon in self.known:
                yield GoneArticle(self.portal, canon, status)
