"""Article URLs cheaply: robots.txt ``Sitemap:`` lines, sitemaps (indexes, news sitemaps, gzip)
and RSS/Atom feeds (``feedparser``). Pure: bytes in, URLs out, every size bounded.

Limits (settings, documented in the README): a sitemap or feed larger than
``ARCHIVER_SITEMAP_MAX_MB`` once decompressed is cut there (what was read is kept and the cut is
reported); a crawl follows at most ``ARCHIVER_SITEMAP_MAX_FILES`` sitemaps and takes at most
``ARCHIVER_SITEMAP_MAX_URLS`` URLs from them. A sitemap index pointing to thousands of sitemaps
(a sitemap bomb) costs ``ARCHIVER_SITEMAP_MAX_FILES`` requests, no more.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

# Names tried when robots.txt names no sitemap.
USUAL_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml", "/sitemap-news.xml", "/sitemap.xml.gz")


@dataclass
class Entry:
    url: str
    lastmod: str | None = None  # as written (a W3C datetime)


@dataclass
class Sitemap:
    urls: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # an index: further sitemaps
    truncated: bool = False  # cut at the size limit
    error: str | None = None  # not a sitemap: why


def robots_sitemaps(text: str, base: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt, absolute."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*sitemap\s*:\s*(\S+)", line, re.I)
        if m:
            out.append(urljoin(base, m.group(1)))
    return list(dict.fromkeys(out))


def bounded_bytes(body: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """The body, gunzipped if it is gzip (a ``.gz`` sitemap served as a file), at most
    ``max_bytes``: (data, truncated). A gzip bomb costs ``max_bytes`` of memory, no more."""
    if body[:2] != b"\x1f\x8b":
        return body[:max_bytes], len(body) > max_bytes
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as gz:
            while out.tell() <= max_bytes:
                chunk = gz.read(min(1 << 20, max_bytes + 1 - out.tell()))
                if not chunk:
                    break
                out.write(chunk)
    except (OSError, EOFError, zlib.error):
        pass  # a cut gzip: what was read is kept
    data = out.getvalue()
    return data[:max_bytes], len(data) > max_bytes


def parse_sitemap(body: bytes, url: str, max_bytes: int = 50 * 2**20) -> Sitemap:
    """A sitemap or sitemap index (``<urlset>`` / ``<sitemapindex>``, news and image extensions
    ignored but their ``<loc>`` kept). Never raises on content: ``error`` says what it was."""
    data, truncated = bounded_bytes(body, max_bytes)
    result = Sitemap(truncated=truncated)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        result.error = f"not XML ({exc})"
        return result
    if root is None:
        result.error = "not XML (empty)"
        return result
    tag = etree.QName(root).localname.lower() if isinstance(root.tag, str) else ""
    if tag not in ("urlset", "sitemapindex"):
        result.error = f"not a sitemap (root element <{tag}>)"
        return result
    for item in root:
        if not isinstance(item.tag, str):
            continue
        loc = lastmod = None
        for child in item:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname.lower()
            ns = etree.QName(child).namespace or ""
            if name == "loc" and "sitemap" in ns or name == "loc" and not ns:
                loc = (child.text or "").strip()
            elif name == "lastmod" or (name == "publication_date" and lastmod is None):
                lastmod = (child.text or "").strip() or None
            elif name == "news":
                for sub in child.iter():
                    if isinstance(sub.tag, str) and etree.QName(sub).localname == "publication_date":
                        lastmod = (sub.text or "").strip() or lastmod
        if not loc:
            continue
        loc = urljoin(url, loc)
        if tag == "sitemapindex":
            result.sitemaps.append(loc)
        else:
            result.urls.append(Entry(loc, lastmod))
    return result


def parse_feed(body: bytes, url: str, max_bytes: int = 50 * 2**20) -> tuple[list[Entry], str | None]:
    """The entries of an RSS or Atom feed: (entries, error). ``feedparser`` reads every dialect
    portals serve (RSS 0.9x–2.0, Atom), malformed ones included."""
    import feedparser

    data, _ = bounded_bytes(body, max_bytes)
    parsed = feedparser.parse(data, response_headers={"content-location": url})
    entries = []
    for e in parsed.entries:
        link = e.get("link")
        if link:
            entries.append(Entry(urljoin(url, link), e.get("published") or e.get("updated")))
    if not entries and not parsed.get("version"):
        return [], "not an RSS or Atom feed"
    return entries, None
