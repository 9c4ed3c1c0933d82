"""End to end: serve the demo site on 127.0.0.1, crawl it with the CLI, check the archive
against the site's manifest; crawl again; crawl an edited copy."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "data" / "demo" / "manifest.json").read_text(encoding="utf-8"))
BASE = "https://haugiang-demo.example"


def archiver(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip


def rows(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def scalar(db: Path, sql: str) -> int:
    return rows(db, sql)[0]["n"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("e2e") / "archive.db"
    result = archiver("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return db


def test_every_demo_article_archived_exactly_once(crawled: Path) -> None:
    expected = {BASE + a["path"]: a for a in MANIFEST["articles"]}
    got = {r["url"]: r for r in rows(crawled, "SELECT * FROM articles")}
    assert len(expected) == 66
    assert set(got) == set(expected)
    for url, a in expected.items():
        r = got[url]
        assert r["title"] == a["title"]
        assert r["category"] == a["category_name"]
        assert r["published"] == a["published"], url
        assert r["views"] == a["views"], url
        assert r["author"] == a["author"], url
        assert r["body_text"] and "Các ý kiến của bạn đọc" not in r["body_text"]
        assert "Số lần xem" not in r["body_text"] and "Tổng lượt truy cập" not in r["body_text"]
        assert (a["author"] or "@@") not in r["body_text"]


def test_exact_counts_after_first_crawl(crawled: Path) -> None:
    with_views = sum(1 for a in MANIFEST["articles"] if a["views"] is not None)
    assert scalar(crawled, "SELECT count(*) AS n FROM articles") == 66
    assert scalar(crawled, "SELECT count(*) AS n FROM article_revisions") == 66
    assert scalar(crawled, "SELECT count(*) AS n FROM view_counts") == with_views
    run = rows(crawled, "SELECT * FROM crawl_runs")[0]
    listing_pages = MANIFEST["listing_pages"]
    assert (run["status"], run["new"], run["not_articles"], run["errors"]) == ("ok", 66, 1, 0)
    assert run["pages"] == listing_pages + 66 + 1


def test_a_whole_row(crawled: Path) -> None:
    first = MANIFEST["articles"][0]
    r = rows(crawled, f"SELECT * FROM articles WHERE url = '{BASE + first['path']}'")[0]
    assert r["title"] == "Hậu Giang ban hành Chỉ thị về việc đẩy mạnh cải cách hành chính"
    assert r["portal"] == "demo"
    assert r["published_raw"].startswith("[ Cập nhật vào ngày (")
    assert "mới. Theo Chỉ thị" not in r["body_text"] and ". Theo Chỉ thị, các ngành" in r["body_text"]
    assert r["body_html"].count("<script") == 0 and "onclick" not in r["body_html"]
    assert f'src="{BASE}/media/2001/anh-1.jpg"' in r["body_html"]
    assert r["revision"] == 1 and len(r["id"]) == 16
    # listed under two categories (once with tracking parameters): one article, one URL
    assert rows(crawled, f"SELECT count(*) AS n FROM article_urls WHERE article_id = '{r['id']}'")[0]["n"] == 1


def test_second_crawl_adds_no_article_only_view_observations(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    shutil.copy(crawled, db)
    before = rows(db, "SELECT id, content_hash, first_seen FROM articles ORDER BY id")
    views_before = scalar(db, "SELECT count(*) AS n FROM view_counts")
    result = archiver("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert rows(db, "SELECT id, content_hash, first_seen FROM articles ORDER BY id") == before
    assert scalar(db, "SELECT count(*) AS n FROM article_revisions") == 66
    assert scalar(db, "SELECT count(*) AS n FROM view_counts") == 2 * views_before
    run = rows(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert (run["new"], run["updated"], run["unchanged"]) == (0, 0, 66)


def test_an_edited_article_becomes_a_revision(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "edited.db"
    shutil.copy(crawled, db)
    site = tmp_path / "site"
    shutil.copytree(ROOT / "data" / "demo" / "site", site)
    page = site / MANIFEST["articles"][5]["path"].lstrip("/")
    page.write_text(page.read_text(encoding="utf-8").replace("Theo Chỉ thị,", "Theo Chỉ thị mới,"), encoding="utf-8")
    result = archiver("demo", "--db", str(db), "--site", str(site))
    assert result.returncode == 0, result.stderr
    run = rows(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert (run["new"], run["updated"], run["unchanged"]) == (0, 1, 65)
    url = BASE + MANIFEST["articles"][5]["path"]
    revs = rows(db, f"SELECT r.revision, r.body_text FROM article_revisions r JOIN articles a ON a.id = r.article_id "
                    f"WHERE a.url = '{url}' ORDER BY r.revision")  # fmt: skip
    assert [r["revision"] for r in revs] == [1, 2]
    assert "Theo Chỉ thị mới," not in revs[0]["body_text"] and "Theo Chỉ thị mới," in revs[1]["body_text"]
    assert scalar(db, "SELECT count(*) AS n FROM articles") == 66


def test_unreachable_site_is_a_failed_run_and_touches_nothing(crawled: Path, tmp_path: Path) -> None:
    import socket

    db = tmp_path / "unreachable.db"
    shutil.copy(crawled, db)
    before = rows(db, "SELECT * FROM articles ORDER BY id")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = archiver("crawl", "demo", "--db", str(db), "--base-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    run = rows(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert run["status"] == "failed" and "127.0.0.1" in run["reason"]
    assert "failed" in result.stdout
    assert rows(db, "SELECT * FROM articles ORDER BY id") == before


def test_max_pages_caps_a_crawl(tmp_path: Path) -> None:
    from archiver.demo import SITE_DIR, serve, server_url

    server = serve(SITE_DIR)
    try:
        db = tmp_path / "capped.db"
        result = archiver("crawl", "demo", "--db", str(db), "--base-url", server_url(server), "--max-pages", "8")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    run = rows(db, "SELECT * FROM crawl_runs")[0]
    assert run["status"] == "ok"
    assert run["pages"] == 8
    assert scalar(db, "SELECT count(*) AS n FROM articles") < 66


def test_the_demo_leaves_warc_files_warcio_accepts_one_response_per_page(crawled: Path) -> None:
    files = sorted((crawled.parent / "warc" / "demo").glob("*.warc.gz"))
    assert files
    for f in files:
        assert subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(f)], capture_output=True).returncode == 0
    pages = rows(crawled, "SELECT pages AS n FROM crawl_runs ORDER BY id LIMIT 1")[0]["n"]
    responses = scalar(crawled, "SELECT count(*) AS n FROM captures WHERE run_id = 1 AND kind IN ('article', 'listing')")
    assert responses == pages == 76


def test_the_demo_archives_its_documents_with_their_text(crawled: Path) -> None:
    """Issue 14's done-when: every document the demo links to, once, with its text, number and
    date; a word found only in a document finds its article; the export's files match their hashes."""
    import hashlib
    import json

    docs = {BASE + d["path"]: d for d in MANIFEST["documents"]}
    got = {r["url"]: r for r in rows(crawled, "SELECT * FROM attachments")}
    assert set(got) == set(docs)
    for url, d in docs.items():
        r = got[url]
        assert (r["doc_number"], r["doc_date"], r["version"]) == (d["doc_number"], d["doc_date"], 1), url
        assert r["text"] and d["unique"] in r["text"], url
        on_disk = (ROOT / "data" / "demo" / "site" / d["path"].lstrip("/")).read_bytes()
        assert r["sha256"] == hashlib.sha256(on_disk).hexdigest() and r["bytes"] == len(on_disk)
        linked = {x["url"] for x in rows(crawled, f"SELECT a.url FROM article_attachments l JOIN articles a ON "
                                                  f"a.id = l.article_id WHERE l.url = '{url}'")}  # fmt: skip
        by_id = {a["id"]: BASE + a["path"] for a in MANIFEST["articles"]}
        assert linked == {by_id[i] for i in d["articles"]}, url
    assert scalar(crawled, "SELECT count(*) AS n FROM captures WHERE kind = 'attachment'") == len(docs)
    directive = next(d for d in MANIFEST["documents"] if d["doc_number"] == "04/CT-UBND")
    assert not scalar(crawled, f"SELECT count(*) AS n FROM articles WHERE body_text LIKE '%{directive['unique']}%'")
    found = archiver("search", directive["unique"], "--db", str(crawled), "--json")
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [h["url"] for h in hits] == [BASE + MANIFEST["articles"][0]["path"]], found.stdout + found.stderr
    assert hits[0]["attachment"] == BASE + directive["path"]
