"""Downloader middlewares that keep an unattended crawl safe and polite.

* ``SafetyMiddleware``: every request (redirects and robots.txt included) stays on the portal's
  own hosts, and is refused when its host is or resolves to a private, loopback, link-local or
  reserved address, unless ``ARCHIVER_ALLOW_PRIVATE`` (or the profile's ``allow_private``) says so.
* ``CrawlDelayRobotsMiddleware``: robots.txt obeyed, its ``Crawl-delay`` applied per host.
* ``BackoffRetryMiddleware``: Scrapy's retries, waiting before each retry of a 429 or 5xx answer:
  the server's ``Retry-After`` when it sends one, else exponential backoff.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A request the archiver will not send (offsite, private address)."""


def _private(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
    )


class SafetyMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("ARCHIVER_ALLOW_PRIVATE")
        self.resolved: dict[str, list[str]] = {}
        self.document_hosts: frozenset[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(crawler)

    def addresses(self, host: str) -> list[str]:
        if host not in self.resolved:
            self.resolved[host] = self.resolve(host)
        return self.resolved[host]

    @staticmethod
    def resolve(host: str) -> list[str]:
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            try:
                return sorted({str(ai[4][0]) for ai in socket.getaddrinfo(host, None)})
            except OSError:
                return []  # the download reports the DNS failure itself

    def _document_host(self, ctx: Any, request: Request) -> bool:
        """A document (and its redirects) on a host allowed for documents (``attachment_hosts``)."""
        if request.meta.get("kind") != "attachment":
            return False
        if self.document_hosts is None:
            from archiver.attachments import document_hosts

            self.document_hosts = document_hosts(ctx.site.profile, self.crawler.settings)
        return (urlsplit(request.url).netloc.lower() in self.document_hosts
                and urlsplit(request.url).scheme in ("http", "https"))  # fmt: skip

    async def process_request(self, request: Request) -> None:
        ctx = getattr(self.crawler, "archiver", None)  # the portal's Site, given by the crawl runner
        url = request.url
        if ctx is not None and not ctx.site.may_fetch(url) and not self._document_host(ctx, request):
            raise Refused(f"offsite: {urlsplit(url).netloc} is not a host of portal {ctx.site.portal}")
        allow = self.allow_private or bool(ctx is not None and ctx.site.profile.get("allow_private"))
        if allow:
            return None
        host = (urlsplit(url).hostname or "").strip("[]")
        if host not in self.resolved:
            # A lookup can take seconds: in a worker thread, so the event loop goes on meanwhile.
            from twisted.internet.threads import deferToThread

            self.resolved[host] = await maybe_deferred_to_future(deferToThread(self.resolve, host))
        for ip in self.addresses(host):
            if _private(ip):
                raise Refused(
                    f"refused: {host} is a private or loopback address ({ip}); set ARCHIVER_ALLOW_PRIVATE to allow"
                )
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ARCHIVER_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("ARCHIVER_BACKOFF_MAX", 60.0)

    def delay(self, response: Response, retries: int) -> float:
        header = response.headers.get("Retry-After")
        if header:
            try:
                return min(self.cap, max(0.0, float(header.decode("latin-1").strip())))
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        return min(self.cap, self.base * 2**retries)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        if retries < self.max_retry_times:
            wait = self.delay(response, retries)
            if wait > 0:
                from twisted.internet import reactor  # the one Scrapy installed; never at import time
                from twisted.internet.task import deferLater

                await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return self._retry(request, response_status_message(response.status)) or response


class CrawlDelayRobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, plus the ``Crawl-delay`` it parses but does not apply:
    requests to a host whose robots.txt asks for a delay start at least that many seconds apart
    (on top of DOWNLOAD_DELAY and AutoThrottle, which can only add to it)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.delays: dict[str, float] = {}
        self.next_start: dict[str, float] = {}

    async def process_request(self, request: Request, spider: Any = None) -> None:  # type: ignore[override]
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        rp = await self.robot_parser(request)
        self.process_request_2(rp, request)
        netloc = urlsplit(request.url).netloc
        if netloc not in self.delays:
            self.delays[netloc] = self._delay(rp)
            if self.delays[netloc]:
                self.crawler.stats.set_value(f"archiver/robots/crawl_delay/{netloc}", self.delays[netloc])
                logger.info("%s asks for Crawl-delay: %s s; requests start that far apart", netloc,
                            self.delays[netloc])  # fmt: skip
        delay = self.delays[netloc]
        if not delay:
            return
        request.meta["crawl_delay"] = delay  # the cluster's gate holds it for every worker
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        now = reactor.seconds()  # type: ignore[attr-defined,misc]
        start = max(now, self.next_start.get(netloc, 0.0))
        self.next_start[netloc] = start + delay
        if start > now:
            self.crawler.stats.inc_value("archiver/robots/crawl_delay_waits")
            await maybe_deferred_to_future(deferLater(reactor, start - now, lambda: None))

    def _delay(self, rp: Any) -> float:
        if rp is None:
            return 0.0
        agent = self._robotstxt_useragent or self._default_useragent
        try:
            value = rp.crawl_delay(agent)
        except Exception:  # noqa: BLE001 - a parser that cannot say gives no delay
            return 0.0
        try:
            return max(0.0, float(value)) if value is not None else 0.0
        except (TypeError, ValueError):
            return 0.0
