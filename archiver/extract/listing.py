"""Find it: a listing (category) page -> ``ListingPage`` with article and next-page links."""

from __future__ import annotations

import re
from typing import Any

from archiver.extract.html import (
    absolute_hrefs,
    absolute_links,
    compiled_css,
    document_base,
    element_text,
    lxml_base,
    lxml_select,
    lxml_text,
    lxml_tree,
    parse,
    select_one,
    to_unicode,
)
from archiver.items import ListingPage
from archiver.profiles import Profile, compiled


def _path_query(url: str) -> str:
    m = re.match(r"^[a-z]+://[^/]+(.*)$", url, re.I)
    return m.group(1) if m else url


def extract_listing(html: str | bytes, url: str, *, profile: Profile) -> ListingPage:
    """The article links and further listing pages on a listing page, absolute, in page order,
    without duplicates. ``urls.article_pattern``, when the profile sets it, filters the links."""
    text = to_unicode(html)
    root = lxml_tree(text)
    keys = ("listing.article_links", "listing.next_page", "listing.category")
    if root is not None and all(compiled_css(profile.get(k)) is not None for k in keys if profile.get(k)):
        base = lxml_base(root, url)
        articles = _links(root, profile.get("listing.article_links"), base)
        nexts = [u for u in _links(root, profile.get("listing.next_page"), base) if u != url]
        found = lxml_select(root, profile.get("listing.category")) or []
        return _listing(url, articles, nexts, lxml_text(found[0]) if found else "", profile)
    soup = parse(text)
    base = document_base(soup, url)
    articles = absolute_links(soup, profile.get("listing.article_links"), base)
    nexts = [u for u in absolute_links(soup, profile.get("listing.next_page"), base) if u != url]
    return _listing(url, articles, nexts, element_text(select_one(soup, profile.get("listing.category"))), profile)


def _listing(url: str, articles: list[str], nexts: list[str], category: str, profile: Profile) -> ListingPage:
    pattern = profile.get("urls.article_pattern")
    if pattern:
        rx = compiled(pattern)
        articles = [a for a in articles if rx.search(_path_query(a))]
    return ListingPage(url=url, category=category or None, article_urls=articles, next_urls=nexts)


def _links(root: Any, selector: str | None, base: str) -> list[str]:
    """``absolute_links`` over the lxml tree: the same URLs in the same order."""
    found = lxml_select(root, selector) or []
    return absolute_hrefs((a.get("href") for el in found for a in ([el] if el.tag == "a" else el.iter("a"))), base)
