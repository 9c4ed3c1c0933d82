"""The committed demo snapshot is exactly what the generator writes, and meets the issue's shape."""

from __future__ import annotations

from pathlib import Path

from archiver.attachments import extract_text
from archiver.demo import DEMO_DIR, build_documents, build_site, documents


def _content(path: Path) -> bytes | str | None:
    """A page's bytes; a document's text (its bytes carry the PDF/DOCX writer's own details)."""
    return extract_text(path.read_bytes()).text if path.suffix in (".pdf", ".docx") else path.read_bytes()


def test_committed_site_equals_generator(tmp_path: Path) -> None:
    build_site(tmp_path)
    build_documents(tmp_path)
    fresh = {p.relative_to(tmp_path): _content(p) for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(DEMO_DIR): _content(p)
        for p in DEMO_DIR.rglob("*")
        if p.is_file() and (p.name == "manifest.json" or "site" in p.relative_to(DEMO_DIR).parts)
    }
    assert fresh.keys() == committed.keys()
    changed = [k for k in fresh if fresh[k] != committed[k]]
    assert not changed, f"regenerate with: python -m archiver.demo data/demo --documents ({changed[:3]})"


def test_each_demo_document_says_what_the_manifest_expects() -> None:
    from archiver.attachments import describe

    docs = documents()
    assert {d.kind for d in docs} == {"pdf", "docx"} and any(d.legacy for d in docs)
    for d in docs:
        row = describe(f"https://haugiang-demo.example{d.path}", (DEMO_DIR / "site" / d.path.lstrip("/")).read_bytes())
        assert (row["doc_number"], row["doc_date"]) == (d.doc_number, d.doc_date), d.path
        assert row["text"] is not None and d.unique in row["text"] and "\u00a2" not in row["text"], d.path


def test_demo_shape(tmp_path: Path) -> None:
    m = build_site(tmp_path)
    arts = m["articles"]
    assert len(arts) >= 60
    cats = {a["category"] for a in arts}
    assert len(cats) >= 3
    for cat in cats:
        assert (tmp_path / "site" / "tin-tuc" / cat / "trang-3" / "index.html").exists()
    assert any(a["views"] is None for a in arts) and any(a["author"] is None for a in arts)
    assert any("T" in a["published"] for a in arts) and any("T" not in a["published"] for a in arts)
