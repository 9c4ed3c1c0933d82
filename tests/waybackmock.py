"""A local Wayback Machine: the CDX server API and ``id_`` replays, on 127.0.0.1, serving captures
of the demo portal at several timestamps.

CDX (``/cdx/search/cdx``) as documented: ``url`` with ``matchType`` exact/prefix/host/domain,
``output=json`` (a header row) or plain text, ``fl``, ``filter`` (``[!]field:regex``, repeatable),
``collapse`` (``field`` or ``field:N``, adjacent rows), ``from``/``to`` (timestamp prefixes),
``limit``, ``showResumeKey``/``resumeKey``; gzip when asked. Replays at ``/web/<ts>id_/<url>``
with the portal's headers as ``x-archive-orig-*``.

The captures (``Capture``): every demo article once in 2021; a fifth of them again later with
more views, some of those edited; one article that the live site no longer has; listing pages;
and the pitfalls the real service has: a CDX line repeated, revisit rows (``warc/revisit``,
status ``-``), a 301 capture (a historical redirect), a soft-404 captured with status 200, a
replay that redirects to the closest capture at another timestamp, and 429 answers with
``Retry-After`` on a burst of CDX queries.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from archiver import demo
from tests.crawling import respond

HOST = "haugiang-demo.example"
ORIGIN = f"https://{HOST}"
GONE_PATH = "/tin-tuc/kinh-te/bai-viet-da-go-khoi-cong-thong-tin-9999.html"
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


@dataclass
class Capture:
    timestamp: str
    original: str
    status: int
    mimetype: str
    body: bytes
    location: str = ""
    revisit: bool = False

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.body).hexdigest().upper()[:32] if not self.revisit else "REVISIT"


def surt(url: str) -> str:
    p = urlsplit(url)
    host = p.netloc.lower()
    host = host[4:] if host.startswith("www.") else host
    path = p.path.lower() + ("?" + p.query.lower() if p.query else "")
    return ",".join(reversed(host.split("."))) + ")" + path


def with_views(page: str, views: int) -> str:
    return re.sub(r"Số lần xem: [\d.,]+", f"Số lần xem: {views:,}".replace(",", "."), page)


def edited(page: str) -> str:
    return page.replace("</strong></p>", "</strong></p><p>Cập nhật: Ủy ban nhân dân tỉnh bổ sung kế hoạch triển khai "
                                          "trong quý tiếp theo.</p>", 1)  # fmt: skip


def build() -> tuple[list[Capture], dict[str, dict]]:
    """The captures, and the truth: per article path, its capture times, views and edits."""
    arts = demo.articles()
    caps: list[Capture] = []
    truth: dict[str, dict] = {}
    for i, a in enumerate(arts):
        others = [arts[(i + k) % len(arts)] for k in (1, 2, 3)]
        page = demo._article_page(a, others)  # noqa: SLF001 - the demo's own page maker
        views = a.views or 0
        t1 = f"2021{(i % 9) + 3:02d}{(i % 27) + 1:02d}0{i % 10}3000"
        stamps = [(t1, with_views(page, views) if a.views is not None else page)]
        if i % 5 == 0:
            later = with_views(page, views + 100) if a.views is not None else page
            stamps.append((f"2022{(i % 9) + 1:02d}1512{i % 6}000", later))
            if i % 10 == 0:
                stamps.append((f"2023{(i % 9) + 1:02d}2008{i % 5}000", edited(with_views(page, views + 250)
                                                                         if a.views is not None else page)))  # fmt: skip
        for ts, html in stamps:
            caps.append(Capture(ts, ORIGIN + a.path, 200, "text/html", html.encode("utf-8")))
        truth[a.path] = {"stamps": [s for s, _ in stamps], "title": a.title,
                         "edited": i % 10 == 0, "views": [views, views + 100, views + 250][:len(stamps)]
                         if a.views is not None else None}  # fmt: skip
    # The article the live site no longer has.
    gone = demo.DemoArticle(9999, "kinh-te", "Kinh tế", "bai-viet-da-go-khoi-cong-thong-tin-9999",
                            "Bài viết đã gỡ khỏi cổng thông tin nhưng còn trong kho lưu trữ", "2021-04-02",
                            "[ Cập nhật vào ngày (02/04/2021) ] - [ Số lần xem: 77 ]", 77, "Minh Triết",
                            [p for p in arts[0].paragraphs])  # fmt: skip
    gone_page = demo._article_page(gone, arts[:3])  # noqa: SLF001
    caps.append(Capture("20210405101500", ORIGIN + GONE_PATH, 200, "text/html", gone_page.encode("utf-8")))
    truth[GONE_PATH] = {"stamps": ["20210405101500"], "title": gone.title, "edited": False, "views": [77]}
    # Listing pages, a soft-404, a historical redirect, a revisit, the home page.
    for cat, _ in demo.CATEGORIES:
        caps.append(Capture("20210601000000", f"{ORIGIN}/tin-tuc/{cat}/", 200, "text/html",
                            (demo.SITE_DIR / "tin-tuc" / cat / "index.html").read_bytes()))  # fmt: skip
    caps.append(Capture("20210701000000", ORIGIN + "/tin-tuc/kinh-te/trang-khong-co.html", 200, "text/html",
                        demo.NOT_FOUND_PAGE.encode("utf-8")))  # fmt: skip
    first = arts[1]
    caps.append(Capture("20210801000000", ORIGIN + "/old/" + first.slug + ".aspx", 301, "text/html", b"",
                        location=ORIGIN + first.path))  # fmt: skip
    caps.append(Capture("20240101000000", ORIGIN + arts[2].path, 200, "warc/revisit", b"", revisit=True))
    caps.append(Capture("20210101000000", ORIGIN + "/", 200, "text/html", (demo.SITE_DIR / "index.html").read_bytes()))
    caps.sort(key=lambda c: (surt(c.original), c.timestamp))
    return caps, truth


class WaybackMock(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, burst_429: int = 2, redirect_replay: bool = True, page_rows: int | None = None) -> None:
        self.captures, self.truth = build()
        self.burst_429 = burst_429  # the first CDX queries are answered 429 (Retry-After: 1)
        self.redirect_replay = redirect_replay
        self.page_rows = page_rows  # cap rows per CDX answer (the server's own limit)
        self.requests: list[tuple[float, str, str]] = []  # (monotonic time, kind, path)
        self.lock = threading.Lock()
        self.cdx_calls = 0
        self.blocked = False
        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True, name="wayback-mock")
        self.thread.start()
        # One capture's replay redirects to the same URL's capture a few seconds later.
        self.moved_stamp = self.captures_of(demo.articles()[3].path)[0].timestamp
        self.moved_to = self.moved_stamp[:-2] + "07"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def captures_of(self, path: str) -> list[Capture]:
        return [c for c in self.captures if c.original == ORIGIN + path]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    def rate(self, kind: str, window: float) -> int:
        """The most requests of a kind in any ``window`` seconds."""
        times = sorted(t for t, k, _ in self.requests if k == kind)
        best = 0
        j = 0
        for i, t in enumerate(times):
            while times[j] < t - window:
                j += 1
            best = max(best, i - j + 1)
        return best


def _match(cap: Capture, url: str, match: str) -> bool:
    target = url if "://" in url else "http://" + url
    p = urlsplit(target)
    host = p.netloc.lower().removeprefix("www.")
    c = urlsplit(cap.original)
    chost = c.netloc.lower().removeprefix("www.")
    if match == "domain":
        return chost == host or chost.endswith("." + host)
    if match == "host":
        return chost == host
    if match == "prefix":
        return surt(cap.original).startswith(surt(target).rstrip("/"))
    return surt(cap.original) == surt(target)


class Handler(BaseHTTPRequestHandler):
    server: WaybackMock
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def send(self, status: int, body: bytes, ctype: str = "text/plain", headers: dict[str, str] | None = None) -> None:
        if body and "gzip" in (self.headers.get("Accept-Encoding") or "") and ctype != "text/html":
            body = gzip.compress(body)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
        respond(self, status, body, ctype, headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        srv = self.server
        parts = urlsplit(self.path)
        kind = "cdx" if parts.path == "/cdx/search/cdx" else "replay" if parts.path.startswith("/web/") else "other"
        with srv.lock:
            srv.requests.append((time.monotonic(), kind, self.path))
        if kind == "cdx":
            return self.cdx(parse_qs(parts.query, keep_blank_values=True))
        if kind == "replay":
            return self.replay()
        return self.send(404, b"not found")

    def cdx(self, q: dict[str, list[str]]) -> None:
        srv = self.server
        with srv.lock:
            srv.cdx_calls += 1
            calls = srv.cdx_calls
        if calls <= srv.burst_429:
            return self.send(429, b"Too Many Requests", headers={"Retry-After": "1"})
        if srv.blocked:
            return self.send(403, b"org.archive.wayback.exception.RobotAccessControlException: Blocked By Robots")
        url = q.get("url", [""])[0]
        match = q.get("matchType", ["exact"])[0]
        rows = []
        for c in srv.captures:
            if not _match(c, url, match):
                continue
            row = {"urlkey": surt(c.original), "timestamp": c.timestamp, "original": c.original,
                   "mimetype": c.mimetype, "statuscode": "-" if c.revisit else str(c.status), "digest": c.digest,
                   "length": str(len(c.body))}  # fmt: skip
            rows.append(row)
        since, until = q.get("from", [""])[0], q.get("to", [""])[0]
        rows = [r for r in rows if (not since or r["timestamp"] >= since.ljust(14, "0"))
                and (not until or r["timestamp"] <= until.ljust(14, "9"))]  # fmt: skip
        for f in q.get("filter", []):
            neg = f.startswith("!")
            name, _, rx = f.lstrip("!").partition(":")
            rows = [r for r in rows if bool(re.fullmatch(rx, r.get(name, ""))) != neg]
        for c in q.get("collapse", []):
            name, _, n = c.partition(":")
            out, last = [], None
            for r in rows:
                k = r[name][: int(n)] if n else r[name]
                if (r["urlkey"], k) != last:
                    out.append(r)
                last = (r["urlkey"], k)
            rows = out
        resume = q.get("resumeKey", [""])[0]
        if resume:
            key = unquote(resume)
            rows = [r for r in rows if (r["urlkey"] + " " + r["timestamp"]) > key]
        limit = int(q.get("limit", ["0"])[0] or 0)
        if srv.page_rows:
            limit = min(limit or srv.page_rows, srv.page_rows)
        more = bool(limit and len(rows) > limit)
        if limit:
            rows = rows[:limit]
        # The real server repeats a line now and then.
        if rows:
            rows = rows[:1] + rows
        fl = q.get("fl", [",".join(FIELDS)])[0].split(",")
        show_key = q.get("showResumeKey", ["false"])[0] == "true"
        key_out = quote(rows[-1]["urlkey"] + " " + rows[-1]["timestamp"]) if more and show_key else None
        if q.get("output", [""])[0] == "json":
            data: list = [fl] + [[r[f] for f in fl] for r in rows] if rows else []
            if key_out:
                data += [[], [key_out]]
            return self.send(200, json.dumps(data).encode(), "application/json")
        text = "\n".join(" ".join(r[f] for f in fl) for r in rows) + "\n"
        if key_out:
            text += "\n" + key_out + "\n"
        return self.send(200, text.encode(), "text/plain")

    def replay(self) -> None:
        srv = self.server
        m = re.match(r"^/web/(\d{14})id_/(.+)$", self.path)
        if not m:
            return self.send(404, b"not an id_ replay")
        ts, original = m.group(1), unquote(m.group(2))
        original = re.sub(r"^(https?):/(?!/)", r"\1://", original)
        if srv.redirect_replay and ts == srv.moved_stamp:
            # The replay sends the closest capture, at another timestamp.
            return self.send(302, b"", headers={"Location": f"{srv.url}/web/{srv.moved_to}id_/{original}"})
        want = ts
        if srv.redirect_replay and ts == srv.moved_to:
            want = srv.moved_stamp
        for c in srv.captures:
            if c.timestamp == want and c.original == original:
                if c.status in (301, 302):
                    return self.send(c.status, b"", headers={"Location": c.location,
                                                              "x-archive-orig-location": c.location})  # fmt: skip
                return self.send(200, c.body, "text/html", headers={
                    "x-archive-orig-content-type": "text/html; charset=utf-8",
                    "x-archive-orig-server": "Microsoft-IIS/8.5", "Memento-Datetime": ts})  # fmt: skip
        return self.send(404, b"<html><body>Wayback Machine has not archived that URL.</body></html>", "text/html")
