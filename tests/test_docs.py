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

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


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
        if not r[0].startswith(("_", "articles_fts_", "sqlite_"))
    ]
    for table in tables:
        assert f"`{table}`" in README, table
        for col in (r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")):
            assert re.search(rf"`{col}`", README), f"{table}.{col}"


def test_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci
