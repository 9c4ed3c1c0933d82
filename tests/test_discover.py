"""Crawling a portal from its address alone: discovery on a generated multi-template portal
(``tests/gensite.py``) measured against the generator's truth, sitemaps and feeds, the bounds on
sitemap bombs, and the bad inputs (no portal, JavaScript only, moved, gone)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from urllib.parse import parse_qsl, urlsplit

import pytest

from archiver.discover.feeds import bounded_bytes, parse_feed, parse_sitemap, robots_sitemaps
from archiver.discover.pages import analyse, followable, page_key, postback_pages, shape
from tests.crawling import QUICK, ROOT, archiver_cmd, free_port, q
from tests.gensite import GenSite, article_html, generate, listing_html


def key(url: str) -> str:
    p = urlsplit(url)
    return p.path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(p.query))) if p.query else "")


def words_f1(a: str, b: str) -> float:
    x, y = Counter(re.findall(r"\w+", a.lower())), Counter(re.findall(r"\w+", b.lower()))
    common = sum((x & y).values())
    return 0.0 if not common else 2 * common / (sum(x.values()) + sum(y.values()))


def crawl_address(url: str, db: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(archiver_cmd("crawl", url, "--db", str(db), "--allow-private", *QUICK, *extra),
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)  # fmt: skip


def measure(site: GenSite, db: Path) -> dict[str, float]:
    truth = {key(p): a for p, a in site.by_path.items()}
    found: dict[str, list[tuple]] = {}
    for url, title, published, views, body in q(db, "SELECT url, title, published, views, body_text FROM articles"):
        found.setdefault(key(url), []).append((title, published, views, body))
    hits = {k: v[0] for k, v in found.items() if k in truth}
    n = len(hits) or 1
    return {
        "found": len(hits) / len(truth),
        "duplicates": sum(len(v) - 1 for v in found.values()),
        "not_in_truth": len([k for k in found if k not in truth]),
        "listing_twice": sum(1 for c in site.listing_fetches().values() if c > 1),
        "title": sum(v[0] == truth[k].title for k, v in hits.items()) / n,
        "day": sum((v[1] or "")[:10] == truth[k].day for k, v in hits.items()) / n,
        "views": sum(v[2] == truth[k].views for k, v in hits.items()) / n,
        "body_f1": sum(words_f1(v[3] or "", "\n".join(truth[k].paragraphs)) for k, v in hits.items()) / n,
    }


@pytest.fixture(scope="module")
def gensite():
    site = GenSite(45)
    yield site
    site.stop()


def test_a_portal_without_profile_is_archived_from_its_address(gensite: GenSite, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    r = crawl_address(gensite.url + "/", db)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    m = measure(gensite, db)
    assert m["found"] >= 0.98, m
    assert m["duplicates"] == 0 and m["not_in_truth"] == 0 and m["listing_twice"] == 0, m
    assert m["title"] >= 0.98 and m["day"] >= 0.98 and m["views"] >= 0.98, m
    assert m["body_f1"] >= 0.95, m
    # Every discovery step is recorded in the run; POSTed ASP.NET pager pages were followed.
    (raw,) = q(db, "SELECT discovery FROM crawl_runs")[0]
    d = json.loads(raw)
    assert d["listings"] >= 30 and d["postbacks"] >= 4 and d["pages"]["article"] == 270, d
    assert "/bai-viet/{n}" in d["article_shapes"] and not any(".pdf" in s for s in d["article_shapes"]), d
    assert any(m == "POST" for m, _, _ in gensite.requests)
    # No calendar page was fetched (an endless space of day pages).
    assert not [p for _, p, _ in gensite.requests if p.startswith("/lich")]
    # The portal is recorded as live, under a slug named after its host.
    (state,) = q(db, "SELECT status FROM portal_status")[0]
    assert state == "live"
    # The next night: nothing new, every stored article skipped.
    before = len(gensite.requests)
    r2 = crawl_address(gensite.url + "/", db)
    assert r2.returncode == 0, r2.stdout + r2.stderr[-2000:]
    assert q(db, "SELECT count(*) FROM articles")[0][0] == 270
    assert q(db, "SELECT new FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0] == 0
    article_fetches = [p for _, p, _ in gensite.requests[before:] if key(p) in {key(x) for x in gensite.by_path}]
    assert article_fetches == [], article_fetches[:5]


def test_sitemaps_and_feeds_come_first(tmp_path: Path) -> None:
    site = GenSite(12, sitemap=True, feed=True)
    try:
        db = tmp_path / "s.db"
        r = crawl_address(site.url + "/", db)
        assert r.returncode == 0, r.stdout + r.stderr[-3000:]
        (raw,) = q(db, "SELECT discovery FROM crawl_runs")[0]
        d = json.loads(raw)
        assert d["sitemaps"] == 3 and d["sitemap_urls"] >= 72 and d["feeds"] == 1 and d["feed_urls"] == 20, d
        assert measure(site, db)["found"] == 1.0
        assert ("GET", "/sitemaps/all.xml.gz", "") in site.requests
    finally:
        site.stop()


def test_a_sitemap_bomb_is_bounded(tmp_path: Path) -> None:
    site = GenSite(6, bomb=True)
    try:
        db = tmp_path / "b.db"
        r = crawl_address(site.url + "/", db, "-s", "ARCHIVER_SITEMAP_MAX_FILES=10", "-s", "ARCHIVER_SITEMAP_MAX_MB=5")
        assert r.returncode == 0, r.stdout + r.stderr[-3000:]
        bombs = [p for _, p, _ in site.requests if p.startswith("/sitemaps/bomb-")]
        assert 1 <= len(bombs) <= 9, len(bombs)  # the index is one of the 10
        (raw,) = q(db, "SELECT discovery FROM crawl_runs")[0]
        notes = " ".join(json.loads(raw)["notes"])
        assert "ARCHIVER_SITEMAP_MAX_FILES" in notes and "ARCHIVER_SITEMAP_MAX_MB" in notes, notes
        assert measure(site, db)["found"] == 1.0  # the site itself is still walked
    finally:
        site.stop()


@pytest.mark.parametrize("kind, expect", [("not_portal", "no news listing found: tried robots.txt"),
                                          ("js_only", "a JavaScript-only site")])  # fmt: skip
def test_no_portal_and_javascript_only_sites_fail_with_one_line(kind: str, expect: str, tmp_path: Path) -> None:
    site = GenSite(3, **{kind: True})
    try:
        db = tmp_path / "n.db"
        r = crawl_address(site.url + "/", db)
        assert r.returncode == 1
        lines = [line for line in r.stdout.splitlines() if expect in line]
        assert len(lines) == 1, r.stdout
        assert q(db, "SELECT status FROM crawl_runs")[0][0] == "failed"
    finally:
        site.stop()


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(301)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def test_moved_and_gone_portals_are_recorded(tmp_path: Path) -> None:
    other = f"http://127.0.0.1:{free_port()}"  # another host (port): never fetched
    handler = type("H", (_Redirect,), {"target": other})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        db = tmp_path / "m.db"
        r = crawl_address(f"http://127.0.0.1:{server.server_address[1]}/", db)
        assert r.returncode == 1
        status, detail = q(db, "SELECT status, detail FROM portal_status")[0]
        assert status == "moved" and other in detail, detail
        assert "moved" in q(db, "SELECT reason FROM crawl_runs")[0][0]
    finally:
        server.shutdown()
        server.server_close()
    dead = f"http://127.0.0.1:{free_port()}/"
    db2 = tmp_path / "g.db"
    r = crawl_address(dead, db2, "-s", "RETRY_TIMES=0")
    assert r.returncode == 1
    assert q(db2, "SELECT status, detail FROM portal_status")[0] == ("gone", "connection refused")
    # Seen gone again: the same row, seen later; nothing overwritten.
    crawl_address(dead, db2, "-s", "RETRY_TIMES=0")
    rows = q(db2, "SELECT status, first_seen, last_seen FROM portal_status")
    assert len(rows) == 1 and rows[0][2] >= rows[0][1]


# -- the pure parts -------------------------------------------------------------------------------
B = "http://127.0.0.1:9"


@pytest.mark.parametrize("a, b", [
    (f"{B}/tin/?page=1", f"{B}/tin/"), (f"{B}/tin/?start=0", f"{B}/tin/"), (f"{B}/giao-duc/page-1", f"{B}/giao-duc/"),
    (f"{B}/kinh-te/trang-1.html", f"{B}/kinh-te/"), (f"{B}/index.php?cat=5&trang=1", f"{B}/index.php?cat=5"),
])  # fmt: skip
def test_the_first_page_of_a_listing_is_the_listing(a: str, b: str) -> None:
    assert page_key(a) == page_key(b)


@pytest.mark.parametrize("a, b", [
    (f"{B}/tin/?page=2", f"{B}/tin/"), (f"{B}/tin/?start=20", f"{B}/tin/?start=40"),
    (f"{B}/kinh-te/trang-2.html", f"{B}/kinh-te/trang-3.html"), (f"{B}/index.php?cat=5&trang=2", f"{B}/index.php?cat=6&trang=2"),
])  # fmt: skip
def test_other_pages_are_other_pages(a: str, b: str) -> None:
    assert page_key(a) != page_key(b)


def test_pagination_shapes_and_postbacks_are_found() -> None:
    g = generate(45)
    got = {}
    for s, n in (("tin-trong-tinh", 2), ("kinh-te", 2), ("van-hoa", 2), ("xa-hoi", 2), ("giao-duc", 5), ("thong-bao", 1)):
        from tests.gensite import listing_url

        page = analyse(listing_html(g, s, n), B + listing_url(s, n))
        assert page.is_listing, s
        got[s] = {page_key(u) for u in page.pagination}, [p.argument for p in postback_pages(page)]
    assert page_key(f"{B}/tin-tuc/tin-trong-tinh/?page=5") in got["tin-trong-tinh"][0]
    assert page_key(f"{B}/kinh-te/trang-3.html") in got["kinh-te"][0]
    assert page_key(f"{B}/index.php?cat=van-hoa&trang=6") in got["van-hoa"][0]
    assert page_key(f"{B}/xa-hoi/?start=18") in got["xa-hoi"][0]
    assert page_key(f"{B}/giao-duc/") in got["giao-duc"][0]  # the loop back to page 1: the listing itself
    assert "Page$2" in got["thong-bao"][1] and "Page$5" in got["thong-bao"][1]


def test_articles_are_told_from_listings_and_shapes_group_them() -> None:
    g = generate(10)
    for a in g.articles[:12]:
        page = analyse(article_html(g, a), B + a.path)
        assert not page.is_listing and page.is_article_like, a.path
    assert shape(f"{B}/tin-tuc/kinh-te/ha-noi-trien-khai-ke-hoach-123.html") == shape(
        f"{B}/tin-tuc/kinh-te/cong-tac-phong-chong-thien-tai-9.html")
    assert shape(f"{B}/Pages/Detail.aspx?ItemID=1") == shape(f"{B}/Pages/Detail.aspx?ItemID=22")
    assert shape(f"{B}/tin-tuc/kinh-te/a-b-c-1.html") != shape(f"{B}/tin-tuc/xa-hoi/a-b-c-1.html")
    assert not followable(f"{B}/lich?ngay=2024-01-02") and not followable(f"{B}/files/a.pdf")
    assert not followable(f"{B}/tim-kiem?q=x") and followable(f"{B}/tin-tuc/")


def test_sitemaps_feeds_and_gzip_are_read_within_bounds() -> None:
    import gzip

    assert robots_sitemaps("User-agent: *\nSitemap: /s.xml\nsitemap:  http://x/y.xml\n", B + "/robots.txt") == [
        f"{B}/s.xml", "http://x/y.xml"]
    xml = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>http://x/a.html</loc><news:news>'
           b'<news:publication_date>2024-01-02T08:00:00+07:00</news:publication_date></news:news></url></urlset>')
    sm = parse_sitemap(gzip.compress(xml), "http://x/s.xml.gz")
    assert [(e.url, e.lastmod) for e in sm.urls] == [("http://x/a.html", "2024-01-02T08:00:00+07:00")]
    huge = gzip.compress(b"<urlset>" + b"<url><loc>http://x/a</loc></url>" * 400_000 + b"</urlset>")
    data, cut = bounded_bytes(huge, 2**20)
    assert cut and len(data) == 2**20
    assert parse_sitemap(b"<html><body>hi</body></html>", "http://x/s.xml").error
    entries, err = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>T</title>'
                              b"<link>http://x/b.html</link></item></channel></rss>", "http://x/rss")  # fmt: skip
    assert err is None and [e.url for e in entries] == ["http://x/b.html"]
    assert parse_feed(b"not a feed at all", "http://x/rss")[1]


def test_a_url_argument_is_checked(tmp_path: Path) -> None:
    r = subprocess.run(archiver_cmd("crawl", "http://[::1", "--db", str(tmp_path / "x.db")), capture_output=True,
                       text=True, cwd=ROOT, env=dict(os.environ))  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
