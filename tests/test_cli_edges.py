"""No traceback at the edge: every bad input is one clear line naming the file, URL or field,
with the right exit code; read commands work on an archive on a read-only medium."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import Archive

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([*(prefix or []), sys.executable, "-m", "archiver.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)  # fmt: skip


def readonly(directory: Path) -> list[str]:
    """A command prefix that runs it with ``directory`` mounted read-only (a private mount
    namespace: nothing outside the command sees it)."""
    return ["unshare", "--map-root-user", "--mount", "sh", "-c",
            'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"', "sh", str(directory)]  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("edges") / "archive.db"
    with Archive(db) as a:
        a.upsert_portal(get_portal("haugiang"))
        run = a.start_run("haugiang")
        url = "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/bao-ve-an-ninh-1.html"
        a.save_article(Article(url=url, canonical_url=url, portal="haugiang", title="Bảo vệ an ninh trật tự",
                               body_text="Đảm bảo an ninh dịp Tết."), run_id=run)  # fmt: skip
    return db


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["crawl", "demo", "--base-url", "127.0.0.1:8000"], 2, "--base-url '127.0.0.1:8000'"),
        (["crawl", "demo", "--base-url", "ftp://127.0.0.1/"], 2, "expected an http:// or https:// origin"),
        (["crawl", "demo", "--base-url", "http://[::1"], 2, "--base-url"),
        (["crawl", "demo", "-s", "ARCHIVER_MAX_PAGE=5"], 2, "did you mean ARCHIVER_MAX_PAGES"),
        (["crawl", "demo", "-s", "DOWNLOD_DELAY=1"], 2, "did you mean DOWNLOAD_DELAY"),
        (["crawl", "demo", "-s", "DOWNLOAD_DELAY=abc"], 2, "-s DOWNLOAD_DELAY=abc: expected a number"),
        (["crawl", "demo", "-s", "RETRY_TIMES=2.5"], 2, "expected a whole number"),
        (["crawl", "demo", "-s", "ROBOTSTXT_OBEY=maybe"], 2, "expected true or false"),
        (["crawl", "demo", "-s", "ARCHIVER_WARC_COMPRESSOR=brotli"], 2, "expected one of isal, zlib"),
        (["crawl", "demo", "-s", "ARCHIVER_DB=x.db"], 2, "use the option --db"),
        (["crawl", "demo", "-s", "NOEQUALS"], 2, "expected NAME=VALUE"),
        (["crawl", "demo", "--db", "/dev/null/x.db"], 1, "cannot create the archive's lock file"),
        (["crawl", "demo", "--log-file", "/dev/null/x.log"], 2, "--log-file /dev/null/x.log: /dev/null is not a directory"),
        (["crawl", "no-such-portal"], 2, "unknown portal 'no-such-portal'"),
        (["stats", "--db", "/dev/null/x.db"], 1, "no archive here"),
        (["export", "--format", "csv", "-o", "/dev/null/x.csv", "--db", "{db}"], 2, "/dev/null"),
        (["search", "an ninh", "--db", "{db}", "--since", "hôm qua"], 2, "--since"),
        (["runs", "--db", "{db}", "--portal", "khong-co"], 2, "no run of portal 'khong-co'"),
        (["show", "khong-co", "--db", "{db}"], 1, "no article with id or URL 'khong-co'"),
    ],
)
def test_bad_input_is_one_clear_line(archive: Path, args: list[str], code: int, needle: str) -> None:
    result = cli(*[a.replace("{db}", str(archive)) for a in args])
    assert result.returncode == code, result.stdout + result.stderr
    assert needle in one_line(result)


def test_db_that_is_a_directory(tmp_path: Path) -> None:
    for args in (["crawl", "demo"], ["stats"], ["runs"]):
        result = cli(*args, "--db", str(tmp_path))
        assert result.returncode in (1, 2) and "is a directory" in one_line(result)
    assert not Path(f"{tmp_path}.lock").exists()  # nothing written beside it


def test_export_onto_a_directory(archive: Path, tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    result = cli("export", "--format", "csv", "-o", str(tmp_path / "out.csv"), "--db", str(archive))
    assert result.returncode == 2 and "is a directory" in one_line(result)


def test_corrupt_archive(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not an archive" * 500)
    for args in (["stats"], ["runs"], ["search", "x"], ["crawl", "demo"]):
        result = cli(*args, "--db", str(bad))
        assert result.returncode == 1, (args, result.stderr)
        assert "not a usable archive" in one_line(result) and str(bad) in result.stderr
    assert bad.read_bytes() == b"not an archive" * 500


def test_runs_on_an_empty_archive(tmp_path: Path) -> None:
    Archive(tmp_path / "e.db").close()
    result = cli("runs", "--db", str(tmp_path / "e.db"))
    assert result.returncode == 0 and "no crawl run recorded yet" in result.stdout


def test_archiver_db_environment_variable_is_honoured(archive: Path) -> None:
    result = cli("stats", env={"ARCHIVER_DB": str(archive)})
    assert result.returncode == 0 and "haugiang" in result.stdout
    result = cli("stats", "--json", env={"ARCHIVER_DB": str(archive)})
    import json

    assert json.loads(result.stdout.splitlines()[0])["articles"] == 1


def test_read_commands_work_on_a_read_only_medium(archive: Path, tmp_path: Path) -> None:
    medium = tmp_path / "medium"
    medium.mkdir()
    shutil.copy(archive, medium / "archive.db")  # a copy handed to an archivist: no -wal, no -shm
    db = str(medium / "archive.db")
    ro = readonly(medium)
    checks = [
        (["stats", "--db", db], "haugiang"),
        (["runs", "--db", db, "--json"], '"portal": "haugiang"'),
        (["search", "bao ve an ninh", "--db", db], "Bảo vệ an ninh trật tự"),
        (["show", "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/bao-ve-an-ninh-1.html", "--db", db], "Bảo vệ"),
        (["export", "--format", "jsonl", "-o", str(tmp_path / "x.jsonl"), "--db", db], "wrote 1 articles"),
    ]
    for args, needle in checks:
        result = cli(*args, prefix=ro)
        assert result.returncode == 0, (args, result.stderr)
        assert needle in result.stdout, (args, result.stdout)
    serve_read_only(db, ro)
    assert sorted(p.name for p in medium.iterdir()) == ["archive.db"]  # nothing written there
    crawl = cli("crawl", "demo", "--db", db, prefix=ro)
    assert crawl.returncode == 1 and "read-only" in one_line(crawl)


def test_read_only_archive_of_an_older_schema_is_refused_clearly(tmp_path: Path) -> None:
    import sqlite_utils

    from archiver.store.schema import migrate

    medium = tmp_path / "medium"
    medium.mkdir()
    conn = sqlite3.connect(medium / "old.db")
    migrate(sqlite_utils.Database(conn), until="m002_search")
    conn.close()
    result = cli("stats", "--db", str(medium / "old.db"), prefix=readonly(medium))
    assert result.returncode == 1 and "older schema on a read-only medium" in one_line(result)


def test_two_commands_opening_an_old_schema_archive_at_once(tmp_path: Path) -> None:
    import sqlite_utils

    from archiver.store.schema import MIGRATIONS, migrate

    for trial in range(4):
        db = tmp_path / f"old-{trial}.db"
        conn = sqlite3.connect(db)
        migrate(sqlite_utils.Database(conn), until="m001_initial")
        conn.close()
        procs = [subprocess.Popen([sys.executable, "-m", "archiver.cli", cmd, "--db", str(db)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for cmd in ("stats", "runs", "stats")]  # fmt: skip
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            assert "Traceback" not in err
        conn = sqlite3.connect(db)
        assert [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")] == [n for n, _ in MIGRATIONS]
        conn.close()


def serve_read_only(db: str, prefix: list[str]) -> None:
    import json
    import socket
    import time
    import urllib.request

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([*prefix, sys.executable, "-m", "archiver.cli", "serve", "--db", db, "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/archive/articles.json?_shape=objects") as r:
                    rows = json.load(r)["rows"]
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(proc.stdout.read().decode() if proc.poll() is not None and proc.stdout else "no answer")
        assert [r["title"] for r in rows] == ["Bảo vệ an ninh trật tự"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
