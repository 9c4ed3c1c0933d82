"""Exports and their cards always agree: one read snapshot, one atomic switch of data and cards,
concurrent exports to one path, kill -9 at any moment."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import archiver.export as ex
from archiver.export import export
from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import Archive
from archiver.store.queries import Filters

ROOT = Path(__file__).resolve().parents[1]


def fill(db: Path, n: int) -> None:
    with Archive(db) as a:
        for slug in ("haugiang", "kontum"):
            a.upsert_portal(get_portal(slug))
        for i in range(n):
            portal = "haugiang" if i % 3 else "kontum"
            url = f"{get_portal(portal).base_url}/tin-tuc/bai-{i}.html"
            a.save_article(Article(url=url, canonical_url=url, portal=portal, title=f"Bài số {i}",
                                   body_text=f"Nội dung của bài số {i}. " * 40), run_id=None)  # fmt: skip


def consistent(out: Path) -> dict:
    """The data file and both cards belong to one export."""
    card = json.loads(Path(f"{out}.card.json").read_text(encoding="utf-8"))
    data = out.read_bytes()
    assert hashlib.sha256(data).hexdigest() == card["sha256"]
    assert len(data) == card["bytes"]
    assert card["sha256"] in Path(f"{out}.card.md").read_text(encoding="utf-8")
    assert sum(1 for line in data.splitlines() if line.strip()) == card["articles"]
    return card


def test_rows_and_card_come_from_one_snapshot(tmp_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(tmp_db, 20)
    real = ex.WRITERS["jsonl"]

    def write_then_a_crawl_commits(rows, fields, out, *types):  # a crawl stores an article mid-export
        n = real(rows, fields, out, *types)
        url = "https://www.haugiang.gov.vn/tin-tuc/moi.html"
        with Archive(tmp_db) as other:
            other.save_article(Article(url=url, canonical_url=url, portal="haugiang", title="Bài mới",
                                       body_text="Vừa đăng."), run_id=None)  # fmt: skip
        return n

    monkeypatch.setitem(ex.WRITERS, "jsonl", write_then_a_crawl_commits)
    with Archive(tmp_db, readonly=True) as archive:
        card = export(archive, "jsonl", tmp_path / "a.jsonl", Filters())
    assert card["articles"] == 20 == sum(s["articles"] for s in card["sources"])
    consistent(tmp_path / "a.jsonl")


def run_export(db: Path, out: Path, portal: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archiver.cli", "export", "--format", "jsonl", "-o", str(out),
                             "--db", str(db), "--portal", portal], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_two_exports_to_one_path_at_once(tmp_db: Path, tmp_path: Path) -> None:
    fill(tmp_db, 600)
    out = tmp_path / "x.jsonl"
    procs = [run_export(tmp_db, out, p) for p in ("haugiang", "kontum", "haugiang", "kontum")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    card = consistent(out)
    assert card["articles"] in (400, 200)
    versions = tmp_path / ".x.jsonl.versions"
    assert [d.name for d in versions.iterdir() if d.is_dir() and not d.is_symlink()] == [os.readlink(versions / "current")]


def test_kill_9_during_exports_leaves_old_or_new_never_a_mix(tmp_db: Path, tmp_path: Path) -> None:
    fill(tmp_db, 3000)
    out = tmp_path / "k.jsonl"
    p = run_export(tmp_db, out, "kontum")
    assert p.wait(timeout=120) == 0
    rng = random.Random(12)
    seen = set()
    for trial in range(12):
        p = run_export(tmp_db, out, "haugiang" if trial % 2 == 0 else "kontum")
        time.sleep(rng.uniform(0.2, 1.6))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        seen.add(consistent(out)["articles"])  # whichever export is shown, its cards are its own
    assert seen <= {1000, 2000}
    # a later export cleans up what the killed ones left
    p = run_export(tmp_db, out, "haugiang")
    assert p.wait(timeout=120) == 0
    assert consistent(out)["articles"] == 2000
    versions = tmp_path / ".k.jsonl.versions"
    assert len([d for d in versions.iterdir() if d.is_dir() and not d.is_symlink()]) == 1
