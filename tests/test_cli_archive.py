"""The archivist's and researcher's commands: search, show, export, serve (Datasette)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archiver.cli import main
from archiver.items import Article
from archiver.profiles import get_portal
from archiver.store import Archive


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    with Archive(path) as a:
        a.upsert_portal(get_portal("haugiang"))
        url = "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/a-1.html"
        for run, (body, views) in enumerate(
            [("Bảo vệ an ninh trật tự.", 10), ("Bảo vệ an ninh trật tự dịp Tết.", 25)], 1
        ):
            art = Article(url=url, canonical_url=url, portal="haugiang", title="Bảo vệ an ninh", body_text=body,
                          published=date(2021, 3, 23), views=views, category="Tin trong tỉnh")  # fmt: skip
            a.save_article(art, run_id=a.start_run("haugiang"), seen_at=f"2024-01-0{run}T00:00:00+00:00")
        other = "https://www.haugiang.gov.vn/tin-tuc/kinh-te/b-2.html"
        a.save_article(Article(url=other, canonical_url=other, portal="haugiang", title="Đảng bộ tỉnh",
                               body_text="Đại hội Đảng bộ.", published=date(2020, 10, 1)), run_id=None)  # fmt: skip
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_search_text_and_json(db: Path) -> None:
    code, out = run("search", "bao ve an ninh", "--db", str(db))
    assert code == 0
    assert "2021-03-23" in out and "haugiang" in out and "[Bảo vệ an ninh]" in out
    code, out = run("search", "dang", "--db", str(db), "--json", "--since", "2020", "--province", "Cần Thơ")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [h["title"] for h in hits] == ["Đảng bộ tỉnh"]
    assert "<b>Đảng</b>" in hits[0]["snippet"]


def test_search_errors_are_clean(db: Path) -> None:
    code, out = run("search", '"an ninh', "--db", str(db))
    assert code == 2 and "quotation mark is not closed" in out
    code, out = run("search", "x", "--db", str(db), "--since", "23/03/2021")
    assert code == 2 and "--since" in out
    code, out = run("search", "x", "--db", str(db.parent / "none.db"))
    assert code == 1 and "no archive here" in out


def test_show_revisions_and_views(db: Path) -> None:
    code, out = run("show", "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/a-1.html", "--db", str(db))
    assert code == 0
    assert "Revisions (2)" in out and "first version" in out
    assert "body: 1 paragraph(s) added, 1 removed" in out and "+Bảo vệ an ninh trật tự dịp Tết." in out
    assert "View counts (2)" in out and "2024-01-01T00:00:00+00:00  10" in out and "25" in out
    code, out = run("show", "nope", "--db", str(db))
    assert code == 1 and "no article" in out
    code, out = run("show", "https://www.haugiang.gov.vn/tin-tuc/tin-trong-tinh/a-1.html", "--db", str(db), "--json")
    data = json.loads(out)
    assert [r["revision"] for r in data["revisions"]] == [1, 2] and [v["views"] for v in data["views"]] == [10, 25]


def test_export_command(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    code, text = run("export", "--format", "jsonl", "-o", str(out), "--db", str(db), "--category", "tin trong tinh")
    assert code == 0 and "wrote 1 articles" in text
    assert (tmp_path / "x.jsonl.card.md").exists()
    code, text = run("export", "--format", "xml", "-o", str(out), "--db", str(db))
    assert code == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - 127.0.0.1 only
        return json.loads(r.read())


def start_serve(db: Path, port: int, **popen: Any) -> subprocess.Popen[bytes]:
    """`archiver serve` on ``port``, once it answers (at most 30 s)."""
    proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", "serve", "--db", str(db), "--port", str(port)],
                            **popen)  # fmt: skip
    for _ in range(150):
        try:
            get_json(f"http://127.0.0.1:{port}/-/versions.json")
            break
        except OSError:
            time.sleep(0.2)
    return proc


def test_serve_datasette(db: Path) -> None:
    pytest.importorskip("datasette")
    from archiver.attachments import describe
    from tests.test_attachments import docx_bytes

    with Archive(db) as a:  # a plan attached to the second article
        doc = "https://www.haugiang.gov.vn/van-ban/kh-56.docx"
        a.save_attachment(describe(doc, docx_bytes(["Kế hoạch số 56/KH-UBND ngày 2/3/2021 về kiểm kê tài sản công"])))
        a.link_attachment(a.article_of_url("https://www.haugiang.gov.vn/tin-tuc/kinh-te/b-2.html") or "", doc, "Kế hoạch")
    port = free_port()
    proc = start_serve(db, port, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        hits = get_json(f"{base}/archive/article_index.json?_search=bao+ve&_shape=objects&_facet=province&_facet=year")
        assert [r["title"] for r in hits["rows"]] == ["Bảo vệ an ninh"]
        assert hits["rows"][0]["new_unit"] == "thành phố Cần Thơ"
        assert {f for f in hits["facet_results"]} >= {"province", "year"}
        hits = get_json(f"{base}/archive/article_index.json?_search=dang&_shape=objects")
        assert [r["title"] for r in hits["rows"]] == ["Đảng bộ tỉnh"]
        from urllib.parse import quote as _q

        hits = get_json(f"{base}/archive/article_index.json?_search={_q('Đảng')}&_shape=objects")
        assert [r["title"] for r in hits["rows"]] == ["Đảng bộ tỉnh"]  # the box folds as the CLI does
        from urllib.parse import quote

        hits = get_json(f"{base}/archive/search.json?q={quote('Đảng bộ')}&_shape=objects")
        assert [r["title"] for r in hits["rows"]] == ["Đảng bộ tỉnh"]
        canned = get_json(f"{base}/archive/articles_with_revisions.json?_shape=objects")
        assert [r["revision"] for r in canned["rows"]] == [2]
        docs = get_json(f"{base}/archive/documents.json?q={quote('kiem ke')}&_shape=objects")
        assert [(r["doc_number"], r["doc_date"], r["article"]) for r in docs["rows"]] == [
            ("56/KH-UBND", "2021-03-02", "Đảng bộ tỉnh")]  # fmt: skip
        assert get_json(f"{base}/archive/documents.json?q={quote('an ninh')}&_shape=objects")["rows"] == []
        assert len(get_json(f"{base}/archive/documents.json?q=&_shape=objects")["rows"]) == 1
        meta = get_json(f"{base}/-/metadata.json")
        assert "diacritics" in meta["description"]
        assert meta["databases"]["archive"]["tables"]["attachments"]["description"].startswith("The documents behind")
        assert meta["databases"]["archive"]["tables"]["articles"]["columns"]["published"].startswith("Publication date")
        # read-only: a write through the SQL endpoint is refused
        with pytest.raises(urllib.error.HTTPError):
            get_json(f"{base}/archive.json?sql=DELETE+FROM+articles")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # stopping `archiver serve` stops Datasette too: nothing is left listening
    for _ in range(50):
        try:
            get_json(f"{base}/-/versions.json")
        except OSError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("Datasette still answers after archiver serve was stopped")
    with Archive(db) as a:
        assert a.count("articles") == 2


@pytest.mark.parametrize("query", ["bảo vệ " * 20_000, " OR ".join(f"tu{i}" for i in range(60))])
def test_a_huge_search_query_is_refused_at_once(db: Path, query: str) -> None:
    code, out = run("search", query, "--db", str(db))
    assert code == 2 and "at most" in out
    assert len(out.strip().splitlines()) == 1


def test_bookkeeping_tables_are_hidden_from_visitors() -> None:
    from archiver.serve import HIDDEN, metadata

    tables = metadata("archive")["databases"]["archive"]["tables"]
    assert tables["_migrations"] == {"hidden": True} and tables["cluster_cursor"] == {"hidden": True}
    assert "_migrations" in HIDDEN and not tables["article_index"].get("hidden")
    assert tables["run_workers"]["description"]


def test_stopping_serve_stops_its_datasette(db: Path) -> None:
    """SIGTERM to `archiver serve` ends the Datasette it started: no server left running alone."""
    import os
    import signal

    pytest.importorskip("datasette")
    port = free_port()
    proc = start_serve(db, port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert children, "archiver serve runs Datasette as its child"
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        for _ in range(50):
            alive = [c for c in children if Path(f"/proc/{c}").exists()
                     and "Z" not in Path(f"/proc/{c}/stat").read_text().split(")")[-1][:3]]  # fmt: skip
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, f"Datasette still running after SIGTERM: {alive}"
        with pytest.raises(OSError):
            get_json(f"http://127.0.0.1:{port}/-/versions.json")
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in locals().get("children", []):
            try:
                os.kill(c, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
