"""The committed demo snapshot is exactly what the generator writes, and meets the issue's shape."""

from __future__ import annotations

from pathlib import Path

from archiver.demo import DEMO_DIR, build_site


def test_committed_site_equals_generator(tmp_path: Path) -> None:
    build_site(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(DEMO_DIR): p.read_bytes()
        for p in DEMO_DIR.rglob("*")
        if p.is_file() and (p.name == "manifest.json" or "site" in p.relative_to(DEMO_DIR).parts)
    }
    assert fresh.keys() == committed.keys()
    changed = [k for k in fresh if fresh[k] != committed[k]]
    assert not changed, f"regenerate with: python -m archiver.demo data/demo ({changed[:3]})"


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
