"""Canonical URLs: one spelling per article, so the same page reached twice is one article.

``canonical_url(url, keep_params=..., drop_params=..., origin=...)``

* w3lib's ``canonicalize_url`` (sorted query, normalised percent-encoding, no fragment);
* tracking and session parameters dropped (``utm_*``, ``fbclid``, ``ASP.NET_SessionId``,
  ``;jsessionid=`` path parameters, ...) and any the portal profile names;
* when the profile lists ``keep_params`` (``ItemID``, ``dDocName``, ``id``), only those stay:
  everything else on such URLs (``l=Tintrongtinh``, paging) is navigation, not identity;
* host lower-cased; when ``origin`` is given (the portal's canonical ``base_url``), a URL on one
  of the portal's hosts, or on a mirror the crawl was pointed at, is rewritten onto it, so
  ``http://``/``https://``, ``www.``/bare host and a local mirror all give one URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "zarsrc",
        "zalo_source", "_ga", "_gl", "ref", "ref_src", "sessionid", "session_id", "sid",
        "phpsessid", "jsessionid", "asp.net_sessionid", "aspsessionid", "cfid", "cftoken",
        "__viewstate", "__eventvalidation", "print", "printmode", "fontsize",
    }
)  # fmt: skip
_SESSION_PATH = re.compile(r";(?:jsessionid|sessionid|phpsessid)=[^/?#]*", re.I)


def strip_session(url: str) -> str:
    """Drop ``;jsessionid=…`` path parameters and the fragment: they never identify a page."""
    return _SESSION_PATH.sub("", url.split("#", 1)[0])


def _host(netloc: str) -> str:
    return netloc.lower().split("@")[-1]


def bare_host(host: str) -> str:
    """``www.haugiang.gov.vn:443`` -> ``haugiang.gov.vn``."""
    host = host.lower().split(":")[0]
    return host[4:] if host.startswith("www.") else host


def canonical_url(
    url: str,
    *,
    keep_params: Iterable[str] | None = None,
    drop_params: Iterable[str] = (),
    origin: str | None = None,
    hosts: Iterable[str] = (),
) -> str:
    """The canonical spelling of ``url``. ``hosts`` are the hosts (with port, if any) that
    belong to the portal and are rewritten onto ``origin``."""
    url = strip_session(url.strip())
    parts = urlsplit(url)
    keep = {k.lower() for k in keep_params} if keep_params else None
    drop = {k.lower() for k in drop_params}
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        low = key.lower()
        if keep is not None:
            if low in keep:
                query.append((key, value))
            continue
        if low in TRACKING_PARAMS or low.startswith("utm_") or low in drop:
            continue
        query.append((key, value))
    scheme, netloc = parts.scheme.lower(), _host(parts.netloc)
    if origin:
        o = urlsplit(origin)
        host_set = {h.lower() for h in hosts} | {o.netloc.lower()}
        if netloc in host_set or bare_host(netloc) in {bare_host(h) for h in host_set}:
            scheme, netloc = o.scheme, o.netloc.lower()
    rebuilt = urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)
