"""The bundled demo: a static snapshot of a portal shaped like the Hậu Giang portal.

``build_site(directory)`` writes the snapshot (deterministic: same bytes every time) and its
``manifest.json`` (what an exact crawl must archive); ``serve(directory)`` serves it on
127.0.0.1 on a free port. The snapshot is committed under ``data/demo/site``;
``tests/test_demo.py`` checks that it equals what ``build_site`` writes.

Regenerate: ``python -m archiver.demo data/demo``. The documents the articles link to (PDF and
DOCX under ``site/van-ban/``) are committed too; ``python -m archiver.demo data/demo --documents``
writes them again (it needs fpdf2 and the DejaVu font: ``pip install -e '.[test]'``, Debian's
``fonts-dejavu-core``).
"""

from __future__ import annotations

import functools
import html
import json
import random
import sys
import threading
from dataclasses import asdict, dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "data" / "demo"
SITE_DIR = DEMO_DIR / "site"

CATEGORIES = [
    ("tin-trong-tinh", "Tin trong tỉnh"),
    ("thoi-su-chinh-tri", "Thời sự - Chính trị"),
    ("kinh-te", "Kinh tế"),
]
PER_CATEGORY = 22
PAGE_SIZE = 8
AUTHORS = ["Thanh Tâm", "Hồng Nguyên", "Lê Văn Mười", "Minh Khoa", "Ngọc Hân", "T.H", "Phương Thảo"]
PLACES = ["Vị Thanh", "Ngã Bảy", "Long Mỹ", "Châu Thành", "Phụng Hiệp", "Vị Thủy", "Châu Thành A"]
SUBJECTS = [
    "đẩy mạnh cải cách hành chính", "phát triển kinh tế tập thể", "bảo vệ an ninh trật tự",
    "xây dựng nông thôn mới", "chuyển đổi số", "phòng, chống thiên tai", "giảm nghèo bền vững",
    "thu hút đầu tư", "phát triển du lịch sinh thái", "bảo vệ môi trường", "chăm lo gia đình chính sách",
]  # fmt: skip
VERBS = ["ban hành Chỉ thị về việc", "triển khai kế hoạch", "tổng kết công tác", "đề ra giải pháp",
         "kiểm tra tiến độ", "hội nghị bàn về"]  # fmt: skip
SENTENCES = [
    "Nhằm phát huy những kết quả đạt được, Ủy ban nhân dân tỉnh yêu cầu các sở, ban, ngành tập trung thực hiện.",
    "Theo báo cáo, trong năm qua toàn tỉnh đã giải quyết 14.832 hồ sơ đúng hạn, đạt tỷ lệ 98,5%.",
    "Lãnh đạo tỉnh đề nghị các địa phương tiếp tục rà soát, tháo gỡ khó khăn cho người dân và doanh nghiệp.",
    "Đảng bộ và chính quyền các cấp đã chủ động xây dựng kế hoạch, phân công nhiệm vụ cụ thể.",
    "Tổng kinh phí thực hiện hơn 1.234 tỷ đồng, trong đó vốn ngân sách tỉnh chiếm phần lớn.",
    "Nhiều mô hình hay, cách làm hiệu quả được nhân rộng, góp phần nâng cao đời sống của nhân dân.",
    "Đồng chí Chủ tịch UBND tỉnh nhấn mạnh đây là nhiệm vụ trọng tâm, xuyên suốt của cả hệ thống chính trị.",
    "Các đơn vị phối hợp chặt chẽ với TP.HCM và các tỉnh lân cận trong công tác xúc tiến đầu tư.",
    "Sở Kế hoạch và Đầu tư được giao chủ trì, tham mưu triển khai và báo cáo kết quả định kỳ.",
    "Người dân phấn khởi khi các công trình giao thông nông thôn được đưa vào sử dụng đúng tiến độ.",
]  # fmt: skip


@dataclass
class DemoDocument:
    """A document the demo's articles link to, and what the archive must read out of it."""

    path: str
    link_text: str
    articles: list[int]  # ids of the articles linking to it
    lines: list[str]
    doc_number: str | None
    doc_date: str | None
    unique: str  # words that appear in this document and nowhere in the articles
    where: str = "block"  # "body": a link in the article's body; "block": its "File đính kèm" block
    legacy: bool = False  # a PDF whose body (after its Unicode heading) is in TCVN3 (.VnTime) font encoding

    @property
    def kind(self) -> str:
        return self.path.rsplit(".", 1)[1]


def documents() -> list[DemoDocument]:
    """The demo's documents: one decree every article links to in its body, a directive in the
    first article's attachment block, a report whose text layer is TCVN3, and a plan (DOCX) in
    the attachment block of every tenth article."""
    head = ["ỦY BAN NHÂN DÂN TỈNH HẬU GIANG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    docs = [
        DemoDocument("/van-ban/qd-01.pdf", "Quyết định", [a.id for a in articles()],
                     [*head, "Số: 125/QĐ-UBND", "Hậu Giang, ngày 05 tháng 01 năm 2021", "QUYẾT ĐỊNH",
                      "Ban hành Quy chế làm việc của Ủy ban nhân dân tỉnh nhiệm kỳ 2021 - 2026",
                      "Điều 1. Ban hành kèm theo Quyết định này Quy chế làm việc của Ủy ban nhân dân tỉnh.",
                      "Điều 2. Quyết định này có hiệu lực kể từ ngày ký."],
                     "125/QĐ-UBND", "2021-01-05", "nhiệm kỳ 2021 - 2026", where="body"),
        DemoDocument("/van-ban/ct-04-ct-ubnd.pdf", "Chỉ thị số 04/CT-UBND ngày 18/3/2021", [1],
                     [*head, "Số: 04/CT-UBND", "Hậu Giang, ngày 18 tháng 3 năm 2021", "CHỈ THỊ",
                      "Về việc đẩy mạnh cải cách hành chính và lưu trữ điện tử hồ sơ công việc",
                      "Thủ trưởng các sở, ban, ngành tỉnh tổ chức số hóa tài liệu lưu trữ, hoàn thành trước quý IV.",
                      "Chủ tịch Ủy ban nhân dân các huyện, thị xã, thành phố chịu trách nhiệm thi hành Chỉ thị này."],
                     "04/CT-UBND", "2021-03-18", "lưu trữ điện tử"),
        DemoDocument("/van-ban/bc-12-bc-ubnd.pdf", "Báo cáo số 12/BC-UBND", [2],
                     [*head, "Số: 12/BC-UBND", "Hậu Giang, ngày 20 tháng 6 năm 2021", "BÁO CÁO",
                      "Tình hình quyết toán ngân sách sáu tháng đầu năm 2021",
                      "Tổng thu ngân sách trên địa bàn đạt 2.450 tỷ đồng, bằng 52,1% dự toán."],
                     "12/BC-UBND", "2021-06-20", "quyết toán", legacy=True),
    ]
    for a in articles():
        if a.id % 10 == 5:
            docs.append(DemoDocument(
                f"/van-ban/kh-{a.id}-kh-ubnd.docx", f"Kế hoạch số {a.id}/KH-UBND", [a.id],
                [*head, f"Số: {a.id}/KH-UBND", f"Hậu Giang, ngày {a.published[8:10]}/{a.published[5:7]}/{a.published[:4]}",
                 "KẾ HOẠCH", f"Kiểm kê tài sản công tại {PLACES[a.id % 7]} năm {a.published[:4]}",
                 "Các đơn vị hoàn thành kiểm kê tài sản công và gửi báo cáo về Sở Tài chính."],
                f"{a.id}/KH-UBND", a.published[:10], "kiểm kê tài sản công"))  # fmt: skip
    return docs


def build_documents(directory: Path = DEMO_DIR) -> list[Path]:
    """Write the demo's documents under ``directory/site`` (needs fpdf2 and the DejaVu font)."""
    from datetime import UTC, datetime

    import docx
    from fpdf import FPDF

    from archiver.normalize.legacy import to_tcvn3

    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    written = []
    for d in documents():
        target = directory / "site" / d.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if d.kind == "pdf":
            pdf = FPDF()
            pdf.set_creation_date(datetime(2021, 3, 18, tzinfo=UTC))
            pdf.add_font("dejavu", fname=str(font))
            pdf.set_font("dejavu", size=11)
            pdf.add_page()
            for i, line in enumerate(d.lines):
                # TCVN3 puts "ư" at 0xAD, which fpdf2 takes for a soft hyphen: the body avoids it.
                shown = to_tcvn3(line) if d.legacy and i >= 6 else line
                pdf.multi_cell(0, 6, shown, new_x="LMARGIN", new_y="NEXT")
            target.write_bytes(bytes(pdf.output()))
        else:
            doc = docx.Document()
            doc.core_properties.created = doc.core_properties.modified = datetime(2021, 3, 18)
            for line in d.lines:
                doc.add_paragraph(line)
            doc.save(str(target))
        written.append(target)
    return written


@dataclass
class DemoArticle:
    """One demo article and what the archive must hold for it."""

    id: int
    category: str
    category_name: str
    slug: str
    title: str
    published: str  # ISO, as the archive stores it
    date_line: str
    views: int | None
    author: str | None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/tin-tuc/{self.category}/{self.slug}.html"


def _slugify(text: str) -> str:
    import re

    from archiver.normalize.text import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _date_line(rng: random.Random, i: int) -> tuple[str, str, int | None]:
    """(line printed on the page, ISO value, views) in one of several formats the portal used."""
    day, month, year = 1 + (i * 7) % 28, 1 + (i * 5) % 12, 2019 + i % 4
    hour, minute = 7 + i % 11, (i * 13) % 60
    views = None if i % 5 == 2 else rng.randint(40, 4000)
    shown = "" if views is None else f" - [ Số lần xem: {views:,} ]".replace(",", ".")
    kind = i % 5
    if kind == 0:
        line = f"[ Cập nhật vào ngày ({day:02d}/{month:02d}/{year}) ]{shown}"
        return line, f"{year}-{month:02d}-{day:02d}", views
    iso = f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+07:00"
    if kind == 1:
        line = f"[ Cập nhật vào ngày ({day:02d}/{month:02d}/{year} {hour:02d}:{minute:02d}) ]{shown}"
    elif kind == 2:
        line = f"[ Cập nhật lúc {hour:02d}:{minute:02d}, ngày {day}/{month}/{year} ]{shown}"
    elif kind == 3:
        line = f"[ Cập nhật vào ngày {day} tháng {month} năm {year}, {hour} giờ {minute:02d} phút ]{shown}"
    else:
        line = f"[ {day:02d}-{month:02d}-{year} | {hour:02d}:{minute:02d} (GMT+7) ]{shown}"
    return line, iso, views


def articles(per_category: int = PER_CATEGORY) -> list[DemoArticle]:
    """The demo's articles (``per_category`` in each category; the tests' larger portals ask
    for more: the first categories' articles then differ from the committed snapshot's)."""
    rng = random.Random(20210323)
    out: list[DemoArticle] = []
    n = 0
    for cat, cat_name in CATEGORIES:
        for _ in range(per_category):
            n += 1
            place = PLACES[n % len(PLACES)]
            subject = SUBJECTS[n % len(SUBJECTS)]
            verb = VERBS[n % len(VERBS)]
            title = f"{place} {verb} {subject} năm {2019 + n % 4}"
            if n == 1:
                title = "Hậu Giang ban hành Chỉ thị về việc đẩy mạnh cải cách hành chính"
            line, iso, views = _date_line(rng, n)
            author = None if n % 7 == 3 else AUTHORS[n % len(AUTHORS)]
            paras = [f"{place} - {rng.choice(SENTENCES)}"]
            body = rng.sample(SENTENCES, 4)
            paras += body
            out.append(
                DemoArticle(n, cat, cat_name, f"{_slugify(title)}-{1000 + n}", title, iso, line, views, author, paras)
            )
    return out


def _page(title: str, main: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>{html.escape(title)} - Cổng thông tin điện tử tỉnh Hậu Giang</title>
<link rel="stylesheet" href="/css/site.css"><script src="/scripts/site.js"></script>
</head><body>
<div id="header"><div class="today">Thứ 3, Ngày 16/07/2024</div>
<img src="/media/1001/banner.jpg" alt="Cổng thông tin điện tử tỉnh Hậu Giang"></div>
<div id="menu"><a href="/">Trang chủ</a> <a href="/tin-tuc/tin-trong-tinh/">Tin trong tỉnh</a>
<a href="/tin-tuc/thoi-su-chinh-tri/">Thời sự - Chính trị</a> <a href="/tin-tuc/kinh-te/">Kinh tế</a></div>
<div class="main">
{main}
</div>
<div id="sidebar"><h3>Hình ảnh hoạt động</h3><p>Video Clip</p></div>
<div id="footer">Tổng lượt truy cập : 16.011 | Truy cập hôm nay : 28 | ipv6 ready</div>
</body></html>
"""


def _breadcrumb(cat: str, name: str) -> str:
    return (
        '<div class="breadcrumb"><ul><li><a href="/">Trang chủ</a></li>'
        f'<li><a href="/tin-tuc/{cat}/">{html.escape(name)}</a></li></ul></div>'
    )


def _attachment_block(a: DemoArticle) -> str:
    docs = [d for d in documents() if d.where == "block" and a.id in d.articles]
    if not docs:
        return ""
    items = "".join(f'<li><a href="{d.path}">{html.escape(d.link_text)}</a></li>' for d in docs)
    return f'<div class="file-dinh-kem"><h4>File đính kèm</h4><ul>{items}</ul></div>'


def _article_page(a: DemoArticle, others: list[DemoArticle]) -> str:
    paras = list(a.paragraphs)
    body = [f"<p><strong>{html.escape(paras[0])}</strong></p>"]
    # A sentence glued to the next by the editor, and a hard line break inside a sentence.
    body.append(f"<p>{html.escape(paras[1])}Theo Chỉ thị, các ngành thực hiện nghiêm túc.</p>")
    first, _, rest = paras[2].partition(", ")
    body.append(f"<p>{html.escape(first)},<br>\n{html.escape(rest)}</p>" if rest else f"<p>{paras[2]}</p>")
    body.append(
        f'<p style="text-align:center"><img src="/media/{2000 + a.id}/anh-{a.id}.jpg" alt="1"></p>'
        f'<p style="text-align:center"><em>Quang cảnh hội nghị tại {html.escape(PLACES[a.id % 7])}.</em></p>'
    )
    body += [f"<p>{html.escape(p)}</p>" for p in paras[3:]]
    body.append(
        '<p><script>trackView();</script><a href="/van-ban/qd-01.pdf" onclick="x()">Quyết định</a> - Tải văn bản</p>'
    )
    comments = '<div class="binhluan"><h3>Các ý kiến của bạn đọc</h3><p>Chưa có ý kiến nào.</p></div>'
    if a.author and a.id % 3 == 0:
        # The byline glued to the comments heading, as the real portal prints it.
        body.append(f'<div class="tacgia">{html.escape(a.author)}Các ý kiến của bạn đọc</div>')
    elif a.author:
        body.append(f'<p style="text-align: right;"><strong>{html.escape(a.author)}</strong></p>')
    related = "".join(
        f'<li><a href="{o.path}">{html.escape(o.title)}</a> ({o.published[8:10]}/{o.published[5:7]}/{o.published[:4]})</li>'
        for o in others
    )
    main = f"""{_breadcrumb(a.category, a.category_name)}
<div class="news-detail">
<h1 class="news-title">{html.escape(a.title)}</h1>
<div class="news-info">{html.escape(a.date_line)}</div>
<div class="news-tools">Cỡ chữ <a href="#">A-</a> <a href="#">A+</a> <a href="#">In</a> <a href="#">Gửi email</a></div>
<div class="news-content">
{chr(10).join(body)}
{comments}
</div>
{_attachment_block(a)}<div class="other-news"><h3>Các tin khác</h3><ul>{related}</ul></div>
</div>"""
    return _page(a.title, main)


def _listing_page(cat: str, name: str, items: list[DemoArticle], page: int, pages: int, extra: str = "") -> str:
    rows = []
    for a in items:
        rows.append(
            f'<div class="news-item"><a class="news-item-img" href="{a.path}"><img src="/media/{2000 + a.id}/anh-{a.id}.jpg" alt=""></a>'
            f'<a class="news-item-title" href="{a.path}">{html.escape(a.title)}</a> '
            f'<span class="news-item-date">({a.published[8:10]}/{a.published[5:7]}/{a.published[:4]})</span>'
            f'<p class="news-item-sapo">{html.escape(a.paragraphs[0][:120])}</p></div>'
        )
    links = []
    for p in range(1, pages + 1):
        href = f"/tin-tuc/{cat}/" if p == 1 else f"/tin-tuc/{cat}/trang-{p}/"
        links.append(f'<a href="{href}">{p}</a>' if p != page else f"<span>{p}</span>")
    if page < pages:
        links.append(f'<a class="next" href="/tin-tuc/{cat}/trang-{page + 1}/">Trang sau</a>')
    main = f"""{_breadcrumb(cat, name)}
<div class="news-list">
{chr(10).join(rows)}
{extra}
</div>
<div class="pager">{" ".join(links)}</div>"""
    return _page(name, main)


NOT_FOUND_PATH = "/tin-tuc/kinh-te/bai-viet-da-go-9999.html"
NOT_FOUND_PAGE = _page("Trang không tồn tại", '<div class="news-detail"><h1 class="news-title">Trang không tồn tại</h1>'
                       '<div class="news-content"><p>Trang không tồn tại hoặc đã bị xóa.</p></div></div>')  # fmt: skip


def build_site(directory: Path = DEMO_DIR) -> dict:
    """Write ``site/`` and ``manifest.json`` under ``directory``; return the manifest."""
    site = directory / "site"
    arts = articles()
    files: dict[str, str] = {}
    for i, a in enumerate(arts):
        others = [arts[(i + k) % len(arts)] for k in (1, 2, 3)]
        files[a.path] = _article_page(a, others)
    cross = arts[0]  # listed under a second category too, with tracking parameters
    for cat, name in CATEGORIES:
        items = [a for a in arts if a.category == cat]
        pages = (len(items) + PAGE_SIZE - 1) // PAGE_SIZE
        for p in range(1, pages + 1):
            extra = ""
            if cat == "thoi-su-chinh-tri" and p == 1:
                extra = (
                    f'<div class="news-item"><a class="news-item-title" href="{cross.path}?utm_source=thoisu'
                    f'&amp;utm_medium=listing">{html.escape(cross.title)}</a></div>'
                )
            if cat == "kinh-te" and p == pages:
                extra = f'<div class="news-item"><a class="news-item-title" href="{NOT_FOUND_PATH}">Bài viết đã gỡ</a></div>'
            chunk = items[(p - 1) * PAGE_SIZE : p * PAGE_SIZE]
            path = f"/tin-tuc/{cat}/" if p == 1 else f"/tin-tuc/{cat}/trang-{p}/"
            files[path + "index.html"] = _listing_page(cat, name, chunk, p, pages, extra)
    files[NOT_FOUND_PATH] = NOT_FOUND_PAGE
    files["/index.html"] = _page(
        "Trang chủ", '<div class="home"><a href="/tin-tuc/tin-trong-tinh/">Tin trong tỉnh</a></div>'
    )
    files["/robots.txt"] = "User-agent: *\nDisallow: /admin/\n"
    for rel, text in files.items():
        target = site / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    manifest = {
        "portal": "demo",
        "articles": [
            {k: v for k, v in asdict(a).items() if k not in ("paragraphs", "date_line")} | {"path": a.path}
            for a in arts
        ],
        "listed_twice": cross.path,
        "not_articles": [NOT_FOUND_PATH],
        "listing_pages": sum(1 for k in files if k.endswith("index.html") and k != "/index.html"),
        "documents": [
            {k: v for k, v in asdict(d).items() if k not in ("lines", "legacy")} for d in documents()
        ],
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return manifest


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawler that hangs up (a stopped crawl, a refused page) is no error of the site


def serve(directory: Path = SITE_DIR, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``directory`` on ``host`` at a free port in a daemon thread; ``.shutdown()`` stops it."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-site").start()
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host if isinstance(host, str) else host.decode()}:{port}"


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--documents"]
    out = Path(args[0]) if args else DEMO_DIR
    m = build_site(out)
    print(f"wrote {len(m['articles'])} articles under {out / 'site'}")
    if "--documents" in sys.argv[1:]:
        print(f"wrote {len(build_documents(out))} documents under {out / 'site' / 'van-ban'}")
