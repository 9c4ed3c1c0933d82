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

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from archiver.cluster import claim
from archiver.extract import extract_listing
from archiver.items import Capture, FetchError, GoneArticle
from archiver.normalize import parse_datetime
from archiver.profiles import Profile, get_portal
from archiver.site import Site


def capture_of(response: Response, source: str) -> Capture:
    """A response as the spider received it (Scrapy has decoded its Content-Encoding; the WARC
    record, written before that, holds it as sent), with the location of its WARC record."""
    request = response.request
    meta = request.meta if request is not None else {}
    warc = meta.get("archiver_warc") or {}
    redirects = meta.get("redirect_urls") or []
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs
                    if k.lower() not in (b"content-encoding", b"transfer-encoding"))  # fmt: skip
    return Capture(
        url=redirects[0] if redirects else response.url, final_url=response.url, status=response.status,
        headers=headers, body=response.body,
        fetched_at=warc.get("fetched_at") or datetime.now(UTC).isoformat(timespec="seconds"), source=source,
        warc_file=warc.get("file"), warc_offset=warc.get("offset"), record_id=warc.get("record_id"),
        payload_digest=warc.get("digest"),
    )  # fmt: skip


_GONE = {"DNSLookupError": "the host does not resolve", "CannotResolveHostError": "the host does not resolve",
         "ConnectionRefusedError": "connection refused", "DownloadConnectionRefusedError": "connection refused",
         "DownloadTimeoutError": "no answer (timeout)",
         "TCPTimedOutError": "no answer (timeout)", "TimeoutError": "no answer (timeout)",
         "ConnectError": "cannot connect", "NoRouteError": "no route to the host"}  # fmt: skip


def _failure_kind(failure: Failure, request: scrapy.Request, reason: str) -> tuple[str, str]:
    """("moved", "to https://…") for a redirect off the portal, ("gone", why) for a dead host,
    else ("error", reason)."""
    from spiders.safety import Refused

    if failure.check(Refused) and "offsite" in str(failure.value) and request.meta.get("redirect_urls"):
        return "moved", f"redirects to {request.url} (not followed: another host)"
    for cls in failure.type.__mro__ if failure.type is not None else ():
        if cls.__name__ in _GONE:
            return "gone", _GONE[cls.__name__]
    return "error", reason


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portal: str = "", base_url: str = "", profile: Profile | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        if not portal and profile is None:
            raise ValueError("PortalSpider needs -a portal=<slug>")
        self.profile = profile or get_portal(portal)
        self.portal = self.profile.slug
        # Where to fetch from (the portal itself, or a mirror of it), and which URLs are its own.
        self.site = Site.of(self.profile, base_url or None)
        self.fetch_origin = self.site.fetch_origin
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
        self.attachments_seen: set[str] = set()  # canonical URLs of documents requested in this run
        self.known_documents: set[str] = set()  # documents the archive holds (an incremental run skips them)
        self.start_failures: list[tuple[str, str]] = []  # (kind of failure, description) of start pages
        self.seeds = True  # this process requests the start pages (a worker: the one that opened the run)
        self.cluster: Any = None  # a worker's handle on the cluster (archiver crawl --redis)
        self.claims: Any = None  # a worker's claims waiting for their request (spiders.cluster.Claims)
        self.run_token = ""

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
        # What the archive already holds: given by the crawl runner. A bare `scrapy crawl portal`
        # has no runner: a context of its own is opened for it (the archive at ARCHIVER_DB).
        ctx = getattr(crawler, "archiver", None)
        if ctx is None:
            from archiver.crawl import standalone_context

            ctx = standalone_context(crawler, spider.profile, kwargs.get("base_url") or None)
        spider.site = ctx.site
        spider.fetch_origin = ctx.site.fetch_origin
        plan = ctx.plan
        spider.known = plan.known
        spider.known_documents = plan.documents
        spider.revisit = [] if spider.full else plan.revisit
        if spider.full or not plan.walked_before:
            spider.stop_after = 0  # walk every listing page
        if ctx.cluster is not None:
            # A worker: what the run has requested and seen is shared by all its workers.
            # A URL claimed (requested, documents) is claimed in the step that queues its request.
            from spiders.cluster import Claims, SharedSet

            run: Any = ctx.run  # an archiver.cluster.ClusterRun
            spider.cluster, spider.run_token = ctx.cluster, run.token
            spider.claims = Claims()
            spider.requested = SharedSet(ctx.cluster, run.token, "claimed", spider.claims)  # type: ignore[assignment]
            spider.seen_links = SharedSet(ctx.cluster, run.token, "links")  # type: ignore[assignment]
            spider.attachments_seen = SharedSet(ctx.cluster, run.token, "documents",  # type: ignore[assignment]
                                                spider.claims)  # fmt: skip
            spider.seeds = run.opened
        return spider

    @property
    def mode(self) -> str:
        return "full" if self.full else "incremental"

    # -- URLs: the portal's URL space is the pure Site object ------------------------------
    def to_fetch(self, url: str) -> str | None:
        target = self.site.to_fetch(url)
        if target is None and "://" in url and url.split("://", 1)[0].lower() in ("http", "https"):
            self.crawler.stats.inc_value("archiver/links/offsite_or_malformed")
        return target

    def spend(self) -> bool:
        """One page of the page cap; False once it is spent."""
        if self.budget is not None and self.cluster is not None:
            if not self.cluster.spend(self.run_token, self.budget):  # the cap holds for the whole run
                self.capped = True
                self.crawler.stats.inc_value("archiver/pages/over_cap")
                return False
            return True
        if self.budget is not None:
            if self.budget <= 0:
                self.capped = True
                self.crawler.stats.inc_value("archiver/pages/over_cap")
                return False
            self.budget -= 1
        return True

    def request(self, url: str, callback: Any, **kw: Any) -> scrapy.Request | None:
        """A request within the page cap, or None once the cap is spent."""
        claims = self.claims.take() if self.claims is not None else []
        if not self.spend():
            if claims:
                self.claims.forget(claims)
            return None
        errback = kw.pop("errback", None) or self.on_error
        if claims:
            from spiders.cluster import CLAIMS

            kw["meta"] = {**(kw.get("meta") or {}), CLAIMS: claims}
        return scrapy.Request(url, callback=callback, errback=errback, **kw)

    # -- crawling --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        if not self.seeds:
            return  # a worker that joined a run: its requests come from the shared queue
        for req in self.seed_requests():
            yield req
        if self.cluster is not None:
            self.cluster.seeded(self.run_token)  # the engine has queued every start page

    def seed_requests(self, again: bool = False) -> Iterator[scrapy.Request]:
        """The start pages, then the revisits. ``again``: a worker taking over from a run's opener
        that died before queuing them all (what it had queued is refused by the claims and the
        duplicate filter)."""
        for url in self.site.start_urls():
            self.requested.add(url)
            req = self.request(url, self.parse_listing, cb_kwargs={"stale": 0, "empty": 0, "depth": 0},
                               meta={"kind": "listing", "start": True})  # fmt: skip
            if req is not None:
                yield req
        yield from self.revisit_requests(again)

    def revisit_requests(self, again: bool = False) -> Iterator[scrapy.Request]:
        """Stored articles published lately, fetched again (view counts, edits)."""
        for url in self.revisit:
            target = self.site.fetch_form(url)
            if again:
                if not claim(self.requested, target):
                    continue
            else:
                self.requested.add(target)
            req = self.request(target, self.parse_article, meta={"known": True, "kind": "article"}, dont_filter=True)
            if req is not None:
                self.crawler.stats.inc_value("archiver/revisit")
                yield req

    def parse_listing(self, response: Response, stale: int = 0, empty: int = 0,
                      depth: int = 0) -> Iterator[scrapy.Request]:  # fmt: skip
        self.crawler.stats.inc_value("archiver/pages/listing")
        if not hasattr(response, "text"):
            return
        listing = extract_listing(response.text, response.url, profile=self.profile)
        yield from self.follow(response, listing.article_urls, listing.next_urls, stale, empty, depth)

    def article_request(self, url: str) -> scrapy.Request | None:
        return self.request(url, self.parse_article, dont_filter=True, meta={"kind": "article"})

    def listing_id(self, url: str) -> str:
        """What makes two listing URLs one page (the discovery spider: ``?page=1`` is the first)."""
        return url

    def more_next(self, response: Response, cb_kwargs: dict[str, Any]) -> Iterator[scrapy.Request]:
        """Further listing pages that are no links (the discovery spider: ASP.NET postbacks)."""
        return iter(())

    def follow(self, response: Response, article_urls: list[str], next_urls: list[str], stale: int, empty: int,
               depth: int) -> Iterator[scrapy.Request]:  # fmt: skip
        """Request a listing page's new articles and, unless a guard says stop, its further pages."""
        self.crawler.stats.inc_value("archiver/listing/links", len(article_urls))
        new_in_archive = new_in_run = 0
        for link in article_urls:
            target = self.to_fetch(link)
            if target is None:
                self.crawler.stats.inc_value("archiver/links/offsite")
                continue
            try:
                canon = self.site.canonical(target)
            except ValueError:  # a URL that cannot be canonicalised is not followed
                self.crawler.stats.inc_value("archiver/links/malformed")
                continue
            if claim(self.seen_links, canon):
                new_in_run += 1
            if canon in self.known and not self.full:
                self.crawler.stats.inc_value("archiver/links/known")
                continue
            new_in_archive += 1
            url = self.site.on_origin(canon)  # canonicalised once per link
            if not claim(self.requested, url):
                continue
            # The spider dedupes article requests itself; Scrapy's filter would also swallow the
            # second hop of a redirect loop, which must end as a recorded failure.
            req = self.article_request(url)
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
        for link in next_urls:
            target = self.to_fetch(link)
            if target is None:
                continue
            key = self.listing_id(target)
            if key in self.requested:
                continue  # deduplicated here, so that the page cap counts pages really fetched
            if self.max_next and followed >= self.max_next:
                self.crawler.stats.inc_value("archiver/listing/next_links_dropped")
                continue
            if not claim(self.requested, key):
                continue  # another worker of the run took it meanwhile
            followed += 1
            req = self.request(target, self.parse_listing, cb_kwargs={"stale": stale, "empty": empty,
                                                                       "depth": depth + 1}, meta={"kind": "listing"})  # fmt: skip
            if req is not None:
                yield req
        yield from self.more_next(response, {"stale": stale, "empty": empty, "depth": depth + 1})

    def portal_state(self) -> tuple[str, str | None]:
        """Whether the portal is ``live``, ``moved`` (to where) or ``gone`` (why), from this run's
        start pages: a redirect off the portal's hosts is not followed and means moved; a host
        that does not resolve, refuses or never answers, with no page fetched, means gone."""
        moved = [d for k, d in self.start_failures if k == "moved"]
        if moved:
            return "moved", moved[0]
        stats = self.crawler.stats
        pages = sum(int(stats.get_value(f"archiver/pages/{k}") or 0) for k in ("listing", "article", "other"))
        gone = [d for k, d in self.start_failures if k == "gone"]
        if not pages and gone and len(gone) == len(self.start_failures):
            return "gone", gone[0]
        return "live", None

    def parse_article(self, response: Response) -> Iterator[Any]:
        """The page as captured: extraction is ingest's business, not the spider's."""
        self.crawler.stats.inc_value("archiver/pages/article")
        if response.request is not None and response.request.meta.get("redirect_urls"):
            # Moved (301): the article is kept under its new URL and recognised by its text.
            self.crawler.stats.inc_value("archiver/pages/redirected")
        yield capture_of(response, source="mirror" if self.site.is_mirror else "live")

    def next_attachment(self, queue: list[tuple[str, str, str | None]], budget: int) -> scrapy.Request | None:
        """The request for the next of an article's documents (``queue``: (URL to fetch, canonical
        URL, link text)), allowed at most what is left of the article's ``budget`` of bytes; None
        when the queue is done, the budget spent or the run's page cap reached."""
        cap = int(self.crawler.settings.getfloat("ARCHIVER_ATTACHMENT_MAX_MB", 50) * 2**20)
        while queue:
            if budget <= 0:
                self.crawler.stats.inc_value("archiver/attachments/over_cap", len(queue))
                self.logger.warning("%s: %d document(s) not fetched: the article's documents passed "
                                    "ARCHIVER_ATTACHMENTS_ARTICLE_MAX_MB", queue[0][1], len(queue))  # fmt: skip
                for _, canonical, _ in queue:
                    self.attachments_seen.discard(canonical)  # another article may still fetch it
                return None
            target, canonical, text = queue.pop(0)
            req = self.request(target, self.parse_attachment, meta={
                "kind": "attachment", "canonical": canonical, "link_text": text,
                "download_maxsize": max(1, min(cap, budget)), "documents": queue, "budget": budget},
                dont_filter=True)  # fmt: skip  (deduplicated by attachments_seen; a redirect may lead to a file fetched already)
            if req is not None:
                return req
        return None

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        """A document an article links to: what it is and says (``archiver.attachments``)."""
        from archiver.attachments import Limits, describe
        from archiver.items import AttachmentFile

        self.crawler.stats.inc_value("archiver/pages/attachment")
        meta = response.meta
        header = response.headers.get
        limits = Limits(ocr=self.crawler.settings.get("ARCHIVER_ATTACHMENT_OCR", "auto") != "off")
        row = describe(meta["canonical"], response.body, final_url=response.url, link_text=meta.get("link_text"),
                       content_type=(header("Content-Type") or b"").decode("latin-1") or None,
                       content_disposition=(header("Content-Disposition") or b"").decode("latin-1") or None,
                       limits=limits)  # fmt: skip
        yield AttachmentFile(row, (meta.get("archiver_warc") or {}).get("record_id"))
        nxt = self.next_attachment(meta.get("documents") or [], int(meta.get("budget") or 0) - len(response.body))
        if nxt is not None:
            yield nxt

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
        if request is not None and request.meta.get("start"):
            self.start_failures.append(_failure_kind(failure, request, reason))
        yield FetchError(url, status, reason, attempts)
        if request is not None and request.meta.get("kind") == "attachment":
            nxt = self.next_attachment(request.meta.get("documents") or [], int(request.meta.get("budget") or 0))
            if nxt is not None:
                yield nxt
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
            canon = self.site.canonical(url)
            if canon in self.known:
                yield GoneArticle(self.portal, canon, status)
        if self.cluster is not None:
            from spiders.cluster import done

            done(self.crawler, request)  # a failed fetch's errback is not seen by spider middlewares
