"""One ingest path for live, re-parsed and imported pages: re-parsing with unchanged code changes
nothing, an extractor change is a "reextract" revision and a portal's edit a "source" one; a
WARC that wget writes while mirroring the demo imports to the same articles as a crawl; a
damaged WARC gives its valid records and names the bad one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from archiver.profiles import PORTALS_DIR
from tests.crawling import ROOT, archiver_cmd, crawl, q
from tests.faultportal import FaultPortal, article_no


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(archiver_cmd(*args), capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, **(env or {})})  # fmt: skip


@pytest.fixture(scope="module")
def crawled(demo_site: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("crawl") / "archive.db"
    assert crawl(db, demo_site, "--full").returncode == 0
    return db


def changed_profiles(tmp_path: Path) -> Path:
    """The portal profiles with the demo's changed: its lead paragraph is now removed."""
    d = tmp_path / "portals"
    shutil.copytree(PORTALS_DIR, d)
    text = (d / "demo.toml").read_text(encoding="utf-8")
    (d / "demo.toml").write_text(text + '\n[article]\nremove = [".news-tools", ".binhluan", ".other-news", '
                                 '".news-content p:first-child"]\n', encoding="utf-8")  # fmt: skip
    return d


def test_reparse_with_unchanged_code_changes_nothing(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    shutil.copy(crawled, db)
    shutil.copytree(crawled.parent / "warc", tmp_path / "warc")
    before = q(db, "SELECT id, content_hash, revision, last_seen FROM articles ORDER BY id")
    result = run("reparse", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "read 66, changed 0, unchanged 66, failed 0" in result.stdout
    assert q(db, "SELECT id, content_hash, revision, last_seen FROM articles ORDER BY id") == before


def test_reparse_after_an_extractor_change_is_a_reextract_revision(crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    shutil.copy(crawled, db)
    shutil.copytree(crawled.parent / "warc", tmp_path / "warc")
    views = q(db, "SELECT count(*) FROM view_counts")
    env = {"ARCHIVER_PORTALS_DIR": str(changed_profiles(tmp_path))}
    result = run("reparse", "--db", str(db), "--portal", "demo", env=env)
    assert result.returncode == 0, result.stderr
    assert "read 66, changed 66, unchanged 0, failed 0" in result.stdout
    reasons = q(db, "SELECT reason, count(*) FROM article_revisions GROUP BY 1 ORDER BY 1")
    assert reasons == [("first", 66), ("reextract", 66)]
    assert q(db, "SELECT count(*) FROM view_counts") == views  # nothing was fetched: no view observation
    shown = run("show", "7d8217afa8e7bf21", "--db", str(db), env=env)
    assert "re-extracted (our extractor changed, the page did not)" in shown.stdout
    assert "archived copy: capture" in shown.stdout
    again = run("reparse", "--db", str(db), env=env)
    assert "changed 0, unchanged 66" in again.stdout  # idempotent


def test_live_crawl_tells_an_edit_at_the_portal_from_an_extractor_change(tmp_path: Path) -> None:
    server = FaultPortal(set())
    db = tmp_path / "a.db"
    try:
        assert crawl(db, server.url).returncode == 0
        server.faults.add("edited")  # the portal edits article 1
        assert crawl(db, server.url, "--full").returncode == 0
        env_dir = changed_profiles(tmp_path)  # our profile changes; the portal's pages do not
        again = subprocess.run([*archiver_cmd("crawl", "demo", "--db", str(db), "--base-url", server.url, "--full",
                                              "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")],
                               capture_output=True, text=True, cwd=ROOT, timeout=300,
                               env={**os.environ, "ARCHIVER_PORTALS_DIR": str(env_dir)})  # fmt: skip
        assert again.returncode == 0, again.stderr
    finally:
        server.stop()
    edited = q(db, "SELECT r.revision, r.reason FROM article_revisions r JOIN articles a ON a.id = r.article_id "
                   "WHERE a.title = ? ORDER BY r.revision", article_no(1).title)  # fmt: skip
    assert edited == [(1, "first"), (2, "source"), (3, "reextract")]
    others = q(db, "SELECT reason, count(*) FROM article_revisions GROUP BY 1 ORDER BY 1")
    assert others == [("first", 30), ("reextract", 30), ("source", 1)]


@pytest.fixture(scope="module")
def wget_warc(demo_site: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WARC that Debian's wget writes while mirroring the demo site on 127.0.0.1."""
    work = tmp_path_factory.mktemp("wget")
    result = subprocess.run(["wget", "--recursive", "--level=inf", "--no-parent", "--no-verbose", "--delete-after",
                             "--warc-file=demo", "--no-warc-keep-log", demo_site + "/"], cwd=work, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert (work / "demo.warc.gz").exists(), result.stderr
    return work / "demo.warc.gz"


def test_a_wget_warc_imports_to_the_same_articles_as_a_crawl(wget_warc: Path, demo_site: str, crawled: Path,
                                                             tmp_path: Path) -> None:  # fmt: skip
    db = tmp_path / "imported.db"
    result = run("import-warc", str(wget_warc), "--portal", "demo", "--base-url", demo_site, "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "66 new" in result.stdout
    fields = "SELECT url, title, content_hash, published, views, author FROM articles"
    assert set(q(db, fields)) == set(q(crawled, fields))
    # provenance: source warc, the capture time, the file kept inside the archive's directory
    assert q(db, "SELECT DISTINCT source FROM captures") == [("warc",)]
    (kept,) = {r[0] for r in q(db, "SELECT warc_file FROM captures")}
    assert kept.startswith("warc/demo/imported/") and (tmp_path / kept).exists()
    # importing it again adds nothing
    again = run("import-warc", str(wget_warc), "--portal", "demo", "--base-url", demo_site, "--db", str(db))
    assert again.returncode == 0 and "0 new" in again.stdout and "66 unchanged" in again.stdout


def test_a_truncated_warc_gives_its_valid_records_and_names_the_bad_one(wget_warc: Path, demo_site: str,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    data = wget_warc.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2] + b"\x1f\x8b\x08\x00garbage")
    db = tmp_path / "a.db"
    result = run("import-warc", str(cut), "--portal", "demo", "--base-url", demo_site, "--db", str(db))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{cut}: bad record at offset " in result.stderr
    stored = q(db, "SELECT count(*) FROM articles")[0][0]
    assert 10 < stored < 66


def test_a_warc_of_another_portal_is_refused_naming_the_host(wget_warc: Path, demo_site: str, tmp_path: Path) -> None:
    result = run("import-warc", str(wget_warc), "--portal", "haugiang", "--db", str(tmp_path / "a.db"))
    assert result.returncode == 1
    host = demo_site.split("://")[1]
    assert "no page of portal haugiang" in result.stderr and host in result.stderr
    assert q(tmp_path / "a.db", "SELECT count(*) FROM articles") == [(0,)]


def test_a_file_that_is_no_warc(tmp_path: Path) -> None:
    bad = tmp_path / "x.warc.gz"
    bad.write_bytes(b"not a warc at all" * 10)
    result = run("import-warc", str(bad), "--portal", "demo", "--db", str(tmp_path / "a.db"))
    assert result.returncode == 1 and f"{bad}: bad record at offset 0" in result.stderr
    missing = run("import-warc", str(tmp_path / "none.warc.gz"), "--portal", "demo", "--db", str(tmp_path / "a.db"))
    assert missing.returncode in (1, 2) and "none.warc.gz" in missing.stderr


def test_serve_replays_the_archived_copy_in_a_sandbox(crawled: Path) -> None:
    import time
    import urllib.request

    from tests.crawling import free_port

    port = free_port()
    proc = subprocess.Popen(archiver_cmd("serve", "--db", str(crawled), "--port", str(port)), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    (capture_id, title) = q(crawled, "SELECT capture_id, title FROM articles WHERE id = '7d8217afa8e7bf21'")[0]
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/capture/{capture_id}") as r:
                    headers, body = r.headers, r.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("archiver serve did not answer")
        assert headers["Content-Security-Policy"].startswith("sandbox")
        assert headers["Content-Type"].startswith("text/html") and title in body
        assert "<script" in body  # the page as captured, its scripts kept but unable to run in our origin
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archive/articles?id=7d8217afa8e7bf21") as r:
            assert f'href="/-/capture/{capture_id}"' in r.read().decode("utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_warc_cut_anywhere_names_a_bad_record(wget_warc: Path, tmp_path: Path) -> None:
    """Wherever a file is cut (inside a gzip member, at a member's end, with garbage after it),
    reading it ends with a BadRecord: a cut file never reads as a complete one."""
    from archiver.capture.warc import BadRecord, complete_members, iter_captures

    data = wget_warc.read_bytes()
    whole = [c for c in iter_captures(wget_warc) if isinstance(c, BadRecord)]
    assert whole == []
    boundaries = {o + n for o, n in complete_members(wget_warc)[0]}
    for i in range(1, 40):
        at = len(data) * i // 40
        at -= at in boundaries  # cut exactly between two records, the file is a shorter complete one
        for tail in (b"", b"\x1f\x8b\x08\x00garbage"):
            cut = tmp_path / f"cut-{i}.warc.gz"
            cut.write_bytes(data[:at] + tail)
            out = list(iter_captures(cut))
            assert out and isinstance(out[-1], BadRecord), (at, tail)
