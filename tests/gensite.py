"""A generated provincial portal with no profile, served on 127.0.0.1, and the truth about it.

Its templates are none of the fixtures' and none of the CMS families': six sections, each with
its own listing markup, pagination style and article template, as one portal running old and
new designs side by side:

=============  ====================================  ======================================
section        listing, pagination                    article URL, template
=============  ====================================  ======================================
tin-trong-tinh ``?page=N``, window 1..5, Tiếp, Cuối  ``/tin-tuc/tin-trong-tinh/<slug>-<id>.html``
kinh-te        ``/kinh-te/trang-N.html``, Trang sau  ``/kinh-te/<id>/<slug>.html``, tables
van-hoa        ``index.php?cat=van-hoa&trang=N``     ``index.php?option=article&id=<id>``
thong-bao      ASP.NET ``__doPostBack`` pager (POST)  ``/Pages/ArticleDetail.aspx?ItemID=<id>``
xa-hoi         ``?start=N`` offsets, "Xem thêm"      ``/xa-hoi/<slug>-a<id>.htm``
giao-duc       ``/giao-duc/page-N``, «, », a loop      ``/bai-viet/<id>``
=============  ====================================  ======================================

The last giao-duc page's "»" leads back to page 1; every tenth article of tin-trong-tinh is
listed in kinh-te too, and the home page links some articles with ``?ref=home``; a calendar
widget links an endless space of day pages; the chrome has a "today" date, "Tin mới" sidebars
with dates, related lists, a visit counter and a footer. ``truth`` holds every article's
title, day, time, views and body paragraphs. Optional: a sitemap index (with a news sitemap and
a gzip one), an RSS feed, a sitemap bomb.
"""

from __future__ import annotations

import gzip
import html
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.crawling import respond

WORDS = ("ủy ban nhân dân tỉnh tổ chức hội nghị triển khai kế hoạch phát triển kinh tế xã hội năm người dân "
         "doanh nghiệp đầu tư xây dựng nông thôn mới chương trình mục tiêu quốc gia giảm nghèo bền vững "
         "huyện thị xã thành phố đồng chí chủ tịch phó giám đốc sở ban ngành đoàn thể cán bộ công chức "
         "giáo dục đào tạo y tế văn hóa thể thao du lịch nhiệm vụ giải pháp trọng tâm đẩy mạnh cải cách "
         "hành chính chuyển đổi số nâng cao chất lượng hiệu quả công tác phòng chống thiên tai dịch bệnh "
         "sản xuất lúa gạo thủy sản trái cây xuất khẩu đường giao thông cầu cống điện nước sạch học sinh "
         "trường học bệnh viện khám chữa bệnh bảo hiểm an sinh đảm bảo quyền lợi hướng dẫn thực hiện").split()
SECTIONS = ("tin-trong-tinh", "kinh-te", "van-hoa", "thong-bao", "xa-hoi", "giao-duc")
NAMES = {"tin-trong-tinh": "Tin trong tỉnh", "kinh-te": "Kinh tế", "van-hoa": "Văn hóa", "thong-bao": "Thông báo",
         "xa-hoi": "Xã hội", "giao-duc": "Giáo dục"}  # fmt: skip
PER_PAGE = {"tin-trong-tinh": 10, "kinh-te": 12, "van-hoa": 8, "thong-bao": 10, "xa-hoi": 9, "giao-duc": 10}
AUTHORS = ("Thanh Tâm", "Minh Triết", "Hoàng Anh", "Ngọc Hân", "Bảo Trâm")


@dataclass
class Art:
    id: int
    section: str
    title: str
    day: str  # YYYY-MM-DD
    time: str  # HH:MM
    views: int
    paragraphs: list[str]
    author: str
    slug: str = ""

    @property
    def path(self) -> str:
        s = self.section
        if s == "tin-trong-tinh":
            return f"/tin-tuc/tin-trong-tinh/{self.slug}-{self.id}.html"
        if s == "kinh-te":
            return f"/kinh-te/{self.id}/{self.slug}.html"
        if s == "van-hoa":
            return f"/index.php?option=article&id={self.id}"
        if s == "thong-bao":
            return f"/Pages/ArticleDetail.aspx?ItemID={self.id}"
        if s == "xa-hoi":
            return f"/xa-hoi/{self.slug}-a{self.id}.htm"
        return f"/bai-viet/{self.id}"

    @property
    def dmy(self) -> str:
        y, m, d = self.day.split("-")
        return f"{d}/{m}/{y}"


def _slugify(text: str) -> str:
    from archiver.normalize.text import fold

    return "-".join(fold(text).split())[:60].strip("-")


@dataclass
class Generated:
    articles: list[Art]
    by_section: dict[str, list[Art]] = field(default_factory=dict)

    def truth(self) -> dict[str, Art]:
        return {a.path: a for a in self.articles}


def generate(per_section: int = 45, seed: int = 11) -> Generated:
    rnd = random.Random(seed)
    arts = []
    n = 1000
    for s in SECTIONS:
        for _ in range(per_section):
            n += rnd.randint(1, 3)
            title = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 16))).capitalize()
            month, day = rnd.randint(1, 12), rnd.randint(1, 28)
            year = rnd.choice((2019, 2020, 2021, 2022, 2023, 2024))
            paras = []
            for _ in range(rnd.randint(3, 7)):
                sentences = []
                for _ in range(rnd.randint(2, 4)):
                    sentences.append(" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(10, 22))).capitalize() + ".")
                paras.append(" ".join(sentences))
            a = Art(n, s, title, f"{year}-{month:02d}-{day:02d}", f"{rnd.randint(6, 21):02d}:{rnd.randint(0, 59):02d}",
                    rnd.randint(0, 25000), paras, rnd.choice(AUTHORS))  # fmt: skip
            a.slug = _slugify(title)
            arts.append(a)
    arts.sort(key=lambda a: (a.day, a.time), reverse=True)
    g = Generated(arts)
    for s in SECTIONS:
        g.by_section[s] = [a for a in arts if a.section == s]
    # Every tenth article of tin-trong-tinh is listed in kinh-te as well.
    g.by_section["kinh-te"] = sorted(g.by_section["kinh-te"] + g.by_section["tin-trong-tinh"][::10],
                                     key=lambda a: (a.day, a.time), reverse=True)  # fmt: skip
    return g


E = html.escape


def chrome(g: Generated, title: str, main: str, today: str = "Thứ Tư, 02/12/2026") -> str:
    menu = "".join(f'<li><a href="{listing_url(s, 1)}">{NAMES[s]}</a></li>' for s in SECTIONS)
    latest = "".join(f'<li><a href="{a.path}">{E(a.title)}</a> <span class="d">({a.dmy})</span></li>'
                     for a in g.articles[:5])  # fmt: skip
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{E(title)} - Cổng thông tin điện tử tỉnh Demo</title>
<link rel="stylesheet" href="/static/site.css"></head><body>
<div id="top"><span class="today">{today}</span> <a href="/dang-nhap">Đăng nhập</a></div>
<div id="header"><a href="/"><img src="/static/logo.png" alt="logo"></a><h2>CỔNG THÔNG TIN ĐIỆN TỬ TỈNH DEMO</h2></div>
<ul id="mainmenu"><li><a href="/">Trang chủ</a></li>{menu}<li><a href="/gioi-thieu.html">Giới thiệu</a></li>
<li><a href="/van-ban/">Văn bản</a></li><li><a href="/lien-he.html">Liên hệ</a></li></ul>
<div id="wrap"><div id="left">{main}</div>
<div id="right"><div class="box"><h3>Tin mới nhất</h3><ul class="latest">{latest}</ul></div>
<div class="box cal"><h3>Lịch</h3><a href="/lich?ngay=2026-12-01">1</a> <a href="/lich?ngay=2026-12-02">2</a>
<a href="/lich/2026/12/03">3</a></div></div></div>
<div id="foot"><p>Cơ quan chủ quản: Ủy ban nhân dân tỉnh Demo. Địa chỉ: số 1 đường Trần Hưng Đạo.</p>
<p>Số lượt truy cập: 1234567</p><a href="/so-do-site.html">Sơ đồ site</a></div></body></html>"""


def listing_url(s: str, page: int) -> str:
    if s == "tin-trong-tinh":
        return "/tin-tuc/tin-trong-tinh/" + (f"?page={page}" if page > 1 else "")
    if s == "kinh-te":
        return "/kinh-te/" if page == 1 else f"/kinh-te/trang-{page}.html"
    if s == "van-hoa":
        return "/index.php?cat=van-hoa" + (f"&trang={page}" if page > 1 else "")
    if s == "thong-bao":
        return "/Pages/ThongBao.aspx"
    if s == "xa-hoi":
        return "/xa-hoi/" + (f"?start={(page - 1) * PER_PAGE[s]}" if page > 1 else "")
    return "/giao-duc/" if page == 1 else f"/giao-duc/page-{page}"


def pages_of(g: Generated, s: str) -> int:
    return -(-len(g.by_section[s]) // PER_PAGE[s])


def _items(s: str, arts: list[Art]) -> str:
    if s == "tin-trong-tinh":
        return "".join(f'<div class="news-row"><a href="{a.path}"><img src="/img/{a.id}.jpg"></a><div class="txt">'
                       f'<a class="ttl" href="{a.path}">{E(a.title)}</a><span class="date">{a.dmy}</span>'
                       f'<p>{E(a.paragraphs[0][:160])}…</p></div></div>' for a in arts)  # fmt: skip
    if s == "kinh-te":
        rows = "".join(f'<tr><td><img src="/img/{a.id}.jpg"></td><td><a href="{a.path}"><b>{E(a.title)}</b></a><br>'
                       f'({a.dmy}) {E(a.paragraphs[0][:120])}</td></tr>' for a in arts)  # fmt: skip
        return f'<table class="dstin">{rows}</table>'
    if s == "van-hoa":
        return "".join(f'<h4><a href="{a.path}">{E(a.title)}</a></h4><p class="sapo">{E(a.paragraphs[0][:150])}</p>'
                       for a in arts)  # fmt: skip
    if s == "thong-bao":
        return "<ul class='tb'>" + "".join(f'<li><a href="{a.path}">{E(a.title)}</a> - {a.dmy}</li>' for a in arts) \
            + "</ul>"  # fmt: skip
    if s == "xa-hoi":
        return "".join(f'<article class="card"><h3><a href="{a.path}">{E(a.title)}</a></h3><time>{a.dmy}</time>'
                       f'</article>' for a in arts)  # fmt: skip
    return "".join(f'<div class="item-{i}"><a href="{a.path}" class="t">{E(a.title)}</a></div>'
                   for i, a in enumerate(arts))  # fmt: skip


def _pager(s: str, page: int, last: int) -> str:
    if s == "tin-trong-tinh":
        lo = max(1, page - 2)
        nums = "".join(f'<a href="{listing_url(s, n)}">{n}</a>' if n != page else f"<b>{n}</b>"
                       for n in range(lo, min(last, lo + 4) + 1))  # fmt: skip
        tail = f'<a href="{listing_url(s, page + 1)}">Tiếp</a><a href="{listing_url(s, last)}">Cuối</a>' if page < last else ""
        return f'<div class="phantrang">{nums}{tail}</div>'
    if s == "kinh-te":
        out = '<div class="trang">'
        if page > 1:
            out += f'<a href="{listing_url(s, page - 1)}">Trang trước</a> '
        if page < last:
            out += f'<a href="{listing_url(s, page + 1)}">Trang sau</a>'
        return out + "</div>"
    if s == "van-hoa":
        return "<p>Trang: " + " ".join(f'<a href="{listing_url(s, n)}">[{n}]</a>' for n in range(1, last + 1)) + "</p>"
    if s == "xa-hoi":
        return f'<p class="more"><a href="{listing_url(s, page + 1)}">Xem thêm</a></p>' if page < last else ""
    if s == "giao-duc":
        prev = f'<a href="{listing_url(s, page - 1)}">«</a>' if page > 1 else ""
        # The loop: the last page's "»" leads back to page 1 (spelled page-1).
        nxt = f'<a href="{listing_url(s, page + 1) if page < last else "/giao-duc/page-1"}">»</a>'
        return f'<div class="nav-pages">{prev} {page} / {last} {nxt}</div>'
    return ""


def listing_html(g: Generated, s: str, page: int) -> str:
    arts = g.by_section[s]
    per = PER_PAGE[s]
    last = pages_of(g, s)
    chunk = arts[(page - 1) * per: page * per]
    main = f'<div class="crumb"><a href="/">Trang chủ</a> / {NAMES[s]}</div><h1 class="cat">{NAMES[s]}</h1>'
    main += _items(s, chunk)
    if s == "thong-bao":
        links = "".join(f"<a href=\"javascript:__doPostBack('ctl00$Main$Pager','Page${n}')\">{n}</a> "
                        if n != page else f"<span>{n}</span> " for n in range(1, last + 1))  # fmt: skip
        if page < last:
            links += f"<a href=\"javascript:__doPostBack('ctl00$Main$Pager','Page${page + 1}')\">&gt;</a>"
        main = (f'<form method="post" action="/Pages/ThongBao.aspx" id="aspnetForm"><input type="hidden" '
                f'name="__VIEWSTATE" value="vs{page}"><input type="hidden" name="__EVENTTARGET" value="">'
                f'<input type="hidden" name="__EVENTARGUMENT" value="">{main}<div class="pager">{links}</div></form>')  # fmt: skip
    else:
        main += _pager(s, page, last)
    return chrome(g, NAMES[s], main)


def article_html(g: Generated, a: Art) -> str:
    body = "".join(f"<p>{E(p)}</p>" for p in a.paragraphs)
    related = [b for b in g.by_section[a.section] if b.id != a.id][:5]
    rel = "".join(f'<li><a href="{b.path}">{E(b.title)}</a> ({b.dmy})</li>' for b in related)
    s = a.section
    if s == "tin-trong-tinh":
        main = (f'<div class="crumb"><a href="/">Trang chủ</a> / {NAMES[s]}</div><h1 class="title">{E(a.title)}</h1>'
                f'<div class="meta">Ngày đăng: {a.dmy} {a.time} | Lượt xem: {a.views}</div><div class="content">{body}'
                f'<p style="text-align:right"><b>{a.author}</b></p></div><h3>Tin cùng chuyên mục</h3><ul>{rel}</ul>')  # fmt: skip
    elif s == "kinh-te":
        body_br = "<br><br>".join(E(p) for p in a.paragraphs)
        main = (f'<table width="100%"><tr><td class="tieude">{E(a.title)}</td></tr><tr><td class="ngay">Cập nhật lúc '
                f'{a.time} ngày {a.dmy}</td></tr><tr><td class="noidung">{body_br}<br><br>{a.author}</td></tr>'
                f'<tr><td>Số lần xem: {a.views}</td></tr></table><div class="other"><b>Các tin khác</b><ul>{rel}</ul></div>')  # fmt: skip
    elif s == "van-hoa":
        wd = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
        from datetime import date

        w = wd[date.fromisoformat(a.day).weekday()]
        main = (f'<div class="article"><h2 class="contentheading">{E(a.title)}</h2><div class="createdate">{w}, '
                f'{a.dmy} - {a.time}</div><div class="hits">({a.views} lượt xem)</div><div class="article-content">'
                f'{body}<p><em>{a.author}</em></p></div></div><div class="related"><h3>Bài viết liên quan</h3><ul>{rel}</ul></div>')  # fmt: skip
    elif s == "thong-bao":
        main = (f'<div class="ms-rtestate"><div class="tb-title"><h1>{E(a.title)}</h1></div><div class="tb-date">'
                f'Ngày {a.dmy} {a.time}</div><div class="tb-body">{body}</div><div class="tb-views">Lượt xem: '
                f'{a.views}</div></div><h3>Thông báo khác</h3><ul>{rel}</ul>')  # fmt: skip
    elif s == "xa-hoi":
        main = (f'<article class="post"><header><h1>{E(a.title)}</h1><p class="info">{a.dmy} {a.time} · Đã xem: '
                f'{a.views}</p></header><section class="post-body">{body}<p>{a.author}</p></section></article>'
                f'<aside><h4>Tin liên quan</h4><ul>{rel}</ul></aside>')  # fmt: skip
    else:
        main = (f'<div class="detail"><h1>{E(a.title)}</h1><div class="sub">Đăng lúc {a.time}, {a.dmy} - Lượt xem: '
                f'{a.views}</div><div class="detail-body">{body}<div class="author">{a.author}</div></div></div>'
                f'<div class="cungchuyenmuc"><h3>Tin cùng chuyên mục</h3><ul>{rel}</ul></div>')  # fmt: skip
    return chrome(g, a.title, main)


def home_html(g: Generated, feed: bool) -> str:
    boxes = ""
    for s in SECTIONS:
        top = g.by_section[s][:4]
        boxes += f'<div class="home-box"><h3><a href="{listing_url(s, 1)}">{NAMES[s]}</a></h3><ul>' + "".join(
            f'<li><a href="{a.path}{"&" if "?" in a.path else "?"}ref=home">{E(a.title)}</a></li>' for a in top) + "</ul></div>"
    page = chrome(g, "Trang chủ", boxes)
    if feed:
        page = page.replace("</head>", '<link rel="alternate" type="application/rss+xml" href="/rss/tin-moi.rss"></head>')
    return page


_MEGAMENU = '<div id="megamenu" style="display:none"><ul>' + "".join(
    f'<li class="m{i % 7}"><a href="{listing_url(SECTIONS[i % 6], 1)}#m{i}">{NAMES[SECTIONS[i % 6]]} mục {i}</a></li>'
    for i in range(600)) + "</ul></div>"  # fmt: skip


def padding(kb: int) -> str:
    """What makes a real portal's page 100–250 KB: inline scripts and styles (the mega-menu of
    600 links is added to the body)."""
    rnd = random.Random(kb)
    blob = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(kb * 1024 * 2 // 3))
    style = "".join(f".c{i}{{margin:{i % 9}px;color:#{i % 4096:03x}}}" for i in range(kb * 1024 // 3 // 30))
    return f'<script>var portalConfig = "{blob}";</script><style>{style}</style>'


class GenSite(ThreadingHTTPServer):
    """The generated portal. ``requests`` lists (method, path, form argument) of every request."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, per_section: int = 45, *, sitemap: bool = False, feed: bool = False, bomb: bool = False,
                 js_only: bool = False, not_portal: bool = False, delay: float = 0.0, jitter: float = 0.0,
                 pad_kb: int = 0) -> None:  # fmt: skip
        self.g = generate(per_section)
        self.sitemap, self.feed, self.bomb = sitemap, feed, bomb
        self.js_only, self.not_portal, self.delay = js_only, not_portal, delay
        self.jitter = jitter  # each answer waits delay ± jitter seconds (a real server's latency)
        self.padding = padding(pad_kb) if pad_kb else ""
        self.cache: dict[str, tuple[bytes, str]] = {}  # padded pages, rendered once (the bench's server is no bottleneck)
        self.requests: list[tuple[str, str, str]] = []
        self.spans: list[tuple[float, float]] = []  # (start, end) of every GET, time.monotonic()
        self.lock = threading.Lock()
        self.by_path = self.g.truth()
        super().__init__(("127.0.0.1", 0), GenHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True, name="gensite")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)

    def listing_fetches(self) -> dict[str, int]:
        """How often each listing page was fetched (a postback page is its path and argument)."""
        counts: dict[str, int] = {}
        listing_paths = {urlsplit(listing_url(s, 1)).path for s in SECTIONS}
        for method, path, arg in self.requests:
            p = urlsplit(path)
            q = parse_qs(p.query)
            if p.path in listing_paths or p.path.startswith(("/kinh-te/trang-", "/giao-duc/page-")) or (
                    p.path == "/index.php" and "cat" in q):  # fmt: skip
                key = f"{method} {path} {arg}".strip()
                if p.path == "/Pages/ThongBao.aspx" and (method == "GET" or arg in ("", "Page$1")):
                    key = "thong-bao page 1"
                elif p.path == "/giao-duc/page-1":
                    key = "GET /giao-duc/"
                counts[key] = counts.get(key, 0) + 1
        return counts


class GenHandler(BaseHTTPRequestHandler):
    server: GenSite
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def send(self, status: int, body: bytes | str, ctype: str = "text/html; charset=utf-8") -> None:
        if self.server.padding and isinstance(body, str) and "</head>" in body:
            body = body.replace("</head>", self.server.padding + "</head>", 1).replace(
                "<body>", "<body>" + _MEGAMENU, 1)  # fmt: skip
            if self.command == "GET" and status == 200:
                self.server.cache[self.path] = (body.encode("utf-8"), ctype)
        respond(self, status, body.encode("utf-8") if isinstance(body, str) else body, ctype)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("latin-1"))
        arg = (form.get("__EVENTARGUMENT") or [""])[0]
        with self.server.lock:
            self.server.requests.append(("POST", self.path, arg))
        if urlsplit(self.path).path != "/Pages/ThongBao.aspx" or not arg.startswith("Page$"):
            return self.send(404, "<h1>404</h1>")
        page = int(arg.split("$")[1])
        if not 1 <= page <= pages_of(self.server.g, "thong-bao"):
            return self.send(404, "<h1>404</h1>")
        self.send(200, listing_html(self.server.g, "thong-bao", page))

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        start = time.monotonic()
        try:
            self.get()
        finally:
            with self.server.lock:
                self.server.spans.append((start, time.monotonic()))

    def get(self) -> None:  # noqa: C901 - one branch per kind of page
        srv = self.server
        with srv.lock:
            srv.requests.append(("GET", self.path, ""))
        if srv.delay:
            time.sleep(max(0.0, srv.delay + random.uniform(-srv.jitter, srv.jitter)))
        if self.path in srv.cache:
            return respond(self, 200, *srv.cache[self.path])
        g = srv.g
        parts = urlsplit(self.path)
        path, q = parts.path, parse_qs(parts.query)
        if path == "/robots.txt":
            lines = "User-agent: *\nDisallow: /admin/\n"
            if srv.sitemap or srv.bomb:
                lines += f"Sitemap: {srv.url}/sitemap_index.xml\n"
            return self.send(200, lines, "text/plain")
        if srv.js_only:
            if path == "/":
                return self.send(200, '<!DOCTYPE html><html><head><script src="/app.js"></script></head><body>'
                                      '<div id="root"></div><noscript>Bật JavaScript</noscript></body></html>')  # fmt: skip
            return self.send(404, "not found", "text/plain")
        if srv.not_portal:
            if path == "/":
                return self.send(200, "<html><head><title>Công ty ABC</title></head><body><h1>Công ty ABC</h1>"
                                      "<p>Chào mừng quý khách.</p><a href='/san-pham'>Sản phẩm</a> "
                                      "<a href='/lien-he'>Liên hệ</a></body></html>")  # fmt: skip
            if path == "/san-pham":
                return self.send(200, "<html><body><h1>Sản phẩm</h1><p>Đang cập nhật.</p></body></html>")
            return self.send(404, "not found", "text/plain")
        if path == "/sitemap_index.xml" and (srv.sitemap or srv.bomb):
            return self._sitemap_index()
        if path.startswith("/sitemaps/") and (srv.sitemap or srv.bomb):
            return self._sitemap(path)
        if path == "/rss/tin-moi.rss" and srv.feed:
            items = "".join(f"<item><title>{E(a.title)}</title><link>{srv.url}{E(a.path)}</link></item>"
                            for a in g.articles[:20])  # fmt: skip
            return self.send(200, f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin mới'
                                  f'</title>{items}</channel></rss>', "application/rss+xml")  # fmt: skip
        if path == "/":
            return self.send(200, home_html(g, srv.feed))
        art = srv.by_path.get(path)
        if path == "/index.php" and q.get("option") == ["article"] and q.get("id", [""])[0].isdigit():
            art = srv.by_path.get(f"/index.php?option=article&id={q['id'][0]}")
        elif path == "/Pages/ArticleDetail.aspx" and q.get("ItemID", [""])[0].isdigit():
            art = srv.by_path.get(f"/Pages/ArticleDetail.aspx?ItemID={q['ItemID'][0]}")
        if art is not None:
            return self.send(200, article_html(g, art))
        if path == "/index.php" and q.get("option") == ["article"]:
            return self.send(404, "<h1>Không tìm thấy trang</h1>")
        query = sorted((k, v) for k, vs in q.items() for v in vs)
        for s in SECTIONS:
            last = pages_of(g, s)
            for n in range(1, last + 1):
                u = urlsplit(listing_url(s, n))
                if (path == u.path and query == sorted((k, v) for k, vs in parse_qs(u.query).items() for v in vs)) or (s == "giao-duc" and n == 1 and path == "/giao-duc/page-1"):
                    return self.send(200, listing_html(g, s, n))
        if path in ("/gioi-thieu.html", "/van-ban/", "/lien-he.html", "/so-do-site.html", "/dang-nhap"):
            body = "<h1>Giới thiệu</h1><p>Tỉnh Demo nằm ở đồng bằng.</p>"
            if path == "/van-ban/":
                body = "<h1>Văn bản</h1><ul>" + "".join(f'<li><a href="/files/vb{i}.pdf">Quyết định số {i}/QĐ-UBND</a></li>'
                                                        for i in range(1, 8)) + "</ul>"  # fmt: skip
            return self.send(200, chrome(g, "Trang", body))
        if path.startswith("/lich"):
            # The trap: every day links the next and the previous one, forever.
            n = len(path) + len(parts.query)
            return self.send(200, chrome(g, "Lịch", f'<a href="/lich?ngay=2026-12-{n % 28 + 1:02d}&x={n}">sau</a>'))
        return self.send(404, "<h1>404 Not Found</h1>")

    def _sitemap_index(self) -> None:
        srv = self.server
        if srv.bomb:
            locs = "".join(f"<sitemap><loc>{srv.url}/sitemaps/bomb-{i}.xml</loc></sitemap>" for i in range(5000))
        else:
            locs = "".join(f"<sitemap><loc>{srv.url}/sitemaps/{n}</loc></sitemap>"
                           for n in ("news.xml", "all.xml.gz"))  # fmt: skip
        self.send(200, f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}'
                       "</sitemapindex>", "application/xml")  # fmt: skip

    def _sitemap(self, path: str) -> None:
        srv = self.server
        arts = srv.g.articles
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
        if path.startswith("/sitemaps/bomb-"):
            if path == "/sitemaps/bomb-0.xml":
                # A huge gzip: 200 MB of the same URL once decompressed.
                one = f"<url><loc>{srv.url}/x</loc></url>".encode()
                raw = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + one * (
                    200 * 2**20 // len(one)) + b"</urlset>"
                return self.send(200, gzip.compress(raw, 9), "application/gzip")
            return self.send(200, f'<?xml version="1.0"?><urlset {ns}></urlset>', "application/xml")
        if path == "/sitemaps/news.xml":
            urls = "".join(f"<url><loc>{srv.url}{E(a.path)}</loc><news:news><news:publication_date>{a.day}T{a.time}:00+07:00"
                           f"</news:publication_date></news:news></url>" for a in arts[:30])  # fmt: skip
            return self.send(200, f'<?xml version="1.0"?><urlset {ns}>{urls}</urlset>', "application/xml")
        if path == "/sitemaps/all.xml.gz":
            urls = "".join(f"<url><loc>{srv.url}{E(a.path)}</loc><lastmod>{a.day}</lastmod></url>" for a in arts)
            data = gzip.compress(f'<?xml version="1.0"?><urlset {ns}>{urls}</urlset>'.encode())
            return self.send(200, data, "application/gzip")
        return self.send(404, "not found", "text/plain")


def max_in_flight(spans: list[tuple[float, float]]) -> int:
    """The most requests the server was answering at one moment."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda ev: (ev[0], ev[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def min_start_gap(spans: list[tuple[float, float]]) -> float:
    """The shortest time between two requests' arrivals (inf for fewer than two)."""
    starts = sorted(s for s, _ in spans)
    return min((b - a for a, b in zip(starts, starts[1:], strict=False)), default=float("inf"))
