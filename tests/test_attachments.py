"""Attachments (issue 14): real-looking PDFs and DOCX made here with Vietnamese text
(one in TCVN3 font encoding, one image-only), and the hostile ones: too many pages, deep nesting,
a ZIP bomb, an extension that lies."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from archiver.attachments import Limits, document_date, document_number, extract_text, is_attachment_link, sniff
from archiver.normalize.legacy import to_tcvn3

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core (.ci/run installs it)
DECREE = ["ỦY BAN NHÂN DÂN TỈNH HẬU GIANG", "Số: 04/CT-UBND", "Hậu Giang, ngày 18 tháng 3 năm 2021",
          "CHỈ THỊ về việc đẩy mạnh chuyển đổi số trong cơ quan nhà nước",
          "Nhằm phát huy những kết quả đạt được, Chủ tịch Ủy ban nhân dân tỉnh yêu cầu thủ trưởng các sở, ngành."]  # fmt: skip


def pdf(lines: list[str], pages: int = 1, text: bool = True) -> bytes:
    from fpdf import FPDF

    assert FONT.exists(), f"{FONT}: install fonts-dejavu-core (bash .ci/run does)"
    doc = FPDF()
    doc.add_font("dejavu", fname=str(FONT))
    doc.set_font("dejavu", size=11)
    for _ in range(pages):
        doc.add_page()
        if text:
            for line in lines:
                doc.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        else:  # a scan: drawing only, no text layer
            doc.rect(20, 20, 150, 200, style="F")
    return bytes(doc.output())


def docx_bytes(lines: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_links_to_documents_are_recognised_by_extension() -> None:
    assert is_attachment_link("https://www.haugiang.gov.vn/van-ban/qd-01.PDF")
    assert is_attachment_link("http://127.0.0.1:8000/files/ke-hoach.docx?v=2")
    assert not is_attachment_link("https://www.haugiang.gov.vn/tin-tuc/a-1.html")
    assert not is_attachment_link("https://www.haugiang.gov.vn/pdf-viewer.aspx")


def test_a_pdf_decree_gives_its_text_number_and_date() -> None:
    data = pdf(DECREE)
    assert sniff(data) == "application/pdf"
    got = extract_text(data)
    assert got.how == "pypdf" and got.pages == 1
    assert got.text is not None
    assert "chuyển đổi số trong cơ quan nhà nước" in got.text  # every diacritic kept, NFC
    assert "ỦY BAN NHÂN DÂN TỈNH HẬU GIANG" in got.text
    assert document_number(got.text) == "04/CT-UBND"
    assert document_date(got.text) == date(2021, 3, 18)


def test_a_pdf_in_tcvn3_font_encoding_is_repaired() -> None:
    # No bare "ư": TCVN3 puts it at 0xAD, which fpdf2 takes for a soft hyphen and does not draw.
    body = "Nhằm phát huy những kết quả đạt ra trong công tác chuyển đổi số của tỉnh nhà"
    data = pdf([to_tcvn3(body)])
    got = extract_text(data)
    assert got.text is not None and body in got.text, got.text


def test_a_scanned_pdf_is_recorded_as_having_no_text_layer() -> None:
    got = extract_text(pdf([], pages=2, text=False))
    assert (got.text, got.how, got.pages) == (None, "no text layer", 2)


def test_a_docx_gives_paragraphs_and_table_rows() -> None:
    data = docx_bytes(DECREE, [["Đơn vị", "Chỉ tiêu"], ["Sở Nội vụ", "100%"]])
    assert sniff(data).endswith("wordprocessingml.document")
    got = extract_text(data)
    assert got.how == "python-docx" and got.text is not None
    assert DECREE[3] in got.text and "Sở Nội vụ | 100%" in got.text
    assert document_number(got.text) == "04/CT-UBND"


def test_too_many_pages_is_refused_unread() -> None:
    got = extract_text(pdf(DECREE, pages=6), Limits(max_pages=5))
    assert got.text is None and got.how == "refused: 6 pages, more than 5" and got.pages == 6


def test_deep_nesting_is_refused_not_a_crash() -> None:
    depth = 100_000
    body = b"1 0 obj\n" + b"[" * depth + b"]" * depth + b"\nendobj\n"
    data = b"%PDF-1.4\n" + body + b"trailer\n<< /Root 1 0 R /Size 2 >>\n%%EOF\n"
    got = extract_text(data)
    assert got.text is None and got.how.startswith(("refused", "no text layer")), got.how


def test_a_zip_bomb_is_not_opened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (30 * 2**20))
    data = out.getvalue()
    assert len(data) < 2**20
    got = extract_text(data, Limits(max_inflated=10 * 2**20))
    assert got.text is None and got.how == "refused: inflates past 10 MB"


@pytest.mark.parametrize(("data", "kind"), [
    (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "text/html"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "application/x-ole-storage"),
    (b"Rar!\x1a\x07\x00" + b"\0" * 20, "application/vnd.rar"),
    (b"\x89PNG\r\n\x1a\n", "application/octet-stream"),
])  # fmt: skip
def test_the_bytes_say_what_a_file_is_whatever_its_name(data: bytes, kind: str) -> None:
    assert sniff(data) == kind
    got = extract_text(data)
    assert got.text is None and got.how.startswith("not extracted")


@pytest.mark.parametrize(("text", "number", "day"), [
    ("Chỉ thị số 04/CT-UBND ngày 18/3/2021 của UBND tỉnh - Tải văn bản", "04/CT-UBND", date(2021, 3, 18)),
    ("Quyết định số 123/2021/QĐ-UBND, ngày 05-03-2021", "123/2021/QĐ-UBND", date(2021, 3, 5)),
    ("Kế hoạch 56/KH-SNV ngày 31/02/2021", "56/KH-SNV", None),  # an impossible date is not guessed
    ("Thông báo lịch tiếp công dân", None, None),
])  # fmt: skip
def test_document_numbers_and_dates_as_printed(text: str, number: str | None, day: date | None) -> None:
    assert document_number(text) == number
    assert document_date(text) == day


def test_a_file_is_stored_once_per_version_and_linked_to_each_article(tmp_path: Path) -> None:
    from archiver.attachments import describe
    from archiver.items import Article
    from archiver.profiles import get_portal
    from archiver.store import Archive

    url = "https://www.haugiang.gov.vn/van-ban/ct-04.pdf"
    first = describe(url, pdf(DECREE), link_text="Chỉ thị số 04/CT-UBND ngày 18/3/2021 - Tải văn bản",
                     content_type="application/pdf", content_disposition='attachment; filename="ct-04-2021.pdf"')  # fmt: skip
    assert (first["doc_number"], first["doc_date"], first["name_served"]) == ("04/CT-UBND", "2021-03-18", "ct-04-2021.pdf")
    with Archive(tmp_path / "a.db") as archive:
        archive.upsert_portal(get_portal("haugiang"))
        ids = []
        for n in (1, 2):  # two articles link to the same decree
            art = Article(url=f"https://www.haugiang.gov.vn/tin-tuc/a-{n}.html", portal="haugiang", title=f"Tin {n}",
                          body_text="Nội dung.", canonical_url=f"https://www.haugiang.gov.vn/tin-tuc/a-{n}.html")  # fmt: skip
            archive.save_article(art)
            ids.append(next(archive.query("SELECT id FROM articles WHERE url = ?", (art.url,)))["id"])
            archive.link_attachment(ids[-1], url, first["name_shown"])  # type: ignore[arg-type]
        assert archive.save_attachment(first, seen_at="2026-12-01T00:00:00+00:00") == "new"
        assert archive.save_attachment(first, seen_at="2026-12-02T00:00:00+00:00") == "unchanged"
        edited = describe(url, pdf([*DECREE, "Sửa đổi, bổ sung."]))
        assert archive.save_attachment(edited, seen_at="2026-12-03T00:00:00+00:00") == "updated"
        rows = list(archive.query("SELECT version, sha256, first_seen, last_seen FROM attachments ORDER BY version"))
        assert [r["version"] for r in rows] == [1, 2] and rows[0]["sha256"] != rows[1]["sha256"]
        assert rows[0]["last_seen"] == "2026-12-02T00:00:00+00:00"  # the old version kept, never overwritten
        for aid in ids:
            (got,) = archive.attachments_of(aid)
            assert (got["version"], got["sha256"], got["doc_number"]) == (2, edited["sha256"], "04/CT-UBND")


# -- in a crawl ---------------------------------------------------------------------------------
PROFILE = """name = "Cổng văn bản (test)"
province = "Hậu Giang"
base_url = "{origin}"
start_urls = ["/tin-tuc/"]
allow_private = true

[listing]
article_links = "ul.news a"

[article]
title = "h1"
date = "div.date"
body = "div.content"
"""
LEAD = ("<p>Nhằm phát huy những kết quả đạt được trong công tác chuyển đổi số, Ủy ban nhân dân tỉnh ban hành "
        "Chỉ thị về việc đẩy mạnh chuyển đổi số trong các cơ quan nhà nước trên địa bàn tỉnh Hậu Giang.</p>")  # fmt: skip


def article_page(n: int, links: str) -> str:
    return (f"<html><body><h1>Hậu Giang ban hành Chỉ thị số {n}</h1><div class='date'>23/03/2021</div>"
            f"<div class='content'>{LEAD}{links}</div></body></html>")  # fmt: skip


@pytest.fixture(scope="module")
def docsite():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.crawling import respond

    decree, plan = pdf(DECREE), docx_bytes(DECREE[:2] + ["Kế hoạch thực hiện năm 2021"])
    links_1 = ('<p><a href="/van-ban/ct-04.pdf">Chỉ thị số 04/CT-UBND ngày 18/3/2021</a> - Tải văn bản</p>'
               '<p><a href="/van-ban/kh-56.docx">Kế hoạch 56/KH-SNV</a></p><p><a href="/van-ban/mat.pdf">Văn bản '
               'đã gỡ</a></p><p><a href="http://127.0.0.2:9/khac.pdf">Nơi khác</a></p>')  # fmt: skip
    pages = {
        "/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n", {}),
        "/tin-tuc/": (200, "text/html; charset=utf-8", b'<ul class="news"><li><a href="/tin-tuc/a-1.html">Tin 1</a>'
                      b'</li><li><a href="/tin-tuc/a-2.html">Tin 2</a></li></ul>', {}),  # fmt: skip
        "/tin-tuc/a-1.html": (200, "text/html; charset=utf-8", article_page(1, links_1).encode(), {}),
        "/tin-tuc/a-2.html": (200, "text/html; charset=utf-8", article_page(2, '<p><a href="/van-ban/ct-04.pdf">'
                              'Chỉ thị 04</a></p>').encode(), {}),  # fmt: skip
        "/van-ban/ct-04.pdf": (200, "application/pdf", decree,
                               {"Content-Disposition": 'attachment; filename="chi-thi-04-2021.pdf"'}),
        "/van-ban/kh-56.docx": (200, "application/octet-stream", plan, {}),
    }
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            hits.append(self.path)
            status, ctype, body, headers = pages.get(self.path, (404, "text/html", b"<h1>404</h1>", {}))
            respond(self, status, body, ctype, headers)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits, decree
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def crawl_docs(origin: str, tmp: Path, *extra: str):
    import os
    import subprocess

    from tests.crawling import QUICK, ROOT, archiver_cmd

    pdir = tmp / "profiles"
    pdir.mkdir(exist_ok=True)
    (pdir / "vanban.toml").write_text(PROFILE.format(origin=origin), encoding="utf-8")
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(pdir), ARCHIVER_REGISTRY="none")
    return subprocess.run(archiver_cmd("crawl", "vanban", "--db", str(tmp / "a.db"), *QUICK, *extra),
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)  # fmt: skip


def test_a_crawl_keeps_the_documents_its_articles_link_to(docsite, tmp_path: Path) -> None:
    import hashlib

    from archiver.capture.warc import read_capture
    from tests.crawling import q

    origin, hits, decree = docsite
    off = tmp_path / "off"
    off.mkdir()
    hits.clear()
    r = crawl_docs(origin, off, "-s", "ARCHIVER_ATTACHMENTS_ENABLED=false")  # turned off: links only
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert not [h for h in hits if h.startswith("/van-ban/")] and q(off / "a.db", "SELECT count(*) FROM attachments") == [(0,)]

    hits.clear()
    r = crawl_docs(origin, tmp_path)  # on by default
    db = tmp_path / "a.db"
    assert q(db, "SELECT count(*) FROM articles") == [(2,)], r.stdout + r.stderr[-3000:]
    assert hits.count("/van-ban/ct-04.pdf") == 1  # linked from both articles, fetched once
    assert hits.count("/van-ban/kh-56.docx") == 1
    rows = q(db, "SELECT url, mime_served, mime_sniffed, name_served, doc_number, doc_date, text_how, sha256, "
                 "capture_id, version FROM attachments ORDER BY url")  # fmt: skip
    assert [(r[0].rsplit("/", 1)[1], r[2].rsplit(".", 1)[-1], r[6]) for r in rows] == [
        ("ct-04.pdf", "application/pdf", "pypdf"), ("kh-56.docx", "document", "python-docx")]  # fmt: skip
    pdf_row = rows[0]
    assert pdf_row[3:6] == ("chi-thi-04-2021.pdf", "04/CT-UBND", "2021-03-18")
    assert pdf_row[1] == "application/pdf" and rows[1][1] == "application/octet-stream"  # as served, kept
    assert pdf_row[7] == hashlib.sha256(decree).hexdigest() and pdf_row[9] == 1
    # the bytes are in the WARC, where the capture says
    warc_file, offset = q(db, "SELECT warc_file, warc_offset FROM captures WHERE id = ?", pdf_row[8])[0]
    assert q(db, "SELECT kind FROM captures WHERE id = ?", pdf_row[8]) == [("attachment",)]
    assert read_capture(tmp_path / warc_file, offset).body == decree
    # every link recorded, the missing file a fetch error, the off-portal one never fetched
    links = q(db, "SELECT a.url, l.url FROM article_attachments l JOIN articles a ON a.id = l.article_id ORDER BY 1, 2")
    assert sorted((a.rsplit("/", 1)[1], u.rsplit("/", 1)[1]) for a, u in links) == [
        ("a-1.html", "ct-04.pdf"), ("a-1.html", "kh-56.docx"), ("a-1.html", "khac.pdf"), ("a-1.html", "mat.pdf"),
        ("a-2.html", "ct-04.pdf")]  # fmt: skip
    assert [u.rsplit("/", 1)[1] for (u,) in q(db, "SELECT url FROM fetch_errors WHERE status = 404")] == ["mat.pdf"]
    assert not any("khac" in h for h in hits)
    # `archiver show` lists them
    from tests.crawling import ROOT, archiver_cmd

    aid = q(db, "SELECT id FROM articles WHERE url LIKE '%a-1.html'")[0][0]
    import subprocess

    shown = subprocess.run(archiver_cmd("show", aid, "--db", str(db)), capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    assert "Attachments (4):" in shown.stdout and "Chỉ thị số 04/CT-UBND ngày 18/3/2021:" in shown.stdout
    assert "application/pdf" in shown.stdout and "04/CT-UBND of 2021-03-18" in shown.stdout
    assert shown.stdout.count("not fetched") == 2  # the missing file and the off-portal one
    # a word only the decree holds finds both articles linking to it, and says so
    found = subprocess.run(archiver_cmd("search", "thủ trưởng", "--db", str(db), "--json"), capture_output=True,
                           text=True, cwd=ROOT)  # fmt: skip
    import json

    results = [json.loads(line) for line in found.stdout.splitlines()]
    assert sorted(h["url"].rsplit("/", 1)[1] for h in results) == ["a-1.html", "a-2.html"], found.stdout + found.stderr
    assert all(h["attachment"].endswith("/van-ban/ct-04.pdf") for h in results)
    own = [json.loads(line) for line in subprocess.run(archiver_cmd("search", "dia ban", "--db", str(db), "--json"),
                                                       capture_output=True, text=True, cwd=ROOT).stdout.splitlines()]  # fmt: skip
    assert len(own) == 2 and all(h["attachment"] is None for h in own)
    # `export --attachments` writes each file once, checked, with a manifest whose hashes match
    exported = subprocess.run(archiver_cmd("export", "--format", "csv", "-o", str(tmp_path / "x.csv"), "--db", str(db),
                                           "--attachments", str(tmp_path / "files")),
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((tmp_path / "files" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted((m["article_url"].rsplit("/", 1)[1], m["url"].rsplit("/", 1)[1]) for m in manifest) == [
        ("a-1.html", "ct-04.pdf"), ("a-1.html", "kh-56.docx"), ("a-2.html", "ct-04.pdf")]  # fmt: skip
    files = sorted(p.name for p in (tmp_path / "files").iterdir() if not p.name.startswith("manifest"))
    assert len(files) == 2 and any(f.endswith("-chi-thi-04-2021.pdf") for f in files)
    for m in manifest:
        data = (tmp_path / "files" / m["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == m["sha256"] and len(data) == m["bytes"]
    assert (tmp_path / "files" / "manifest.csv").read_text(encoding="utf-8").count("\n") == 4
