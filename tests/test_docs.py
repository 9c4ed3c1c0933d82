"""What a user can touch is documented: commands, profile keys, settings, schema columns."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from archiver import settings
from archiver.cli import main
from archiver.profiles import KEYS
from archiver.store import Archive

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented_with_docstring_and_example(command: str) -> None:
    assert f"`archiver {command}" in README
    doc = main.commands[command].callback.__doc__ or ""
    assert "Example: archiver " + command in doc


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_profile_key_is_documented(key: str) -> None:
    assert f"`{key}`" in README


@pytest.mark.parametrize("name", sorted(n for n in dir(settings) if n.startswith("ARCHIVER_")))
def test_every_archiver_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in README


def test_every_table_and_column_is_documented(tmp_path: Path) -> None:
    Archive(tmp_path / "a.db").close()
    conn = sqlite3.connect(tmp_path / "a.db")
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        if not r[0].startswith(("_", "articles_fts_", "attachments_fts_", "sqlite_"))  # FTS5 shadow tables
    ]
    for table in tables:
        assert f"`{table}`" in README, table
        for col in (r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")):
            assert re.search(rf"`{col}`", README), f"{table}.{col}"


def test_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci


# README examples the docs test cannot run as written, and why.
NOT_RUN = {
    "archiver crawl haugiang": "reaches the real portal (tests never leave 127.0.0.1)",
    "archiver crawl --all": "reaches the real portals",
    "archiver crawl https://": "reaches the real portal (tests/test_discover.py crawls a local one by address)",
    "archiver crawl --province": "reaches the real portals",
    "--source wayback": "reaches the real Wayback Machine (tests/test_wayback.py uses a local mock)",
    "archiver serve": "a server that runs until stopped (tests/test_cli_archive.py starts and queries it)",
    "bench.archive": "a 30-minute benchmark",
    "bench.warc": "a 6-minute benchmark",
    "bench.extract": "a 2-minute benchmark on the evaluation sets beside the repository",
    "bench.discover": "a benchmark (tests/test_discover.py asserts the same figures)",
    "bench.wayback": "a one-minute benchmark (tests/test_wayback.py covers the same paths)",
    "bench.crawl": "a ten-minute benchmark",
    "bench.attachments": "a one-minute benchmark (tests/test_attachments_crawl.py covers the same paths)",
    "bench.stages": "needs a py-spy profile of a crawl",
    "bench.cluster": "a three-minute benchmark (tests/test_cluster.py covers the same paths)",
    "bench.many": "a six-minute benchmark (tests/test_many_portals.py covers the same paths)",
    "archiver profile new https://": "reaches the real portal (tests/test_registry_profiles.py learns a local one)",
    "archiver profile check soctrang": "needs the profile that example writes",
    "make ": "the two commands are what CI runs",
    "archiver ingest --redis": "needs a Redis (tests/test_cluster.py runs the README's distributed section as written)",
    "archiver import-warc": "needs a WARC made by another tool (tests/test_offline.py makes one with wget and imports it)",
}


def readme_examples() -> list[str]:
    """Every command line of the README's ``sh`` blocks and of the commands table."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line:
                lines.append(line)
    for row in re.findall(r"^\| `archiver [^|]*\|[^|]*\| `(archiver [^`]+)` \|$", README, flags=re.M):
        lines.append(row)
    return lines


def test_readme_examples_run_as_written(tmp_path: Path) -> None:
    import os
    import shlex
    import subprocess
    import sys

    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("ARCHIVER_DB", None)
    env.pop("ARCHIVER_REGISTRY", None)  # the README lists the real registry (crawling it is not run)
    (tmp_path / ".venv").symlink_to(bindir.parent)  # ".venv/bin/archiver" as the README writes it
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo").symlink_to(ROOT / "data" / "demo")  # the bundled demo, as in a clone
    demo = subprocess.run(["archiver", "demo", "--db", "data/archive.db"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    ran = 0
    for line in readme_examples():
        if any(k in line for k in NOT_RUN):
            continue
        # The benchmarks are modules of the repository (bench/); everything else runs in a fresh directory.
        cwd = ROOT if " -m bench." in line else tmp_path
        result = subprocess.run(line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, line
        shlex.split(line)
        ran += 1
    assert ran >= 12  # the regular expressions above still find the examples
    conn = sqlite3.connect(tmp_path / "data" / "archive.db")
    from archiver.store.schema import register_functions

    register_functions(conn)
    for block in re.findall(r"```sql\n(.*?)```", README, flags=re.S):
        for statement in (s.strip() for s in re.sub(r"--[^\n]*", "", block).split(";")):
            if statement:
                conn.execute(statement.replace("'…'", "'7d8217afa8e7bf21'")).fetchall()
    conn.close()
