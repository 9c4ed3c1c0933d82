"""Exports: CSV for Excel (BOM, no formulas), JSONL, typed Parquet, atomic files, dataset cards."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from archiver.exceptions import ArchiverError
from archiver.export import export, neutralise
from archiver.items import Article
from archiver.normalize import TZ
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.queries import Filters


@pytest.fixture
def archive(tmp_db: Path):
    with Archive(tmp_db) as a:
        for slug in ("haugiang", "kontum"):
            a.upsert_portal(get_portal(slug))
        rows = [
            ("haugiang", "Hậu Giang ban hành Chỉ thị", '=HYPERLINK("http://x")', date(2021, 3, 23), 530),
            (
                "haugiang",
                "+84 đường dây nóng",
                "Nội dung\nhai dòng, có dấu phẩy",
                datetime(2022, 1, 2, 10, 15, tzinfo=TZ),
                None,
            ),
            ("kontum", "Kon Tum: chuyển đổi số", "@mention -1", None, 7),
        ]
        for i, (portal, title, body, published, views) in enumerate(rows):
            url = f"{get_portal(portal).base_url}/a-{i}.html"
            a.save_article(Article(url=url, canonical_url=url, portal=portal, title=title, body_text=body,
                                   published=published, views=views), run_id=None)  # fmt: skip
        a.commit()
        yield a


def test_csv_has_bom_and_no_live_formulas(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    card = export(archive, "csv", out, Filters())
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == card["articles"] == 3
    by_title = {r["title"]: r for r in rows}
    assert by_title["'+84 đường dây nóng"]["body_text"] == "Nội dung\nhai dòng, có dấu phẩy"
    assert by_title["Hậu Giang ban hành Chỉ thị"]["body_text"] == '\'=HYPERLINK("http://x")'
    assert by_title["Kon Tum: chuyển đổi số"]["body_text"] == "'@mention -1"
    assert by_title["Hậu Giang ban hành Chỉ thị"]["new_unit"] == "thành phố Cần Thơ"


@pytest.mark.parametrize(("value", "expected"), [("=1+1", "'=1+1"), ("-2", "'-2"), ("+x", "'+x"), ("@a", "'@a"),
                                                 ("\tx", "'\tx"), ("a=b", "a=b"), (5, 5), (None, None)])  # fmt: skip
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_jsonl_one_article_per_line_with_iso_dates(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    export(archive, "jsonl", out, Filters(portals=["haugiang"]), ["id", "title", "published", "views"])
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines]
    assert {r["published"] for r in records} == {"2021-03-23", "2022-01-02T10:15:00+07:00"}
    assert all(set(r) == {"id", "title", "published", "views"} for r in records)
    assert "Hậu Giang" in lines[0] or "Hậu Giang" in lines[1]  # Unicode kept, not \\u escapes


def test_parquet_typed_columns(archive: Archive, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "a.parquet"
    export(archive, "parquet", out, Filters(province="Cần Thơ"))
    table = pq.read_table(out)
    assert table.num_rows == 2
    assert str(table.schema.field("views").type) == "int64"
    assert str(table.schema.field("published_date").type) == "date32[day]"
    assert sorted(x for x in table.column("views").to_pylist() if x is not None) == [530]


def test_export_is_atomic(archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import archiver.export as ex

    out = tmp_path / "a.csv"
    out.write_text("earlier complete export")

    def boom(rows, fields, part, *types):  # the export dies half-way
        part.write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setitem(ex.WRITERS, "csv", boom)
    with pytest.raises(KeyboardInterrupt):
        export(archive, "csv", out, Filters())
    assert out.read_text() == "earlier complete export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("a.csv")] == ["a.csv"]
    assert not list((tmp_path / ".a.csv.versions").glob("staging-*"))


def test_dataset_card(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "hg.jsonl"
    export(archive, "jsonl", out, Filters(province="Hậu Giang", since="2021"))
    card = json.loads((tmp_path / "hg.jsonl.card.json").read_text(encoding="utf-8"))
    assert card["articles"] == 2
    assert card["filter"] == {"province": "Hậu Giang", "since": "2021"}
    assert card["provinces"] == ["Hậu Giang"] and card["new_units"] == ["thành phố Cần Thơ"]
    assert card["sources"][0]["slug"] == "haugiang" and card["sources"][0]["base_url"] == "https://www.haugiang.gov.vn"
    assert "published" in card["fields"] and card["crawled"]["first"]
    md = (tmp_path / "hg.jsonl.card.md").read_text(encoding="utf-8")
    assert "## Citation" in md and "@misc{" in md and "haugiang" in md and "`body_text`" in md


def test_bad_export_arguments(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(ArchiverError, match="unknown field"):
        export(archive, "csv", tmp_path / "x.csv", Filters(), ["title", "nope"])
    assert not (tmp_path / "x.csv").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(ArchiverError, match="cannot create its directory"):
        export(archive, "csv", tmp_path / "file" / "x.csv", Filters())
    # a missing directory is created, as a researcher expects of -o data/exports/x.csv
    export(archive, "csv", tmp_path / "exports" / "x.csv", Filters())
    assert (tmp_path / "exports" / "x.csv").exists()


def test_export_to_stdout_writes_the_rows_and_no_file(archive: Archive, tmp_path: Path) -> None:
    import io
    import json
    import os
    import subprocess
    import sys

    from archiver.export import export_to_stream

    buf = io.BytesIO()
    n = export_to_stream(archive, "jsonl", buf, Filters(portals=["haugiang"]), ["id", "title"])
    rows = [json.loads(line) for line in buf.getvalue().decode("utf-8").splitlines()]
    assert n == len(rows) > 0 and all(set(r) == {"id", "title"} for r in rows)
    with pytest.raises(ArchiverError):
        export_to_stream(archive, "parquet", io.BytesIO(), Filters())
    db = archive.path
    archive.close()
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "archiver.cli", "export", "--format", "csv", "-o", "-", "--db",
                             str(db)], cwd=tmp_path, env=env, capture_output=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode("utf-8-sig").splitlines()[0].startswith("id,")
    assert not (tmp_path / "-").exists() and b"to stdout" in result.stderr


def test_no_csv_guard_keeps_cells_as_stored_and_the_card_says_so(archive: Archive, tmp_path: Path) -> None:
    import io

    from archiver.export import export_to_stream

    with Archive(archive.path) as a:
        a.conn.execute("UPDATE articles SET title = '=1+1 ' || title")
        a.conn.commit()
    guarded, raw = io.BytesIO(), io.BytesIO()
    export_to_stream(archive, "csv", guarded, Filters(), ["title"])
    export_to_stream(archive, "csv", raw, Filters(), ["title"], guard=False)
    assert all(line.startswith("'=1+1") for line in guarded.getvalue().decode("utf-8-sig").splitlines()[1:])
    assert all(line.startswith("=1+1") for line in raw.getvalue().decode("utf-8-sig").splitlines()[1:])
    card = export(archive, "csv", tmp_path / "raw.csv", Filters(), ["title"], guard=False)
    assert card["csv_formula_guard"] is False
    assert "no formula guard" in (tmp_path / "raw.csv.card.md").read_text(encoding="utf-8")


def test_parquet_has_the_instant_in_utc_beside_the_printed_date(archive: Archive, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "t.parquet"
    export(archive, "parquet", out, Filters(province="Cần Thơ"), ["url", "published", "first_seen", "last_seen"])
    table = pq.read_table(out)
    assert str(table.schema.field("published_utc").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("first_seen").type) == "timestamp[us, tz=UTC]"
    rows = {r["published"]: r for r in table.to_pylist()}
    timed = rows["2022-01-02T10:15:00+07:00"]
    assert timed["published_utc"].isoformat() == "2022-01-02T03:15:00+00:00"
    assert rows["2021-03-23"]["published_utc"] is None  # a day alone is no instant: not guessed
    assert all(r["first_seen"] is not None and r["first_seen"].tzinfo is not None for r in rows.values())
    assert table.schema.metadata[b"source"] == b"vn-portal-archiver" and b"published_utc" in table.schema.metadata
