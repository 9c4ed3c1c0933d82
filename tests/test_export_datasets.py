"""Research exports of every table (``export --what``) from a real crawl, and the descriptions
beside them: the Frictionless data package (validated by frictionless against the data: types,
primary key, size, SHA-256), the dataset card with a Hugging Face card's fields, a BibTeX entry."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import ROOT, demo_archive_with_a_revision, q

WHAT = ("articles", "revisions", "views", "attachments", "portals")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_archive_with_a_revision(tmp_path_factory.mktemp("datasets"))


def export(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver.cli", "export", "--db", str(db), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip


def validate(descriptor: Path) -> list[str]:
    """frictionless' errors for the package (empty: valid)."""
    from frictionless import validate as check

    report = check(str(descriptor))
    return [f"{e.type}: {e.message}" for task in report.tasks for e in task.errors] + [
        f"{e.type}: {e.message}" for e in report.errors]  # fmt: skip


def expected_rows(db: Path, what: str) -> int:
    sql = {"articles": "SELECT count(*) FROM articles", "revisions": "SELECT count(*) FROM article_revisions",
           "views": "SELECT count(*) FROM view_counts", "portals": "SELECT count(DISTINCT portal) FROM articles",
           "attachments": "SELECT count(*) FROM attachments WHERE url IN (SELECT url FROM article_attachments)"}  # fmt: skip
    return int(q(db, sql[what])[0][0])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_table_exports_a_package_frictionless_accepts(db: Path, tmp_path: Path, fmt: str) -> None:
    for what in WHAT:
        out = tmp_path / "exports" / f"{what}.{fmt}"
        result = export(db, "--format", fmt, "--what", what, "-o", str(out))
        assert result.returncode == 0, result.stderr
        package = json.loads(Path(f"{out}.datapackage.json").read_text(encoding="utf-8"))
        (resource,) = package["resources"]
        assert resource["path"] == out.name and resource["name"] == what
        assert resource["hash"].startswith("sha256:") and resource["bytes"] == out.stat().st_size
        assert package["licenses"] and package["sources"][0]["path"] == "https://haugiang-demo.example"
        assert validate(Path(f"{out}.datapackage.json")) == [], what
        text = out.read_text(encoding="utf-8-sig")
        rows = len(list(csv.DictReader(io.StringIO(text)))) if fmt == "csv" else len(text.splitlines())
        assert rows == expected_rows(db, what) > 0, what
    assert expected_rows(db, "revisions") == expected_rows(db, "articles") + 1  # the article that changed


def test_a_tampered_export_fails_validation(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "views.csv"
    assert export(db, "--format", "csv", "--what", "views", "-o", str(out)).returncode == 0
    assert validate(Path(f"{out}.datapackage.json")) == []
    target = out.resolve()  # the file behind the export's symbolic link
    target.write_bytes(target.read_bytes() + b"x,demo,2020-01-01T00:00:00+00:00,not a number,,,\n")
    errors = validate(Path(f"{out}.datapackage.json"))
    assert any(e.startswith("hash-count") for e in errors) and any("type-error" in e for e in errors)


def test_frictionless_cli_validates_an_export(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "revisions.csv"
    assert export(db, "--format", "csv", "--what", "revisions", "-o", str(out)).returncode == 0
    result = subprocess.run([sys.executable, "-m", "frictionless", "validate", f"{out.name}.datapackage.json"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_tables_follow_the_article_filters(db: Path, tmp_path: Path) -> None:
    out = export(db, "--format", "csv", "--what", "views", "--since", "2021", "--until", "2021-06",
                 "--fields", "article_id,seen_at,views", "-o", "-")  # fmt: skip
    assert out.returncode == 0 and "view observations to stdout" in out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))
    wanted = q(db, "SELECT a.id FROM articles a JOIN view_counts v ON v.article_seq = a.seq "
                   "WHERE substr(a.published, 1, 7) BETWEEN '2021-01' AND '2021-06'")  # fmt: skip
    assert rows and sorted(r["article_id"] for r in rows) == sorted(r[0] for r in wanted)
    assert list(rows[0]) == ["article_id", "seen_at", "views"] and len(rows) == 2 * len({r[0] for r in wanted})
    # revisions of the article that changed, in order, with why each exists
    (aid,) = q(db, "SELECT id FROM articles WHERE revision = 2")[0]
    out = export(db, "--format", "jsonl", "--what", "revisions", "--fields", "article_id,revision,reason,body_text",
                 "-o", "-")  # fmt: skip
    revs = [json.loads(line) for line in out.stdout.splitlines() if f'"{aid}"' in line]
    assert [(r["revision"], r["reason"]) for r in revs] == [(1, "first"), (2, "source")]
    assert "1.234 tỷ" in revs[0]["body_text"] and "1.500 tỷ" in revs[1]["body_text"]
    # documents of the articles of one category only
    out = export(db, "--format", "jsonl", "--what", "attachments", "--category", "tin trong tinh", "-o", "-")
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    linked = {r[0] for r in q(db, "SELECT DISTINCT l.url FROM article_attachments l JOIN articles a ON a.id = l.article_id "
                                  "JOIN attachments d ON d.url = l.url WHERE a.category = 'Tin trong tỉnh'")}  # fmt: skip
    assert {d["url"] for d in docs} == linked and all(d["article_ids"] for d in docs)


def test_parquet_columns_are_typed(db: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "revisions.parquet"
    assert export(db, "--format", "parquet", "--what", "revisions", "-o", str(out)).returncode == 0
    schema = pq.read_schema(out)
    assert str(schema.field("seen_at").type) == "timestamp[us, tz=UTC]" and str(schema.field("revision").type) == "int64"
    package = json.loads(Path(f"{out}.datapackage.json").read_text(encoding="utf-8"))
    arrow = {"string": "string", "integer": "int64", "datetime": "timestamp[us, tz=UTC]", "date": "date32[day]",
             "boolean": "bool"}  # fmt: skip
    for f in package["resources"][0]["schema"]["fields"]:
        assert str(schema.field(f["name"]).type) == arrow[f["type"]], f["name"]
    out = tmp_path / "portals.parquet"
    assert export(db, "--format", "parquet", "--what", "portals", "-o", str(out)).returncode == 0
    table = pq.read_table(out).to_pylist()
    assert table[0]["slug"] == "demo" and table[0]["complete_walk"] is True and table[0]["articles"] == 66
    out = tmp_path / "articles.parquet"
    assert export(db, "--format", "parquet", "--fields", "id,published", "-o", str(out)).returncode == 0
    assert pq.read_schema(out).names == ["id", "published", "published_date", "published_utc"]


def test_the_card_has_a_dataset_cards_fields(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "articles.csv"
    assert export(db, "--format", "csv", "-o", str(out)).returncode == 0
    md = Path(f"{out}.card.md").read_text(encoding="utf-8")
    header = md.split("---\n")[1]
    for line in ("license: other", "language:\n- vi", "size_categories:\n- n<1K", "pretty_name: "):
        assert line in header
    for section in ("## Dataset summary", "## Dataset structure", "## Source data and coverage", "## Curation",
                    "## Personal and sensitive information", "## Known gaps", "## Licensing", "## Citation"):  # fmt: skip
        assert section in md, section
    card = json.loads(Path(f"{out}.card.json").read_text(encoding="utf-8"))
    undated = q(db, "SELECT count(*) FROM articles WHERE published IS NULL")[0][0]
    assert card["known_gaps"]["articles_without_date"] == undated
    assert f"- {undated} of the 66 articles have no date" in md
    assert card["known_gaps"]["portals_never_walked_completely"] == []
    assert card["types"]["published_utc"] == "datetime" and card["primary_key"] == ["id"]
    assert "bylines" in card["personal_information"].lower()
    bib = card["bibtex"]
    assert bib.startswith("@misc{vnportal_articles_") and bib.count("{") == bib.count("}") and bib in md
    assert re.search(r"year = \{\d{4}\}", bib) and "66 rows" in bib


def test_bad_export_arguments_are_one_line(db: Path, tmp_path: Path) -> None:
    result = export(db, "--format", "csv", "--what", "views", "--fields", "article_id,title", "-o", str(tmp_path / "v.csv"))
    assert result.returncode == 2 and "unknown field(s) title for --what views" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "v.csv").exists()
    result = export(db, "--format", "csv", "--what", "nothing", "-o", str(tmp_path / "v.csv"))
    assert result.returncode == 2 and "nothing" in result.stderr
