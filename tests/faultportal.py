"""A fault-injection portal for the tests, served on 127.0.0.1.

It serves a generated portal shaped like the Hậu Giang portal (the demo's templates: 3 categories,
``PER_CAT`` articles each, 4 per listing page) under the demo profile's paths, and injects the
faults that the tests switch on by name (``FaultPortal(faults={...})``):

=================  ==============================================================================
fault              what the server does
=================  ==============================================================================
``burst5xx``       article 1 answers 503 twice, then 200; a listing page answers 500 once
``rate429``        a listing page answers 429 with ``Retry-After: 1`` once
``timeout``        article 2 never answers in time (sleeps past the crawl's DOWNLOAD_TIMEOUT)
``reset``          article 3 resets the connection on the first request, then answers
``truncated``      article 4 promises more bytes than it sends, every time
``error200``       article 5 answers 200 with a "Trang không tồn tại" page
``redirects``      article 6 is reached through a chain of three redirects
``loop``           a listed link redirects in a loop
``trap``           the last listing page of a category links to an endless pagination
``huge``           article 7 is a 50 MB page
``gzipbomb``       article 8 is a gzip body that inflates to 64 MB
``charset``        article 9 declares ``charset=iso-8859-1`` but is UTF-8
``moved``          article 10 is listed at its old URL, which answers 301 to its new URL
``deleted``        article 11 answers 404
``drip``           article 12 drips its body out over about a second
``redesign``       article pages print their date line in an element the profile does not know
``relist``         listing pages mark their article links with a class the profile does not know
``edited``         article 1 has one more sentence (the portal edited it)
``gzip``           every page is sent gzip-compressed (``Content-Encoding: gzip``) when the client accepts it
``hang``           article 2 answers after a minute (a download the crawl's timeout does not end soon)
``pager``          the first listing page of a category links to 10,000 listing pages
``deadlinks``      a category's pagination never ends, each page listing 4 fresh articles that 404
``documents``      article 1's attachment block also links the hostile documents of ``HOSTILE``: a
                   PDF claiming 5,000 pages, a ZIP inflating to 300 MB, a ``.pdf`` that is an HTML
                   page, a document that 404s, one behind a redirect, and one off the portal
=================  ==============================================================================

The demo's own documents (``data/demo/site/van-ban/``) are always served, under the demo's paths.

Articles 2, 4, 7 and 8 can never be fetched; article 5 is not an article. Every other article is
reachable and must be archived exactly once.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archiver import demo
from tests.crawling import respond

PER_CAT = 10
PAGE_SIZE = 4
UNREACHABLE = {2: "timeout", 4: "truncated", 7: "huge", 8: "gzipbomb"}
NOT_ARTICLE = {5: "error200"}
ALL_FAULTS = frozenset(
    "burst5xx rate429 timeout reset truncated error200 redirects loop trap huge gzipbomb charset moved drip".split()
)  # everything but "deleted", which a test switches on between two crawls


@cache
def site(per_cat: int = PER_CAT) -> tuple[list[demo.DemoArticle], dict[str, bytes]]:
    """The articles of a portal with ``per_cat`` articles in each of the 3 categories, and their pages."""
    arts = demo.articles(max(per_cat, demo.PER_CATEGORY))
    chosen: list[demo.DemoArticle] = []
    for cat, _ in demo.CATEGORIES:
        chosen += [a for a in arts if a.category == cat][:per_cat]
    pages: dict[str, bytes] = {}
    for i, a in enumerate(chosen):
        pages[a.path] = demo._article_page(a, [chosen[(i + 1) % len(chosen)]]).encode()
    return chosen, pages


def hostile_block(extra: list[str] | tuple[str, ...] = ()) -> bytes:
    links = [*HOSTILE.items(), *((u, "elsewhere") for u in extra)]
    items = "".join(f'<li><a href="{p}">{what}</a></li>' for p, what in links)
    return f'<div class="file-dinh-kem"><h4>Văn bản đính kèm</h4><ul>{items}</ul></div>'.encode()


def article_no(n: int) -> demo.DemoArticle:
    """Article ``n`` (1-based) of the fault portal."""
    return site()[0][n - 1]


def moved_path(a: demo.DemoArticle) -> str:
    return a.path.replace(".html", "-moi.html")


HOSTILE = {
    "/van-ban/bom-trang.pdf": "a PDF claiming 5,000 pages",
    "/van-ban/bom-nen.zip": "a ZIP inflating to 300 MB",
    "/van-ban/gia-mao.pdf": "an HTML page named .pdf",
    "/van-ban/da-go.pdf": "404",
    "/van-ban/cu/chi-thi.pdf": "302 to the demo's directive",
    "http://127.0.0.2:9/van-ban/noi-khac.pdf": "off the portal",
}


@cache
def page_bomb(pages: int = 5000) -> bytes:
    """A PDF whose page tree lists one page ``pages`` times."""
    kids = b" ".join([b"3 0 R"] * pages)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]  # fmt: skip
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Root 1 0 R /Size 4 >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@cache
def zip_bomb() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("bao-cao.pdf", "w", force_zip64=True) as member:
            chunk = b"\0" * 2**20
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def demo_document(path: str) -> bytes | None:
    target = demo.SITE_DIR / path.lstrip("/")
    return target.read_bytes() if path.startswith("/van-ban/") and target.is_file() else None


@cache
def bomb() -> bytes:
    return gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)


class FaultPortal(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, faults: set[str] | frozenset[str] = ALL_FAULTS, delay: float = 0.0,
                 per_cat: int = PER_CAT) -> None:  # fmt: skip
        self.faults = set(faults)
        self.delay = delay
        self.per_cat = per_cat
        self.robots = b"User-agent: *\nDisallow: /admin/\n"
        self.requests: list[tuple[float, str, str]] = []  # (monotonic time, path, User-Agent) of each request
        self.hits: dict[str, int] = {}
        self.document_links: list[str] = []  # further links of the "documents" block (another host)
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True, name="fault-portal").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hit(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up on a drip or a 50 MB page is expected here

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: FaultPortal
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def send(
        self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None
    ) -> None:
        if "gzip" in self.server.faults and "gzip" in self.headers.get("Accept-Encoding", "") and body and not headers:
            body = gzip.compress(body, mtime=0)  # as servers compress: the same bytes every time
            headers = {"Content-Encoding": "gzip"}
        respond(self, status, body, ctype, headers)

    def redirect(self, status: int, to: str) -> None:
        self.send(status, b"", headers={"Location": to})

    def do_GET(self) -> None:  # noqa: C901, N802 - one branch per fault; stdlib name
        srv = self.server
        path = self.path.split("?")[0]
        n = srv.hit(self.path)
        with srv.lock:
            srv.requests.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
        f = srv.faults
        if srv.delay:
            time.sleep(srv.delay)
        arts, pages = site(srv.per_cat)
        by_path = {a.path: i + 1 for i, a in enumerate(arts)}
        if path == "/robots.txt":
            return self.send(200, srv.robots, "text/plain")
        if path.startswith("/tin-tuc/") and (path.endswith("/") or "/trang-" in path):
            return self.listing(path, n)
        if "loop" in f and path.endswith("vong-lap-a.html"):
            return self.redirect(302, path.replace("-a.html", "-b.html"))
        if "loop" in f and path.endswith("vong-lap-b.html"):
            return self.redirect(302, path.replace("-b.html", "-a.html"))
        if "moved" in f and path == article_no(10).path:
            return self.redirect(301, moved_path(article_no(10)))
        if "moved" in f and path == moved_path(article_no(10)):
            return self.send(200, pages[article_no(10).path])
        if "redirects" in f and path.startswith("/tin-tuc/chuyen-huong/buoc-"):
            hop = int(path.rsplit("-", 1)[1].split(".")[0])
            return self.redirect(302, article_no(6).path if hop >= 3 else f"/tin-tuc/chuyen-huong/buoc-{hop + 1}.html")
        if path.startswith("/van-ban/"):
            return self.document(path)
        k = by_path.get(path)
        if k is None:
            return self.send(404, b"<html><body><h1>404</h1></body></html>")
        body = pages[path]
        if k == 1 and "burst5xx" in f and n <= 2:
            return self.send(503, b"<h1>Service Unavailable</h1>")
        if k == 2 and "hang" in f:
            time.sleep(60)
            return self.send(200, body)
        if k == 2 and "timeout" in f:
            time.sleep(6)
            return self.send(200, body)
        if k == 3 and "reset" in f and n == 1:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return None
        if k == 4 and "truncated" in f:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) + 5000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return None
        if k == 5 and "error200" in f:
            return self.send(200, demo.NOT_FOUND_PAGE.encode())
        if k == 7 and "huge" in f:
            return self.send(200, body + b"<!--" + b"x" * (50 * 2**20) + b"-->")
        if k == 8 and "gzipbomb" in f:
            return self.send(200, bomb(), headers={"Content-Encoding": "gzip"})
        if k == 9 and "charset" in f:
            return self.send(200, body.replace(b'<meta charset="utf-8">', b""), "text/html; charset=iso-8859-1")
        if k == 11 and "deleted" in f:
            return self.send(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        if "redesign" in f:
            body = body.replace(b'class="news-info"', b'class="tt-ngay-dang"')
        if k == 1 and "edited" in f:
            body = body.replace(b"</strong></p>", "</strong></p><p>Bổ sung: lịch tiếp dân thay đổi.</p>".encode(), 1)
        if k == 1 and "documents" in f:
            body = body.replace(b'<div class="other-news">', hostile_block(srv.document_links) + b'<div class="other-news">', 1)
        if k == 12 and "drip" in f:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = len(body) // 10 + 1
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                self.wfile.flush()
                time.sleep(0.1)
            return None
        return self.send(200, body)

    def document(self, path: str) -> None:
        if "documents" in self.server.faults:
            if path == "/van-ban/bom-trang.pdf":
                return self.send(200, page_bomb(), "application/pdf")
            if path == "/van-ban/bom-nen.zip":
                return self.send(200, zip_bomb(), "application/zip")
            if path == "/van-ban/gia-mao.pdf":
                return self.send(200, b"<!DOCTYPE html><html><body>Trang kh\xc3\xb4ng t\xe1\xbb\x93n t\xe1\xba\xa1i</body></html>",
                                 "application/pdf")  # fmt: skip
            if path == "/van-ban/cu/chi-thi.pdf":
                return self.redirect(302, "/van-ban/ct-04-ct-ubnd.pdf")
        data = demo_document(path)
        if data is None:
            return self.send(404, b"<html><body><h1>404</h1></body></html>")
        ctype = "application/pdf" if path.endswith(".pdf") else "application/octet-stream"
        return self.send(200, data, ctype, {"Content-Disposition": f'attachment; filename="{path.rsplit("/", 1)[1]}"'})

    def listing(self, path: str, n: int) -> None:
        srv = self.server
        f = srv.faults
        arts, _ = site(srv.per_cat)
        parts = path.strip("/").split("/")
        cat = parts[1]
        page = int(parts[2].split("-")[1]) if len(parts) > 2 else 1
        names = dict(demo.CATEGORIES)
        if cat not in names:
            return self.send(404, b"<h1>404</h1>")
        items = [a for a in arts if a.category == cat]
        pages = (len(items) + PAGE_SIZE - 1) // PAGE_SIZE
        if cat == "thoi-su-chinh-tri" and page == 2 and "burst5xx" in f and n == 1:
            return self.send(500, b"<h1>Internal Server Error</h1>")
        if cat == "kinh-te" and page == 2 and "rate429" in f and n == 1:
            return self.send(429, b"<h1>Too Many Requests</h1>", headers={"Retry-After": "1"})
        trap = "trap" in f and cat == "kinh-te"
        dead = "deadlinks" in f and cat == "kinh-te"
        pager = "pager" in f and cat == "tin-trong-tinh"
        if page > pages and not (trap or dead or pager):
            return self.send(404, b"<h1>404</h1>")
        chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] or items[-PAGE_SIZE:]
        extra = ""
        if dead and page > pages:
            chunk = []
            extra += "".join(f'<div class="news-item"><a class="news-item-title" href="/tin-tuc/kinh-te/chet-{page}-{k}.html">'
                             f"Bài {page}.{k}</a></div>" for k in range(4))  # fmt: skip
        if pager and page == 1:
            extra += '<div class="pager">' + " ".join(f'<a href="/tin-tuc/{cat}/trang-{p}/">{p}</a>'
                                                      for p in range(2, 10_001)) + "</div>"  # fmt: skip
        if cat == "tin-trong-tinh" and page == 1:
            if "loop" in f:
                extra += '<div class="news-item"><a class="news-item-title" href="/tin-tuc/kinh-te/vong-lap-a.html">Vòng lặp</a></div>'
        shown = list(chunk)
        if "moved" in f and article_no(10) in shown:
            a = article_no(10)
            extra += f'<div class="news-item"><a class="news-item-title" href="{a.path}">{a.title}</a></div>'
            shown.remove(a)
        if "redirects" in f and article_no(6) in shown:
            shown.remove(article_no(6))
            extra += '<div class="news-item"><a class="news-item-title" href="/tin-tuc/chuyen-huong/buoc-1.html">Chuyển hướng</a></div>'
        total = page + 1 if trap or (dead and page >= pages) else pages  # a trap always has one more page
        html = demo._listing_page(cat, names[cat], shown, page, total, extra)
        if "relist" in f:
            html = html.replace("news-item-title", "tieu-de")
        self.send(200, html.encode())
