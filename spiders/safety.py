"""Downloader middlewares that keep an unattended crawl safe and polite.

* ``SafetyMiddleware``: every request (redirects and robots.txt included) stays on the portal's
  own hosts, and is refused when its host is or resolves to a private, loopback, link-local or
  reserved address, unless ``ARCHIVER_ALLOW_PRIVATE`` (or the profile's ``allow_private``) says so.
* ``BackoffRetryMiddleware``: Scrapy's retries, waiting before each retry of a 429 or 5xx answer:
  the server's ``Retry-After`` when it sends one, else exponential backoff.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message


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

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(crawler)

    def addresses(self, host: str) -> list[str]:
        if host not in self.resolved:
            try:
                ipaddress.ip_address(host)
                self.resolved[host] = [host]
            except ValueError:
                try:
                    self.resolved[host] = sorted({ai[4][0] for ai in socket.getaddrinfo(host, None)})
                except OSError:
                    self.resolved[host] = []  # the download reports the DNS failure itself
        return self.resolved[host]

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        url = request.url
        if hasattr(spider, "may_fetch") and not spider.may_fetch(url):
            raise Refused(f"offsite: {urlsplit(url).netloc} is not a host of portal {spider.portal}")
        allow = self.allow_private or bool(getattr(spider, "profile", None) and spider.profile.get("allow_private"))
        if allow:
            return None
        host = (urlsplit(url).hostname or "").strip("[]")
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
