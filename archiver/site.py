"""A portal's URL space, pure: which hosts it owns, the canonical form of its URLs, and where a
URL is fetched from when the crawl reads a mirror.

The spider, the safety middleware, the WARC recorder and ``ingest`` all ask this object; none of
them asks the spider.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from archiver.normalize import canonical_url
from archiver.profiles import Profile


@dataclass(frozen=True)
class Site:
    profile: Profile
    fetch_origin: str  # the portal's base_url, or the mirror a crawl reads instead
    archive_host: str = ""  # the Wayback Machine's host (host:port), when it is the source

    @classmethod
    def of(cls, profile: Profile, base_url: str | None = None, archive: str | None = None) -> Site:
        host = urlsplit(archive).netloc.lower() if archive else ""
        return cls(profile, (base_url or profile.base_url).rstrip("/"), host)

    @property
    def portal(self) -> str:
        return self.profile.slug

    @property
    def fetch_host(self) -> str:
        return urlsplit(self.fetch_origin).netloc.lower()

    @property
    def is_mirror(self) -> bool:
        return self.fetch_origin != self.profile.base_url.rstrip("/")

    def owns(self, url: str) -> bool:
        """The URL is on one of the portal's hosts (subdomains when the profile says)."""
        try:
            return self.profile.owns(url)
        except ValueError:
            return False

    def may_fetch(self, url: str) -> bool:
        """Only the fetch origin and the portal's own hosts."""
        try:
            host = urlsplit(url).netloc.lower()
            return host == self.fetch_host or (bool(self.archive_host) and host == self.archive_host) or self.owns(url)
        except ValueError:
            return False

    def to_fetch(self, url: str) -> str | None:
        """The URL to request for a link found on a page, or None if it leaves the portal (or
        cannot be parsed)."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme not in ("http", "https"):
            return None
        if parts.netloc.lower() == self.fetch_host:
            return url
        if self.owns(url):
            # A link to the portal's own host while crawling a mirror: fetch it from the mirror.
            o = urlsplit(self.fetch_origin)
            return urlunsplit((o.scheme, o.netloc, parts.path, parts.query, ""))
        return None

    def canonical(self, url: str) -> str:
        """The one spelling of a portal URL, on the portal's base_url (mirror hosts rewritten)."""
        return canonical_url(
            url,
            keep_params=self.profile.get("urls.keep_params"),
            drop_params=self.profile.get("urls.drop_params", ()),
            origin=self.profile.base_url,
            hosts=(*self.profile.hosts, self.fetch_host),
        )

    def on_origin(self, canonical: str) -> str:
        """A canonical URL spelled on the fetch origin (the portal itself, or its mirror)."""
        canon = urlsplit(canonical)
        o = urlsplit(self.fetch_origin)
        return urlunsplit((o.scheme, o.netloc, canon.path, canon.query, ""))

    def fetch_form(self, url: str) -> str:
        """The canonical URL spelled on the fetch origin: tracking parameters dropped before
        requesting, so the same article listed twice is fetched once."""
        return self.on_origin(self.canonical(url))

    def start_urls(self) -> list[str]:
        return [urljoin(self.fetch_origin + "/", start) for start in self.profile.start_urls]
