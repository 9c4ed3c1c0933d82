"""Vietnamese full-text search: folding, exact-first ranking, syntax, filters, index in step."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.queries import Filters, QueryError, fts_query, search, snippet
from archiver.store.schema import migrate

DOCS = [
    # (portal, slug, title, body, published, category)
    (
        "haugiang",
        "a",
        "Bảo vệ an ninh trật tự dịp Tết",
        "Công an tỉnh tăng cường bảo vệ an ninh trật tự.",
        date(2021, 2, 1),
        "Tin trong tỉnh",
    ),
    (
        "haugiang",
        "b",
        "Báo cáo về an ninh",
        "Bao ve moi truong va an ninh nguon nuoc.",
        date(2022, 5, 3),
        "Thời sự - Chính trị",
    ),
    (
        "haugiang",
        "c",
        "Đại hội Đảng bộ tỉnh",
        "Đảng bộ tỉnh Hậu Giang tổ chức Đại hội lần thứ XIV.",
        date(2020, 10, 14),
        "Tin trong tỉnh",
    ),
    (
        "kontum",
        "d",
        "Chuyển đổi số ở Kon Tum",
        "Kon Tum đẩy mạnh chuyển đổi số trong cơ quan nhà nước.",
        date(2024, 7, 8),
        "TIN TỨC - SỰ KIỆN",
    ),
    (
        "kontum",
        "e",
        "Đăng ký kinh doanh",
        "Hướng dẫn đăng ký kinh doanh qua mạng.",
        date(2023, 1, 9),
        "Chỉ đạo điều hành",
    ),
]


def add(a: Archive, portal: str, slug: str, title: str, body: str, published: date, category: str) -> str:
    url = f"{get_portal(portal).base_url}/{slug}.html"
    art = Article(url=url, canonical_url=url, portal=portal, title=title, body_text=body, published=published,
                  category=category)  # fmt: skip
    a.save_article(art, run_id=None)
    return url


@pytest.fixture
def archive(tmp_db: Path):
    with Archive(tmp_db) as a:
        a.upsert_portal(get_portal("haugiang"))
        a.upsert_portal(get_portal("kontum"))
        for doc in DOCS:
            add(a, *doc)
        a.commit()
        yield a


def titles(a: Archive, q: str, **f: object) -> list[str]:
    return [h["title"] for h in search(a.conn, q, Filters(**f))]


def test_query_without_diacritics_finds_diacritics(archive: Archive) -> None:
    assert set(titles(archive, "bao ve an ninh")) == {"Bảo vệ an ninh trật tự dịp Tết", "Báo cáo về an ninh"}


def test_d_folds_to_dj(archive: Archive) -> None:
    assert "Đại hội Đảng bộ tỉnh" in titles(archive, "dang")
    assert "Đại hội Đảng bộ tỉnh" in titles(archive, "Dai hoi")


def test_query_with_diacritics_ranks_exact_matches_first(archive: Archive) -> None:
    got = titles(archive, "bảo vệ an ninh")
    assert got[0] == "Bảo vệ an ninh trật tự dịp Tết"
    assert "Báo cáo về an ninh" in got  # still found, ranked after
    got = titles(archive, "Đảng")
    assert got[0] == "Đại hội Đảng bộ tỉnh" and "Đăng ký kinh doanh" in got


def test_phrase_prefix_and_or(archive: Archive) -> None:
    assert titles(archive, '"an ninh trat tu"') == ["Bảo vệ an ninh trật tự dịp Tết"]
    assert titles(archive, "chuyen doi*") == ["Chuyển đổi số ở Kon Tum"]
    assert set(titles(archive, "Tết OR mạng")) == {"Bảo vệ an ninh trật tự dịp Tết", "Đăng ký kinh doanh"}
    assert titles(archive, "khong co tu nay") == []


@pytest.mark.parametrize("q", ['"an ninh', "", "   ", "*", "!!"])
def test_malformed_queries_are_clear_errors(archive: Archive, q: str) -> None:
    with pytest.raises(QueryError):
        search(archive.conn, q, Filters())


def test_filters(archive: Archive) -> None:
    assert titles(archive, "an ninh", portals=["kontum"]) == []
    assert len(titles(archive, "an ninh", province="Hậu Giang")) == 2
    assert len(titles(archive, "an ninh", province="Cần Thơ")) == 2  # the unit since 2025
    assert len(titles(archive, "an ninh", province="thành phố Cần Thơ")) == 2
    assert titles(archive, "kinh doanh OR chuyen", province="Quảng Ngãi") != []
    assert titles(archive, "an ninh", since="2022") == ["Báo cáo về an ninh"]
    assert titles(archive, "an ninh", until="2021-02") == ["Bảo vệ an ninh trật tự dịp Tết"]
    assert titles(archive, "an ninh", category="thoi su - chinh tri") == ["Báo cáo về an ninh"]
    with pytest.raises(QueryError, match="no portal of province"):
        titles(archive, "an ninh", province="Atlantis")
    with pytest.raises(QueryError, match="--since"):
        titles(archive, "an ninh", since="03/2021")


def test_index_in_step_on_insert_update_delete(archive: Archive) -> None:
    url = add(archive, "kontum", "f", "Lễ hội cồng chiêng", "Lễ hội cồng chiêng Tây Nguyên.", date(2024, 1, 1), "X")
    archive.commit()  # the archiver's commits bring the index up to date
    assert titles(archive, "cong chieng") == ["Lễ hội cồng chiêng"]
    # update through the store: a new revision, the index follows
    art = Article(url=url, canonical_url=url, portal="kontum", title="Lễ hội đua thuyền", body_text="Đua thuyền.")
    assert archive.save_article(art, run_id=None) == "updated"
    archive.commit()
    assert titles(archive, "cong chieng") == []
    assert titles(archive, "dua thuyen") == ["Lễ hội đua thuyền"]
    # an update then a delete in one transaction, in SQL: the index follows at the commit
    archive.conn.execute("UPDATE articles SET title = 'Hội thi bơi lội' WHERE url = ?", (url,))
    archive.commit()
    assert titles(archive, "boi loi") == ["Hội thi bơi lội"] and titles(archive, "le hoi") == []
    archive.conn.execute("UPDATE articles SET title = 'Hội thi chèo thuyền' WHERE url = ?", (url,))
    archive.conn.execute(
        "DELETE FROM article_revisions WHERE article_id IN (SELECT id FROM articles WHERE url = ?)", (url,)
    )
    archive.conn.execute("DELETE FROM article_urls WHERE url = ?", (url,))
    archive.conn.execute("DELETE FROM articles WHERE url = ?", (url,))
    archive.commit()
    assert titles(archive, "boi loi") == [] and titles(archive, "cheo") == []
    assert archive.conn.execute("SELECT count(*) FROM search_queue").fetchone()[0] == 0
    archive.conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 0)")
    # an insert, an update and a delete of one row before a commit: nothing of it is left in the index
    url2 = add(archive, "kontum", "g", "Hội chợ nông sản", "Hội chợ.", date(2024, 2, 1), "X")
    archive.conn.execute("UPDATE articles SET body_text = 'Phiên chợ' WHERE url = ?", (url2,))
    archive.conn.execute("DELETE FROM article_revisions WHERE url = ?", (url2,))
    archive.conn.execute("DELETE FROM article_urls WHERE url = ?", (url2,))
    archive.conn.execute("DELETE FROM articles WHERE url = ?", (url2,))
    archive.commit()
    assert titles(archive, "hoi cho") == [] and titles(archive, "phien cho") == []
    rows = archive.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'cho'").fetchone()[0]
    assert rows == 0


def test_other_tools_can_write_and_the_index_catches_up(tmp_db: Path) -> None:
    """The triggers are plain SQL: sqlite-utils or the sqlite3 shell (no archiver_fold function) can
    update and delete rows; the archiver's next opening for writing brings the index up to date,
    and a read-only opening says how many changes are waiting."""
    import json
    import sqlite3
    import subprocess
    import sys

    with Archive(tmp_db) as a:
        a.upsert_portal(get_portal("haugiang"))
        for doc in DOCS[:3]:
            add(a, *doc)
        a.commit()
    other = sqlite3.connect(tmp_db)  # another tool: no archiver function registered
    other.execute("UPDATE articles SET title = 'Hội nghị cán bộ', body_text = 'Hội nghị.' WHERE title LIKE 'Đại hội%'")
    other.execute("DELETE FROM articles WHERE title = 'Báo cáo về an ninh'")
    other.commit()
    other.close()
    with Archive(tmp_db, readonly=True) as a:
        assert a.search_behind() == 2
    from click.testing import CliRunner

    from archiver.cli import main

    result = CliRunner().invoke(main, ["search", "an ninh", "--db", str(tmp_db)])
    assert result.exit_code == 0 and "2 change(s) made outside the archiver are not in the search index yet" in result.output
    with Archive(tmp_db) as a:  # writable: applies them
        assert a.search_behind() == 0
        assert titles(a, "hoi nghi") == ["Hội nghị cán bộ"]
        assert titles(a, "dang bo") == [] and titles(a, "bao cao") == []
        a.conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 0)")
    # sqlite-utils finds the index of articles by itself and searches the folded text
    cli = [sys.executable, "-m", "sqlite_utils", "search", str(tmp_db), "articles", "an ninh", "-c", "title"]
    out = subprocess.run(cli, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [{"title": "Bảo vệ an ninh trật tự dịp Tết"}]
    rows = sqlite_utils.Database(tmp_db)["articles"].search("hoi nghi", columns=["title"])
    assert [r["title"] for r in rows] == ["Hội nghị cán bộ"]


def test_snippet_highlights_without_diacritics() -> None:
    text = "Công an tỉnh tăng cường bảo vệ an ninh trật tự trong dịp Tết."
    assert (
        snippet(text, ["bao", "ve", "an", "ninh"]) == "Công an tỉnh tăng cường [bảo vệ an ninh] trật tự trong dịp Tết."
    )
    assert "[Đảng]" in snippet("Đảng bộ tỉnh", ["dang"])


def test_fts_query_is_always_valid_fts5() -> None:
    match, words = fts_query('bảo "vệ an" ninh* OR "Tết"')
    assert words == ["bao", "ve", "an", "ninh", "tet"]
    assert match == '"bao" AND "ve an" AND ("ninh" * OR "tet")'


def test_migration_from_previous_schema_indexes_existing_articles(tmp_db: Path) -> None:
    import sqlite3

    from archiver.store.schema import register_functions

    conn = sqlite3.connect(tmp_db)
    register_functions(conn)
    assert migrate(sqlite_utils.Database(conn), until="m001_initial") == ["m001_initial"]
    conn.execute("INSERT INTO portals (slug, name) VALUES ('haugiang', 'Hậu Giang')")
    conn.execute(
        "INSERT INTO articles (id, portal, url, title, body_text, content_hash, first_seen, last_seen) "
        "VALUES ('x1', 'haugiang', 'https://www.haugiang.gov.vn/x', 'Bảo vệ rừng', 'Nội dung', 'h', 't', 't')"
    )
    conn.commit()
    conn.close()
    with Archive(tmp_db) as a:  # upgrades to the current schema
        from archiver.store import MIGRATIONS

        assert [r[0] for r in a.conn.execute("SELECT name FROM _migrations")] == [n for n, _ in MIGRATIONS]
        assert titles(a, "bao ve rung") == ["Bảo vệ rừng"]
        assert next(a.query("SELECT province FROM article_index")) == {"province": None}
