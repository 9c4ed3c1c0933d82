"""A portal's captures in the Wayback Machine, through the same ingest path as a live crawl.

    archiver crawl SLUG --source wayback [--from YYYY[MM[DD]]] [--to …]

1. CDX queries (``archiver.wayback.cdx_url``) over every host of the portal, a page of rows at a
   time (``limit`` + ``showResumeKey``); the next page is asked for once every capture of this
   one is stored, and its resume key is then saved in the archive (``wayback_cursors``): a run
   killed or rate-limited goes on from there the next night. A finished walk saves the newest
   timestamp seen; the next run asks only for what is newer.
2. Rows are classified with the profile's ``urls.article_pattern`` (without one, every HTML page
   is fetched and told apart by its shape, as discovery does); captures already stored are
   skipped.
3. The captures of one article are replayed oldest first, one after the other (``id_``: the page
   as captured), so that its revisions and view observations line up in time. A replay that
   redirects to the same URL's capture at another timestamp is accepted within
   ``ARCHIVER_WAYBACK_WINDOW_DAYS`` (the capture then has that timestamp); a replay that is a
   historical redirect (a 3xx capture) is not followed off the archive.
4. Each capture becomes a ``Capture`` (source ``wayback``, the portal's original URL, the capture
   time as the time it was seen, the portal's ``x-archive-orig-*`` headers); ``ingest`` does the
   rest.

Rates: CDX queries at most ``ARCHIVER_WAYBACK_CDX_PER_MINUTE``, replays at most
``ARCHIVER_WAYBACK_REPLAYS_PER_SECOND``, each from one download slot (concurrency 1, no jitter,
AutoThrottle not allowed to shorten the delay); 429 and 5xx answers are retried after their
``Retry-After`` (``BackoffRetryMiddleware``); an access-control refusal is reported, not retried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from archiver.discover.pages import analyse
from archiver.items import Capture, WaybackCursor
from archiver.profiles import compiled
from archiver.wayback import (
    cdx_url,
    original_headers,
    parse_cdx,
    parse_replay_url,
    replay_url,
    seconds_apart,
    timestamp_iso,
)
from spiders.portal import PortalSpider

CDX_SLOT = "wayback-cdx"
REPLAY_SLOT = "wayback-replay"


class WaybackSpider(PortalSpider):
    name = "wayback"

    def __init__(self, *args: Any, **kw: Any) -> None:
        only_new = bool(kw.pop("only_new_urls", False))
        super().__init__(*args, **kw)
        self.base = "https://web.archive.org"
        self.since: str | None = None
        self.until: str | None = None
        self.limit = 5000
        self.window = 30 * 86400.0
        self.only_new_urls = only_new  # --source auto: only what the live crawl did not find
        self.seen: set[tuple[str, str]] = set()  # (canonical URL, capture time) already stored
        self.cursors: dict[str, dict[str, Any]] = {}
        self.failure: str | None = None
        self.counts: dict[str, int] = {}
        self.open_chains: dict[str, int] = {}  # CDX page -> chains of replays not finished
        self._page_state: dict[str, tuple[str, str | None, str]] = {}  # CDX page -> (host, resume key, newest)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WaybackSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, WaybackSpider)
        s = crawler.settings
        spider.base = (s.get("ARCHIVER_WAYBACK_URL") or spider.base).rstrip("/")
        spider.limit = s.getint("ARCHIVER_WAYBACK_CDX_LIMIT", 5000)
        spider.window = s.getfloat("ARCHIVER_WAYBACK_WINDOW_DAYS", 30) * 86400
        spider.since = s.get("ARCHIVER_WAYBACK_FROM") or None
        spider.until = s.get("ARCHIVER_WAYBACK_TO") or None
        spider.only_new_urls = spider.only_new_urls or s.getbool("ARCHIVER_WAYBACK_ONLY_NEW")
        archive = crawler.archiver.writer.archive
        spider.seen = archive.wayback_seen(spider.portal)
        spider.cursors = archive.wayback_cursors(spider.portal)
        return spider

    def _count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n
        self.crawler.stats.inc_value(f"archiver/wayback/{key}", n)

    # -- CDX ---------------------------------------------------------------------------------
    def hosts(self) -> list[str]:
        out = []
        for h in self.profile.hosts:
            bare = h.lower().split(":")[0]
            bare = bare[4:] if bare.startswith("www.") else bare
            if bare not in out:
                out.append(bare)
        return out

    def query_key(self, host: str) -> str:
        return f"{host} from={self.since or ''} to={self.until or ''}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for host in self.hosts():
            req = self.cdx_request(host, None)
            if req is not None:
                yield req

    def cdx_request(self, host: str, resume: str | None) -> scrapy.Request | None:
        key = self.query_key(host)
        cursor = self.cursors.get(key) or {}
        since = self.since
        if resume is None and cursor.get("resume_key") and not cursor.get("complete"):
            resume = cursor["resume_key"]  # a killed or rate-limited run: go on from there
            self._count("resumed")
        elif resume is None and cursor.get("complete") and cursor.get("last_timestamp"):
            since = cursor["last_timestamp"]  # a finished walk: only what is newer
        url = cdx_url(self.base, host, match="domain" if self.profile.get("allow_subdomains") else "host",
                      since=since, until=self.until, limit=self.limit, resume_key=resume)  # fmt: skip
        return self.request(url, self.parse_cdx, cb_kwargs={"host": host}, errback=self.on_cdx_error,
                            meta={"kind": "cdx", "download_slot": CDX_SLOT, "dont_obey_robotstxt": True,
                                  "autothrottle_dont_adjust_delay": True, "start": resume is None},
                            dont_filter=True)  # fmt: skip

    def parse_cdx(self, response: Response, host: str) -> Iterator[Any]:
        self.crawler.stats.inc_value("archiver/pages/other")  # a page of the archive's index, not the portal's
        self._count("cdx_queries")
        page = parse_cdx(response.body)
        if page.error:
            self.fail(f"{response.url}: {page.error}")
            return
        self._count("rows", len(page.rows) + page.revisits + page.other + page.repeated)
        self._count("rows_repeated", page.repeated)
        self._count("rows_revisit", page.revisits)
        self._count("rows_other", page.other)
        pattern = self.profile.get("urls.article_pattern")
        rx = compiled(pattern) if pattern else None
        chains: dict[str, list[tuple[str, str]]] = {}
        newest = ""
        for row in page.rows:
            newest = max(newest, row.timestamp)
            target = self.site.to_fetch(row.original)
            if target is None:
                self._count("rows_offsite")
                continue
            try:
                canon = self.site.canonical(row.original)
            except ValueError:
                continue
            parts = urlsplit(canon)
            if rx is not None and not rx.search(parts.path + ("?" + parts.query if parts.query else "")):
                self._count("rows_not_article")
                continue
            if (canon, row.seen_at) in self.seen:
                self._count("rows_stored")
                continue
            if self.only_new_urls and canon in self.known:
                self._count("rows_live")
                continue
            chains.setdefault(canon, []).append((row.timestamp, row.original))
        page_id = f"{host} {page.resume_key or 'end'}"
        self.open_chains[page_id] = 0
        for canon, stamps in chains.items():
            stamps.sort()
            req = self.replay_request(canon, stamps, page_id)
            if req is not None:
                self.open_chains[page_id] += 1
                yield req
        self._page_state[page_id] = (host, page.resume_key, newest)
        if not self.open_chains[page_id]:
            yield from self.page_done(page_id)

    def page_done(self, page_id: str) -> Iterator[Any]:
        """Every capture of a CDX page is stored: save the cursor, ask for the next page."""
        host, resume, newest = self._page_state.pop(page_id)
        key = self.query_key(host)
        previous = (self.cursors.get(key) or {}).get("last_timestamp") or ""
        latest = max(previous, newest)
        self.cursors[key] = {"resume_key": resume, "last_timestamp": latest, "complete": resume is None}
        yield WaybackCursor(self.portal, key, resume, latest or None, resume is None)
        if resume is not None and not self.failure:
            req = self.cdx_request(host, resume)
            if req is not None:
                yield req

    def on_cdx_error(self, failure: Failure) -> Iterator[Any]:
        response = getattr(failure.value, "response", None)
        body = response.body if response is not None else b""
        page = parse_cdx(body) if body else None
        if page is not None and page.error:
            self.fail(f"the Wayback Machine refuses the portal's captures: {page.error}")
        elif response is not None and response.status == 429:
            self.fail("rate-limited by the Wayback Machine (HTTP 429 after retries): the next run resumes "
                      "from the saved cursor")  # fmt: skip
        else:
            reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
            self.fail(f"CDX query failed: {reason}")
        yield from super().on_error(failure)

    def fail(self, why: str) -> None:
        if self.failure is None:
            self.failure = why
            self.logger.warning("%s: %s", self.portal, why)

    # -- replays -----------------------------------------------------------------------------
    def replay_request(self, canon: str, stamps: list[tuple[str, str]], page_id: str,
                       url: str | None = None) -> scrapy.Request | None:  # fmt: skip
        ts, original = stamps[0]
        return self.request(url or replay_url(self.base, ts, original), self.parse_replay, errback=self.on_replay_error,
                            cb_kwargs={"canon": canon, "stamps": stamps, "page_id": page_id},
                            meta={"kind": "article", "download_slot": REPLAY_SLOT, "dont_obey_robotstxt": True,
                                  "autothrottle_dont_adjust_delay": True, "dont_redirect": True,
                                  "handle_httpstatus_list": [301, 302, 303, 307, 308],
                                  "wayback": {"original": original, "timestamp": ts}},
                            dont_filter=True)  # fmt: skip

    def parse_replay(self, response: Response, canon: str, stamps: list[tuple[str, str]],
                     page_id: str) -> Iterator[Any]:  # fmt: skip
        self.crawler.stats.inc_value("archiver/pages/article")
        ts, original = stamps[0]
        if 300 <= response.status < 400:
            location = (response.headers.get("Location") or b"").decode("latin-1")
            target = parse_replay_url(response.urljoin(location)) if location else None
            hops = response.meta.get("hops", 0)
            if (target is not None and response.urljoin(location).startswith(self.base) and hops < 3
                    and self.site.canonical(target[1]) == canon and seconds_apart(target[0], ts) <= self.window):  # fmt: skip
                # The replay sends the closest capture of the same URL: that capture it is.
                self._count("replays_moved")
                req = self.replay_request(canon, [(target[0], original), *stamps[1:]], page_id,
                                          url=response.urljoin(location))  # fmt: skip
                if req is not None:
                    req.meta["hops"] = hops + 1
                    yield req
                    return
            else:
                self._count("historical_redirects")
            yield from self.next_in_chain(canon, stamps, page_id)
            return
        got = parse_replay_url(response.url)
        ts = got[0] if got else ts
        if hasattr(response, "text") and analyse(response.text, original).is_listing and not self.profile.get(
                "urls.article_pattern"):  # fmt: skip
            self._count("listings")
        else:
            self._count("captures")
            yield self.capture(response, original, ts)
        yield from self.next_in_chain(canon, stamps, page_id)

    def capture(self, response: Response, original: str, ts: str) -> Capture:
        warc = response.request.meta.get("archiver_warc") or {} if response.request is not None else {}
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        return Capture(url=original, final_url=original, status=200, headers=tuple(original_headers(headers)),
                       body=response.body, fetched_at=timestamp_iso(ts), source="wayback",
                       warc_file=warc.get("file"), warc_offset=warc.get("offset"), record_id=warc.get("record_id"),
                       payload_digest=warc.get("digest"))  # fmt: skip

    def next_in_chain(self, canon: str, stamps: list[tuple[str, str]], page_id: str) -> Iterator[Any]:
        rest = stamps[1:]
        if rest:
            req = self.replay_request(canon, rest, page_id)
            if req is not None:
                yield req
                return
        self.open_chains[page_id] -= 1
        if self.open_chains[page_id] == 0:
            yield from self.page_done(page_id)

    def on_replay_error(self, failure: Failure) -> Iterator[Any]:
        yield from super().on_error(failure)
        request = getattr(failure, "request", None)
        if request is not None and request.cb_kwargs:
            kw = request.cb_kwargs
            yield from self.next_in_chain(kw["canon"], kw["stamps"], kw["page_id"])

    # -- the verdict ---------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {"source": "wayback", "base": self.base, **dict(sorted(self.counts.items()))}

    def discovery_failure(self) -> str | None:
        return self.failure

    def portal_state(self) -> tuple[str, str | None]:
        return "unknown", None  # the Wayback Machine says nothing of the live portal
