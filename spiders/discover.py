"""The spider for a portal nobody wrote a profile for: it finds the portal's listings, pagination
and article URLs itself, then walks them like ``PortalSpider`` (incremental, resumable, the same
budgets and guards); article pages go through the generic extractor in ``ingest``.

Discovery, in this order, each step counted in the run's ``discovery`` record:

1. robots.txt ``Sitemap:`` lines, else the usual sitemap names; sitemap indexes, news sitemaps,
   gzip; bounded by ``ARCHIVER_SITEMAP_MAX_FILES``, ``ARCHIVER_SITEMAP_MAX_URLS`` and
   ``ARCHIVER_SITEMAP_MAX_MB``;
2. RSS/Atom feeds linked from the home page and the listings (``feedparser``);
3. the home page: its menus and category links (short link texts) are listing candidates, its
   news blocks article candidates;
4. every page fetched is told apart by its shape (``archiver.discover.pages``): a listing (a run
   of news blocks, no body) gives its main list's links as articles and its pagination
   (``?page=N``, ``/trang-N.html``, ``?start=N``, ``Tiếp``/``»``/``Cuối``, ``Xem thêm``,
   ``__doPostBack`` as a form POST) as further pages, each listing page fetched once
   (``page_key``: ``?page=1`` is the listing itself, so a last page linking to page 1 ends the
   chain); an article page is captured, and its links of the URL shapes the listings taught
   (``shape``) are followed as articles; anything else is counted as ``other``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from form2request import form2request
from scrapy.http import Response
from twisted.python.failure import Failure

from archiver.discover.feeds import USUAL_SITEMAPS, parse_feed, parse_sitemap, robots_sitemaps
from archiver.discover.pages import Page, analyse, followable, page_key, postback_pages, shape
from spiders.portal import PortalSpider, capture_of

# A URL shape is an article shape once this many links of it were found in listings' main lists.
SHAPE_MIN = 3


class DiscoverySpider(PortalSpider):
    name = "discover"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.shapes: Counter[str] = Counter()  # shape -> links of it in listings' main lists
        self.listing_shapes: set[str] = set()
        self.sitemaps_requested: set[str] = set()
        self.sitemap_urls = 0
        self.max_sitemaps = 50
        self.max_sitemap_urls = 200_000
        self.max_sitemap_bytes = 50 * 2**20
        self.max_nav = 300
        self.nav_requested = 0
        self.feeds_requested: set[str] = set()
        self.postbacks: set[tuple[str, str, str]] = set()
        self.home: Page | None = None
        self.found: dict[str, int] = {"sitemap": 0, "feed": 0, "home": 0, "listing": 0, "article_links": 0}
        self.kinds: dict[str, int] = {}  # requests answered, by what the page turned out to be
        self.notes: list[str] = []
        self.sample_dir = ""  # `archiver profile new`: pages kept here for learning
        self.sampled: dict[str, int] = {}
        # Link groups of the home page (a "Tin mới" sidebar, the footer's lists): found the same on
        # another page, they are the site's furniture, not that page's list.
        self.boiler: set[tuple[str, frozenset[str]]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DiscoverySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, DiscoverySpider)
        s = crawler.settings
        spider.max_sitemaps = s.getint("ARCHIVER_SITEMAP_MAX_FILES", 50)
        spider.max_sitemap_urls = s.getint("ARCHIVER_SITEMAP_MAX_URLS", 200_000)
        spider.max_sitemap_bytes = int(s.getfloat("ARCHIVER_SITEMAP_MAX_MB", 50) * 2**20)
        spider.max_nav = s.getint("ARCHIVER_DISCOVERY_MAX_LISTINGS", 300)
        spider.sample_dir = s.get("ARCHIVER_SAMPLE_DIR") or ""
        return spider

    def listing_id(self, url: str) -> str:
        return page_key(url)

    def _count(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    # -- start: robots.txt and the home page -------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        origin = self.fetch_origin
        robots = self.request(origin + "/robots.txt", self.parse_robots, meta={"kind": "robots", "probe": True},
                              errback=self.on_probe_error, dont_filter=True, priority=20)  # fmt: skip
        if robots is not None:
            yield robots
        for url in self.site.start_urls():
            self.requested.add(self.listing_id(url))
            req = self.request(url, self.parse_home, meta={"kind": "home", "start": True}, priority=10)
            if req is not None:
                yield req
        for req in self.revisit_requests():
            yield req

    def on_probe_error(self, failure: Failure) -> Iterator[Any]:
        """A robots.txt or usual sitemap name that is not there: no error of the run."""
        request = getattr(failure, "request", None)
        self.crawler.stats.inc_value("archiver/discovery/probe_missing")
        self._count("probe")
        if request is not None and request.meta.get("kind") == "robots":
            yield from self._usual_sitemaps()
        return

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        self._count("robots")
        text = response.text if hasattr(response, "text") else ""
        named = robots_sitemaps(text, response.url) if response.status == 200 else []
        if not named:
            yield from self._usual_sitemaps()
            return
        self.crawler.stats.set_value("archiver/discovery/robots_sitemaps", len(named))
        for url in named:
            yield from self._sitemap_request(url, probe=False)

    def _usual_sitemaps(self) -> Iterator[scrapy.Request]:
        for name in USUAL_SITEMAPS[:2]:
            yield from self._sitemap_request(self.fetch_origin + name, probe=True)

    def _sitemap_request(self, url: str, probe: bool) -> Iterator[scrapy.Request]:
        target = self.to_fetch(url)
        if target is None or target in self.sitemaps_requested:
            return
        if len(self.sitemaps_requested) >= self.max_sitemaps:
            self.crawler.stats.inc_value("archiver/discovery/sitemaps_over_limit")
            if self.crawler.stats.get_value("archiver/discovery/sitemaps_over_limit") == 1:
                self.notes.append(f"more than {self.max_sitemaps} sitemaps: the rest not read "
                                  "(ARCHIVER_SITEMAP_MAX_FILES)")  # fmt: skip
            return
        self.sitemaps_requested.add(target)
        req = self.request(target, self.parse_sitemap, meta={"kind": "sitemap", "probe": probe,
                                                             "download_maxsize": self.max_sitemap_bytes},
                           errback=self.on_probe_error if probe else None, dont_filter=True, priority=15)  # fmt: skip
        if req is not None:
            yield req

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self._count("sitemap")
        found = parse_sitemap(response.body, response.url, self.max_sitemap_bytes)
        if found.error:
            self.crawler.stats.inc_value("archiver/discovery/sitemaps_bad")
            if not response.meta.get("probe"):
                self.logger.warning("%s: %s: %s", self.portal, response.url, found.error)
            return
        self.crawler.stats.inc_value("archiver/discovery/sitemaps")
        if found.truncated:
            self.notes.append(f"{response.url}: cut at {self.max_sitemap_bytes // 2**20} MB (ARCHIVER_SITEMAP_MAX_MB)")
        for url in found.sitemaps:
            yield from self._sitemap_request(url, probe=False)
        for entry in found.urls:
            if self.sitemap_urls >= self.max_sitemap_urls:
                self.crawler.stats.inc_value("archiver/discovery/sitemap_urls_over_limit")
                break
            self.sitemap_urls += 1
            if not followable(entry.url):
                continue
            self.found["sitemap"] += 1
            yield from self._articles([entry.url])

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        self._count("feed")
        entries, error = parse_feed(response.body, response.url, self.max_sitemap_bytes)
        if error:
            self.crawler.stats.inc_value("archiver/discovery/feeds_bad")
            return
        self.crawler.stats.inc_value("archiver/discovery/feeds")
        self.found["feed"] += len(entries)
        yield from self._articles([e.url for e in entries])

    def _feeds(self, page: Page) -> Iterator[scrapy.Request]:
        for url in page.feeds:
            target = self.to_fetch(url)
            if target is None or target in self.feeds_requested or len(self.feeds_requested) >= 20:
                continue
            self.feeds_requested.add(target)
            req = self.request(target, self.parse_feed, meta={"kind": "feed"}, dont_filter=True, priority=12)
            if req is not None:
                yield req

    # -- pages -------------------------------------------------------------------------------
    def parse_home(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("archiver/pages/listing")
        self._count("home")
        if not hasattr(response, "text"):
            return
        page = analyse(response.text, response.url)
        self.home = page
        self.boiler = {(g[0].group, frozenset(link.url for link in g)) for g in page.groups}
        yield from self._feeds(page)
        self.found["home"] += len(page.titled)
        yield from self._articles(page.titled)
        yield from self._nav(page)

    def _nav(self, page: Page) -> Iterator[scrapy.Request]:
        """Listing candidates: the page's menus and category links."""
        article_shapes = self.article_shapes()
        for url in page.nav(urlsplit(page.url).netloc.lower()):
            target = self.to_fetch(url)
            if target is None:
                continue
            key = self.listing_id(target)
            if key in self.requested or shape(target) in article_shapes:
                continue
            if self.nav_requested >= self.max_nav:
                self.crawler.stats.inc_value("archiver/discovery/listings_over_limit")
                return
            self.nav_requested += 1
            self.requested.add(key)
            req = self.request(target, self.parse_listing, cb_kwargs={"stale": 0, "empty": 0, "depth": 0},
                               meta={"kind": "listing", "candidate": True})  # fmt: skip
            if req is not None:
                yield req

    def analyse(self, response: Response) -> Page:
        """The page's shape, its groups that repeat the home page's furniture left out."""
        page = analyse(response.text, response.url)
        if self.boiler:
            page.groups = [g for g in page.groups if (g[0].group, frozenset(link.url for link in g)) not in self.boiler]
        return page

    def article_shapes(self) -> set[str]:
        return {s for s, n in self.shapes.items() if n >= SHAPE_MIN} - self.listing_shapes

    def _articles(self, urls: list[str]) -> Iterator[scrapy.Request]:
        """Article candidates, each requested once (and not at all when stored, incrementally)."""
        for url in urls:
            target = self.to_fetch(url)
            if target is None or not followable(target):
                continue
            try:
                canon = self.site.canonical(target)
            except ValueError:
                continue
            if canon in self.known and not self.full:
                self.crawler.stats.inc_value("archiver/links/known")
                continue
            fetch = self.site.on_origin(canon)
            if fetch in self.requested or self.listing_id(fetch) in self.requested:
                continue
            self.requested.add(fetch)
            req = self.article_request(fetch)
            if req is not None:
                yield req

    def parse_listing(self, response: Response, stale: int = 0, empty: int = 0,
                      depth: int = 0) -> Iterator[Any]:  # fmt: skip
        if not hasattr(response, "text"):
            self.crawler.stats.inc_value("archiver/pages/other")
            return
        page = self.analyse(response)
        listing = page.is_listing and any(followable(u) for u in page.main)
        if not listing and not response.meta.get("candidate") and not page.is_article_like:
            # Reached by a listing's pagination: a last page with one or two items is still one.
            shapes = self.article_shapes()
            listing = any(shape(link.url) in shapes for link in page.links)
        if not listing:
            # A menu link to a page that is no listing: an article (captured), or something else.
            yield from self._not_listing(response, page)
            return
        yield from self._listing(response, page, stale, empty, depth)

    def _listing(self, response: Response, page: Page, stale: int, empty: int, depth: int) -> Iterator[Any]:
        self.crawler.stats.inc_value("archiver/pages/listing")
        self._count("listing")
        self._sample(response, "start" if response.meta.get("candidate") else "listing", "listing", 40)
        self.listing_shapes.add(shape(response.url))
        main = [u for u in page.main if followable(u)]
        main_shapes = Counter(shape(u) for u in main)
        self.shapes.update(main_shapes)
        known = self.article_shapes() | set(main_shapes)
        articles = main + [link.url for link in page.links if shape(link.url) in known and link.url not in main]
        articles = [u for u in dict.fromkeys(articles) if page_key(u) not in self.requested and followable(u)]
        self.found["listing"] += len(main)
        self._page = page
        yield from self._feeds(page)
        yield from self.follow(response, articles, page.pagination, stale, empty, depth)
        if depth == 0:
            yield from self._nav(page)

    def more_next(self, response: Response, cb_kwargs: dict[str, Any]) -> Iterator[scrapy.Request]:
        page = getattr(self, "_page", None)
        if page is None or page.url != response.url:
            return
        for pb in postback_pages(page):
            key = (page_key(response.url), pb.target, pb.argument)
            if key in self.postbacks or pb.argument.lower() in ("page$1", "1"):
                continue
            if not self.spend():
                return
            self.postbacks.add(key)
            form = response.xpath("//form[.//input[@name='__VIEWSTATE' or @name='__EVENTTARGET']] | //form")
            if not form:
                self.crawler.stats.inc_value("archiver/discovery/postback_without_form")
                return
            data = form2request(form[0], {"__EVENTTARGET": pb.target, "__EVENTARGUMENT": pb.argument}, click=False)
            req = data.to_scrapy(callback=self.parse_listing, errback=self.on_error, cb_kwargs=cb_kwargs,
                                 meta={"kind": "listing", "postback": pb.argument}, dont_filter=True)  # fmt: skip
            self.crawler.stats.inc_value("archiver/discovery/postbacks")
            yield req

    def parse_article(self, response: Response) -> Iterator[Any]:
        if not hasattr(response, "text"):
            yield from super().parse_article(response)
            return
        page = self.analyse(response)
        if page.is_listing and any(followable(u) for u in page.main) and not response.meta.get("known"):
            # Linked like an article, shaped like a listing (a sub-category in a news box).
            key = self.listing_id(response.url)
            self.requested.add(key)
            yield from self._listing(response, page, 0, 0, 0)
            return
        yield from self._captured(response, page)

    def _captured(self, response: Response, page: Page) -> Iterator[Any]:
        self.crawler.stats.inc_value("archiver/pages/article")
        self._count("article")
        self._sample(response, "article", shape(response.url), 12)
        if response.request is not None and response.request.meta.get("redirect_urls"):
            self.crawler.stats.inc_value("archiver/pages/redirected")
        yield capture_of(response, source="mirror" if self.site.is_mirror else "live")
        shapes = self.article_shapes()
        if shapes:
            links = [link.url for link in page.links if shape(link.url) in shapes]
            self.found["article_links"] += len(links)
            yield from self._articles(links)

    def _sample(self, response: Response, kind: str, group: str, most: int) -> None:
        """Keep the page for ``archiver profile new`` (at most ``most`` per group)."""
        if not self.sample_dir or self.sampled.get(group, 0) >= most:
            return
        import json
        from pathlib import Path

        self.sampled[group] = self.sampled.get(group, 0) + 1
        root = Path(self.sample_dir)
        name = f"{sum(self.sampled.values()):04d}.html"
        (root / name).write_bytes(response.body)
        with open(root / "samples.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"file": name, "url": response.url, "kind": kind}) + "\n")

    def _not_listing(self, response: Response, page: Page) -> Iterator[Any]:
        if page.is_article_like and shape(response.url) not in self.listing_shapes:
            yield from self._captured(response, page)
            return
        self.crawler.stats.inc_value("archiver/pages/other")
        self._count("other")

    # -- the verdict ---------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """What discovery found and spent, for the run's record."""
        stats = self.crawler.stats
        return {
            "sitemaps": int(stats.get_value("archiver/discovery/sitemaps") or 0),
            "sitemap_urls": self.found["sitemap"],
            "feeds": int(stats.get_value("archiver/discovery/feeds") or 0),
            "feed_urls": self.found["feed"],
            "home_links": self.found["home"],
            "listing_candidates": self.nav_requested,
            "listings": self.kinds.get("listing", 0),
            "postbacks": int(stats.get_value("archiver/discovery/postbacks") or 0),
            "article_shapes": sorted(self.article_shapes()),
            "pages": dict(sorted(self.kinds.items())),
            "notes": self.notes,
        }

    def discovery_failure(self) -> str | None:
        """Why this is no news portal (or none a crawler without a browser can read), or None."""
        articles = self.kinds.get("article", 0)
        if articles or self.kinds.get("listing", 0):
            return None
        if self.home is None:
            return None  # the home page itself failed: the fetch error says why
        if self.home.js_only:
            return (f"a JavaScript-only site: the home page has {len(self.home.links)} links and {self.home.words} "
                    "words without a browser; its listings cannot be read")  # fmt: skip
        d = self.discovery()
        return (f"no news listing found: tried robots.txt and {len(self.sitemaps_requested)} sitemap(s) "
                f"({d['sitemap_urls']} URLs), {len(self.feeds_requested)} feed(s), {self.nav_requested} menu "
                f"link(s) of the home page ({self.kinds.get('other', 0)} page(s) neither listing nor article)")  # fmt: skip

