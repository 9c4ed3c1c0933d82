"""The archive: migrations, ids, revisions, view observations, URL and content deduplication."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from archiver.exceptions import ArchiveError
from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import MIGRATIONS, Archive, article_id, migrate

URL = "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/a-1.html"


def art(url: str = URL, title: str = "Tiêu đề", body: str = "Nội dung.", views: int | None = 10) -> Article:
    return Article(url=url, canonical_url=url, fetched_url=url, portal="haugiang", title=title,
                   body_text=body, published=date(2021, 3, 23), published_raw="(23/03/2021)", views=views)  # fmt: skip


@pytest.fixture
def archive(tmp_db: Path):
    with Archive(tmp_db) as a:
        a.upsert_portal(get_portal("haugiang"))
        yield a


def test_schema_tables_and_wal(archive: Archive) -> None:
    tables = set(archive.db.table_names())
    assert {"portals", "articles", "article_revisions", "view_counts", "crawl_runs", "article_urls"} <= tables
    cols = {c.name for c in archive.db["articles"].columns}
    assert {"id", "portal", "url", "title", "category", "published", "published_raw", "views", "author",
            "body_text", "body_html", "content_hash", "first_seen", "last_seen"} <= cols  # fmt: skip
    assert {c.name for c in archive.db["view_counts"].columns} >= {"article_id", "seen_at", "views"}
    assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_twice_equal_once(tmp_db: Path) -> None:
    Archive(tmp_db).close()
    conn = sqlite3.connect(tmp_db)
    schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    import sqlite_utils

    assert migrate(sqlite_utils.Database(conn)) == []
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations")] == [n for n, _ in MIGRATIONS]


def test_an_archive_of_the_previous_schema_gets_integer_keys_and_keeps_its_history(tmp_db: Path) -> None:
    """m008: articles stored before it get a seq; their revisions, view observations and URLs
    are found by it; nothing is lost; an article stored after it continues the sequence."""
    import sqlite_utils

    from archiver.store.queries import history, urls_of
    from archiver.store.schema import register_functions

    c = sqlite3.connect(tmp_db)
    migrate(sqlite_utils.Database(c), until="m007_wayback")
    register_functions(c)
    try:  # the store code of m007 is gone: its rows are written by hand
        c.execute("INSERT INTO portals (slug, name) VALUES ('haugiang', 'Hậu Giang')")
        for n, aid in enumerate(("b" * 16, "a" * 16), 1):
            url = f"{URL}?n={n}"
            c.execute("INSERT INTO articles (id, portal, url, title, body_text, content_hash, revision, first_seen, "
                      "last_seen) VALUES (?, 'haugiang', ?, 'Tiêu đề', 'Bản 2', 'h2', 2, 't1', 't2')", (aid, url))  # fmt: skip
            for rev in (1, 2):
                c.execute("INSERT INTO article_revisions (article_id, revision, content_hash, body_text, seen_at, reason) "
                          "VALUES (?, ?, ?, ?, ?, ?)", (aid, rev, f"h{rev}", f"Bản {rev}", f"t{rev}",
                                                        "first" if rev == 1 else "source"))  # fmt: skip
                c.execute("INSERT INTO view_counts (article_id, seen_at, views, run_id) VALUES (?, ?, ?, ?)",
                          (aid, f"t{rev}", 10 * rev, rev))  # fmt: skip
            c.execute("INSERT INTO article_urls (url, article_id, first_seen) VALUES (?, ?, 't1')", (url, aid))
        c.commit()
    finally:
        c.close()
    with Archive(tmp_db) as archive:
        assert [r["seq"] for r in archive.query("SELECT seq FROM articles ORDER BY rowid")] == [1, 2]
        for aid in ("a" * 16, "b" * 16):
            revs, views = history(archive.conn, aid)
            assert [(r["revision"], r["body_text"], r["reason"]) for r in revs] == [(1, "Bản 1", "first"),
                                                                                   (2, "Bản 2", "source")]
            assert [v["views"] for v in views] == [10, 20]
            assert len(urls_of(archive.conn, aid)) == 1
        assert archive.count("article_revisions") == 4 and archive.count("view_counts") == 4
        assert archive.save_article(art(), run_id=archive.start_run("haugiang")) == "new"
        new = next(archive.query("SELECT id, seq FROM articles WHERE url = ?", (URL,)))
        assert new["seq"] == 3
        revs, views = history(archive.conn, new["id"])
        assert [r["article_seq"] for r in revs] == [3] and [v["views"] for v in views] == [10]
        indexes = {r["name"] for r in archive.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "sqlite_autoindex_article_revisions_1" not in indexes  # the random (text id, revision) index is gone


def test_stable_id() -> None:
    assert article_id("haugiang", URL) == article_id("haugiang", URL)
    assert article_id("haugiang", URL) != article_id("kontum", URL)
    assert len(article_id("haugiang", URL)) == 16


def test_new_then_unchanged_records_views_as_observations(archive: Archive) -> None:
    r1 = archive.start_run("haugiang")
    assert archive.save_article(art(views=10), run_id=r1, seen_at="2024-01-01T00:00:00+00:00") == "new"
    r2 = archive.start_run("haugiang")
    assert archive.save_article(art(views=25), run_id=r2, seen_at="2024-01-02T00:00:00+00:00") == "unchanged"
    assert archive.count("articles") == 1
    assert archive.count("article_revisions") == 1
    rows = list(archive.query("SELECT views FROM view_counts ORDER BY seen_at"))
    assert [r["views"] for r in rows] == [10, 25]
    row = next(archive.query("SELECT views, revision, first_seen, last_seen FROM articles"))
    assert row == {"views": 25, "revision": 1, "first_seen": "2024-01-01T00:00:00+00:00",
                   "last_seen": "2024-01-02T00:00:00+00:00"}  # fmt: skip


def test_changed_body_is_a_new_revision_and_the_old_one_is_kept(archive: Archive) -> None:
    archive.save_article(art(body="Bản đầu."), run_id=archive.start_run("haugiang"))
    status = archive.save_article(art(body="Bản đã sửa."), run_id=archive.start_run("haugiang"))
    assert status == "updated"
    revs = list(archive.query("SELECT revision, body_text FROM article_revisions ORDER BY revision"))
    assert revs == [{"revision": 1, "body_text": "Bản đầu."}, {"revision": 2, "body_text": "Bản đã sửa."}]
    assert next(archive.query("SELECT body_text, revision FROM articles")) == {
        "body_text": "Bản đã sửa.",
        "revision": 2,
    }


def test_same_article_under_another_url_is_one_article(archive: Archive) -> None:
    run = archive.start_run("haugiang")
    assert archive.save_article(art(), run_id=run) == "new"
    other = URL.replace("tin-trong-tinh", "thoi-su-chinh-tri")
    assert archive.save_article(art(url=other), run_id=run) == "duplicate"
    assert archive.count("articles") == 1
    assert archive.count("article_urls") == 2
    # next run, reached by the second URL: recognised through article_urls
    assert archive.save_article(art(url=other, views=11), run_id=archive.start_run("haugiang")) == "unchanged"
    assert archive.count("view_counts") == 2


def test_missing_fields_are_filled_never_replaced(archive: Archive) -> None:
    a = art()
    a.author = None
    archive.save_article(a, run_id=archive.start_run("haugiang"))
    b = art()
    b.author = "Thanh Tâm"
    archive.save_article(b, run_id=archive.start_run("haugiang"))
    c = art()
    c.author = "Người khác"
    archive.save_article(c, run_id=archive.start_run("haugiang"))
    assert next(archive.query("SELECT author FROM articles"))["author"] == "Thanh Tâm"


def test_run_rows(archive: Archive) -> None:
    from archiver.store import RunCounts

    run = archive.start_run("haugiang", "http://127.0.0.1:1")
    archive.finish_run(run, RunCounts(pages=3, new=2, errors=1), "ok", "1 failed fetch")
    row = next(archive.query("SELECT * FROM crawl_runs"))
    assert (row["pages"], row["new"], row["errors"], row["status"]) == (3, 2, 1, "ok")
    assert row["ended_at"] >= row["started_at"]


def test_corrupt_database_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError, match="bad.db"):
        Archive(bad)
    assert bad.read_bytes() == b"this is not sqlite" * 100


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archive here"):
        Archive(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_two_urls_with_the_same_text_keep_both_urls_and_both_dates(archive: Archive) -> None:
    from archiver.store.queries import urls_of

    run = archive.start_run("haugiang")
    first = art()
    assert archive.save_article(first, run_id=run) == "new"
    again = art(url=URL.replace("a-1", "a-1-dang-lai"))
    again.published, again.published_raw = date(2022, 5, 1), "(01/05/2022)"
    assert archive.save_article(again, run_id=archive.start_run("haugiang")) == "unchanged"
    (aid,) = [r["id"] for r in archive.query("SELECT id FROM articles")]
    urls = urls_of(archive.conn, aid)
    assert [(u["url"], u["canonical"], u["published"]) for u in urls] == [
        (URL, 1, "2021-03-23"),
        (again.url, 0, "2022-05-01"),
    ]
    assert [u["published_raw"] for u in urls] == ["(23/03/2021)", "(01/05/2022)"]
