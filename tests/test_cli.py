"""The CLI's contract: clean messages and exit codes for bad input, listings of portals and stats."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from archiver.cli import main


def test_unknown_portal_lists_known_and_exits_2() -> None:
    result = CliRunner().invoke(main, ["crawl", "no-such-portal"])
    assert result.exit_code == 2
    assert "unknown portal 'no-such-portal'" in result.output
    assert "haugiang" in result.output and "kontum" in result.output


def test_base_url_needs_one_portal() -> None:
    result = CliRunner().invoke(main, ["crawl", "haugiang", "kontum", "--base-url", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "exactly one portal" in result.output


def test_bad_max_pages_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["crawl", "haugiang", "--max-pages", "0"])
    assert result.exit_code == 2


def test_portals_lists_slug_name_province_family() -> None:
    result = CliRunner().invoke(main, ["portals"])
    assert result.exit_code == 0
    line = next(ln for ln in result.output.splitlines() if ln.startswith("haugiang "))
    assert "Hậu Giang" in line and "thành phố Cần Thơ" in line and "hgportal" in line


def test_stats_on_missing_archive_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no archive here" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_stats_on_corrupt_archive_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 200)
    result = CliRunner().invoke(main, ["stats", "--db", str(bad)])
    assert result.exit_code == 1
    assert "not a usable archive database" in result.output


def test_stats_reports_per_portal(tmp_path: Path) -> None:
    from datetime import date

    from archiver.items import Article
    from archiver.profiles import get_portal
    from archiver.store import Archive

    db = tmp_path / "a.db"
    with Archive(db) as a:
        a.upsert_portal(get_portal("kontum"))
        run = a.start_run("kontum")
        for n, d in ((1, date(2020, 1, 2)), (2, date(2024, 7, 8))):
            url = f"https://www.kontum.gov.vn/pages/detail/{n}/a.html"
            a.save_article(Article(url=url, canonical_url=url, portal="kontum", title=f"T{n}", body_text="B",
                                   published=d), run_id=run)  # fmt: skip
    result = CliRunner().invoke(main, ["stats", "--db", str(db)])
    assert result.exit_code == 0
    line = next(ln for ln in result.output.splitlines() if ln.startswith("kontum"))
    assert "2020-01-02" in line and "2024-07-08" in line and " 2 " in line
