"""Find it: a listing (category) page -> ``ListingPage`` with article and next-page links."""

from __future__ import annotations

import re

from archiver.extract.html import absolute_links, document_base, element_text, parse, select_one
from archiver.items import ListingPage
from archiver.profiles import Profile, compiled


def _path_query(url: str) -> str:
    m = re.match(r"^[a-z]+://[^/]+(.*)$", url, re.I)
    return m.group(1) if m else url


def extract_listing(html: str | bytes, url: str, *, profile: Profile) -> ListingPage:
    """The article links and further listing pages on a listing page, absolute, in page order,
    without duplicates. ``urls.article_pattern``, when the profile sets it, filters the links."""
    soup = parse(html)
    base = document_base(soup, url)
    articles = absolute_links(soup, profile.get("listing.article_links"), base)
    pattern = profile.get("urls.article_pattern")
    if pattern:
        rx = compiled(pattern)
        articles = [a for a in articles if rx.search(_path_query(a))]
    nexts = [u for u in absolute_links(soup, profile.get("listing.next_page"), base) if u != url]
    category = element_text(select_one(soup, profile.get("listing.category"))) or None
    return ListingPage(url=url, category=category, article_urls=articles, next_urls=nexts)
