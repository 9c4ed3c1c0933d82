"""Attachments in a crawl of the fault portal (issue 14): the demo's documents and the hostile ones
(a page bomb, a ZIP bomb, a lying extension, a 404, a redirect, an off-portal link), documents in
an attachment block outside the body, an allowed document host, the per-article caps, and an
incremental run that does not fetch again what the archive holds."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from archiver import demo
from archiver.attachments import block_links, extract_text, ocr_available
from tests.crawling import q
from tests.faultportal import FaultPortal
from tests.test_attachments import DECREE, FONT, docx_bytes, pdf
from tests.test_crawl_faults import crawl

DOCS = frozenset({"documents"})


def doc_hits(server: FaultPortal) -> dict[str, int]:
    return {p: n for p, n in server.hits.items() if p.startswith("/van-ban/")}


def test_links_in_an_attachment_block_outside_the_body_are_found_and_a_sidebar_is_not() -> None:
    page = """<html><body><div class="content"><p>Nội dung <a href="/a/trong-bai.pdf">trong bài</a></p></div>
    <div class="file-dinh-kem"><a href="/a/dinh-kem.docx">Kế hoạch 56/KH-UBND</a></div>
    <div class="box"><h3>Tệp đính kèm</h3><ul><li><a href="/a/tep.xlsx">Bảng</a></li></ul></div>
    <div id="sidebar"><h3>Văn bản mới</h3><a href="/a/moi.pdf">Quyết định mới</a> <a href="/a/khac.html">Khác</a></div>
    </body></html>"""
    got = block_links(page, "https://www.haugiang.gov.vn/tin/1.html")
    assert [u.rsplit("/", 1)[1] for u, _ in got] == ["dinh-kem.docx", "tep.xlsx"]
    assert got[0][1] == "Kế hoạch 56/KH-UBND"
    # a profile's selector says where the block is, and only there
    assert [u.rsplit("/", 1)[1] for u, _ in block_links(page, "https://x.gov.vn/", "#sidebar")] == ["moi.pdf"]
    assert block_links("<html><body><p>không có tệp</p></body></html>", "https://x.gov.vn/") == []


def test_a_zip_of_documents_gives_the_text_of_each() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ct-04.pdf", pdf(DECREE))
        z.writestr("kh-56.docx", docx_bytes(["Kế hoạch số 56/KH-UBND về kiểm kê tài sản công"]))
        z.writestr("anh.png", b"\x89PNG\r\n\x1a\n")
    got = extract_text(out.getvalue())
    assert got.how == "zip: pypdf, python-docx", got.how
    assert got.text is not None and "[ct-04.pdf]" in got.text and DECREE[3] in got.text and "kiểm kê tài sản công" in got.text


def scanned_pdf(lines: list[str]) -> bytes:
    """An image-only PDF: the lines drawn into a picture, as a scanner gives them."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1700, 120 + 70 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    for i, line in enumerate(lines):
        draw.text((60, 60 + 70 * i), line, fill=0, font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    doc = FPDF()
    doc.add_page()
    doc.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=190)
    return bytes(doc.output())


@pytest.mark.skipif(not ocr_available() and not os.environ.get("CI"),
                    reason="tesseract with the vie data is not installed (bash .ci/run installs it)")  # fmt: skip
def test_a_scanned_pdf_is_read_by_ocr_where_tesseract_is_installed() -> None:
    assert ocr_available(), "CI installs tesseract-ocr and tesseract-ocr-vie: they must be found"
    lines = ["ỦY BAN NHÂN DÂN TỈNH HẬU GIANG", "Số: 04/CT-UBND", "Chỉ thị về việc đẩy mạnh chuyển đổi số"]
    data = scanned_pdf(lines)
    from archiver.attachments import Limits

    assert extract_text(data, Limits(ocr=False)).how == "no text layer"  # the setting turns it off
    got = extract_text(data)
    assert got.how == "ocr: tesseract vie" and got.text is not None, got.how
    assert "04/CT-UBND" in got.text and "chuyển đổi số" in got.text, got.text


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    server = FaultPortal(DOCS)
    other = FaultPortal(frozenset())  # another host (another port): the province's document system
    server.document_links = [f"{other.url}/van-ban/qd-01.pdf"]
    db = tmp_path_factory.mktemp("docs") / "a.db"
    result = crawl(db, server, "--full", "-s", f"ARCHIVER_ATTACHMENT_HOSTS={other.url.split('//')[1]}")
    yield server, other, db, result
    server.stop()
    other.stop()


def test_a_crawl_keeps_every_document_and_refuses_the_hostile_ones(crawled) -> None:
    server, other, db, result = crawled
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = {r[0].split("/van-ban/", 1)[1]: r[1:] for r in q(db, "SELECT url, final_url, mime_sniffed, text_how, sha256 FROM attachments")}
    # the demo's documents the portal's articles link to: each once, with its text, hashes as served
    served = {p.name: p for p in (demo.SITE_DIR / "van-ban").iterdir()}
    linked = {d.path.rsplit("/", 1)[1] for d in demo.documents() if set(d.articles) & {1, 2, 5, 15, 25}} | {"qd-01.pdf"}
    for name in linked & set(served):
        if name in rows:
            assert rows[name][3] == hashlib.sha256(served[name].read_bytes()).hexdigest()
            assert rows[name][2] in ("pypdf", "python-docx")
    assert "qd-01.pdf" in rows and "ct-04-ct-ubnd.pdf" in rows
    hits = doc_hits(server)
    # every document fetched once, however many articles link it (the directive twice: once more
    # at the end of the redirect from its old URL, which is another link)
    assert {p: n for p, n in hits.items() if n != 1} == {"/van-ban/ct-04-ct-ubnd.pdf": 2}, hits
    # the hostile ones: refused with the reason, the bytes kept; the lie found out by the bytes
    assert rows["bom-trang.pdf"][2] == "refused: 5000 pages, more than 2000"
    assert rows["bom-nen.zip"][2] == "refused: inflates past 200 MB"
    assert rows["gia-mao.pdf"][1:3] == ("text/html", "not extracted: text/html")
    # a redirect within the portal is followed, the file kept under the link's URL
    assert rows["cu/chi-thi.pdf"][0].endswith("/van-ban/ct-04-ct-ubnd.pdf") and rows["cu/chi-thi.pdf"][2] == "pypdf"
    # the 404 is a recorded fetch error; the off-portal link is recorded, never fetched
    assert [u for (u,) in q(db, "SELECT url FROM fetch_errors WHERE status = 404") if "/van-ban/" in u] == [
        f"{server.url}/van-ban/da-go.pdf"]  # fmt: skip
    links = {u for (u,) in q(db, "SELECT url FROM article_attachments")}
    assert "http://127.0.0.2:9/van-ban/noi-khac.pdf" in links and "noi-khac.pdf" not in rows
    # the allowed document host is fetched (and only for the document)
    assert other.hits.get("/van-ban/qd-01.pdf") == 1 and set(other.hits) <= {"/van-ban/qd-01.pdf", "/robots.txt"}
    assert q(db, "SELECT count(*) FROM attachments WHERE url = ?", f"{other.url}/van-ban/qd-01.pdf") == [(1,)]


def test_an_incremental_run_does_not_fetch_stored_documents_again(crawled, tmp_path: Path) -> None:
    server, _, db, _ = crawled
    copy = tmp_path / "a.db"
    shutil.copy(db, copy)
    before = dict(server.hits)
    result = crawl(copy, server)  # incremental: revisits recent articles, skips stored documents
    assert result.returncode == 0, result.stderr[-3000:]
    again = {p: n - before.get(p, 0) for p, n in server.hits.items() if p.startswith("/van-ban/") and n - before.get(p, 0)}
    assert set(again) <= {"/van-ban/da-go.pdf"}, again  # only the one the archive does not hold
    assert q(copy, "SELECT count(*) FROM attachments") == q(db, "SELECT count(*) FROM attachments")


def test_the_per_article_caps_hold(tmp_path: Path) -> None:
    server = FaultPortal(DOCS)
    try:
        by_count = crawl(tmp_path / "n.db", server, "--full", "-s", "ARCHIVER_ATTACHMENTS_PER_ARTICLE=1")
        assert by_count.returncode == 0, by_count.stderr[-3000:]
        article_1 = q(tmp_path / "n.db", "SELECT id FROM articles WHERE url LIKE '%-1001.html'")[0][0]
        fetched = q(tmp_path / "n.db", "SELECT count(*) FROM article_attachments l JOIN attachments a ON a.url = l.url "
                                       "WHERE l.article_id = ?", article_1)  # fmt: skip
        linked = q(tmp_path / "n.db", "SELECT count(*) FROM article_attachments WHERE article_id = ?", article_1)
        assert linked[0][0] >= 8 and fetched[0][0] <= 2, (linked, fetched)  # its own one, and qd-01 if another article fetched it
        budget = 20_000
        by_bytes = crawl(tmp_path / "b.db", server, "--full", "-s", f"ARCHIVER_ATTACHMENTS_ARTICLE_MAX_MB={budget / 2**20}")
        assert by_bytes.returncode == 0, by_bytes.stderr[-3000:]
        # article 1's own documents (qd-01, which every article links, may come in through another)
        own = q(tmp_path / "b.db", "SELECT a.url, a.bytes FROM article_attachments l JOIN attachments a ON a.url = l.url "
                                   "JOIN articles r ON r.id = l.article_id WHERE r.url LIKE '%-1001.html' "
                                   "AND a.url NOT LIKE ?", "%haugiang-demo.example/van-ban/qd-01.pdf")  # fmt: skip
        assert own and sum(b for _, b in own) <= budget, own
        assert not [u for u, _ in own if u.endswith("bom-nen.zip")]  # 300 KB: past what the article may take
    finally:
        server.stop()
