"""The registry of real portals, `archiver portals --province`, learned profiles
(`archiver profile new` / `check`) and selector sets per URL pattern."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from archiver.exceptions import ProfileError
from archiver.profiles import REGISTRY_FILE, load_portal
from archiver.provinces import MERGERS, UNCHANGED, _key
from archiver.registry import load_registry
from tests.crawling import QUICK, ROOT, archiver_cmd
from tests.gensite import GenSite, article_html, generate

REAL = dict(os.environ, ARCHIVER_REGISTRY=str(REGISTRY_FILE))


def test_the_registry_names_every_old_province_and_every_new_unit() -> None:
    reg = load_registry(REGISTRY_FILE)
    provinces = [p for p in reg.portals.values() if p.get("unit") == "province"]
    olds = {_key(o) for olds in MERGERS.values() for o in olds} | {_key(o) for o in UNCHANGED}
    assert len(olds) == 63 and {_key(p.province) for p in provinces} == olds
    assert len(reg.units) == 34 and {u.name for u in reg.units} == set(MERGERS) | set(UNCHANGED.values())
    assert all(p.get("sources") for p in reg.portals.values())
    assert all(u.portal in reg.portals for u in reg.units)
    assert sum(u.confirmed for u in reg.units) == 11  # the unchanged units; the merged ones say so


def test_portals_of_a_province_and_of_a_new_unit() -> None:
    r = subprocess.run(archiver_cmd("portals", "--province", "Cần Thơ", "--json"), capture_output=True, text=True,
                       cwd=ROOT, env=REAL)  # fmt: skip
    assert r.returncode == 0, r.stderr
    slugs = {json.loads(line)["slug"] for line in r.stdout.splitlines()}
    assert {"cantho", "soctrang", "haugiang"} <= slugs and "vinhlong" not in slugs
    r = subprocess.run(archiver_cmd("portals", "--province", "Hau Giang"), capture_output=True, text=True, cwd=ROOT,
                       env=REAL)  # fmt: skip
    assert "haugiang" in r.stdout and "soctrang" not in r.stdout
    r = subprocess.run(archiver_cmd("portals", "--province", "Atlantis"), capture_output=True, text=True, cwd=ROOT,
                       env=REAL)  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run(archiver_cmd("portals", "--units"), capture_output=True, text=True, cwd=ROOT, env=REAL)
    assert "thành phố Cần Thơ" in r.stdout and "Sóc Trăng" in r.stdout


@pytest.mark.parametrize("text, where", [
    ('[[portal]]\nslug = "x"\nname = "X"\nprovince = "Atlantis"\nbase_url = "https://x.gov.vn"\nsources = "S1"\n',
     "portal[0].province"),
    ('[[portal]]\nslug = "x"\nname = "X"\nprovince = "Hậu Giang"\nbase_url = "x.gov.vn"\nsources = "S1"\n',
     "portal[0].base_url"),
    ('[[portal]]\nslug = "x"\nname = "X"\nprovince = "Hậu Giang"\nbase_url = "https://x.gov.vn"\n', "portal[0].sources"),
    ('[[portal]]\nslug = "x"\nname = "X"\nprovince = "Hậu Giang"\nbase_url = "https://x.gov.vn"\nsources = "S"\n'
     'colour = "red"\n', "portal[0].colour"),
])  # fmt: skip
def test_a_malformed_registry_is_refused_naming_the_field(text: str, where: str, tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_registry(path)
    assert where in str(err.value) and str(path) in str(err.value)


def test_selector_sets_per_url_pattern(tmp_path: Path) -> None:
    from archiver.extract import extract_article

    path = tmp_path / "two.toml"
    path.write_text('name = "T"\nprovince = "Hậu Giang"\nbase_url = "http://127.0.0.1:9"\nstart_urls = ["/"]\n'
                    '[listing]\narticle_links = "a"\n'
                    "[[templates]]\npattern = '^/kinh-te/'\ntitle = \"td.tieude\"\nbody = \"td.noidung\"\n"
                    "[[templates]]\npattern = '^/bai-viet/'\ntitle = \"div.detail > h1\"\nbody = \"div.detail-body\"\n",
                    encoding="utf-8")  # fmt: skip
    prof = load_portal(path)
    g = generate(6)
    for section in ("kinh-te", "giao-duc"):
        a = g.by_section[section][0]
        art = extract_article(article_html(g, a), "http://127.0.0.1:9" + a.path, profile=prof)
        assert art.title == a.title and art.rules["title"].startswith("selector"), art.rules
        assert art.body_text.startswith(a.paragraphs[0][:40])
    bad = tmp_path / "bad.toml"
    bad.write_text(path.read_text(encoding="utf-8").replace('title = "td.tieude"', 'title = "td..x"'), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"templates\[0\]\.title"):
        load_portal(bad)


def test_profile_new_writes_a_profile_that_passes_check(tmp_path: Path) -> None:
    site = GenSite(12)
    env = dict(os.environ)
    try:
        out = tmp_path / "profiles"
        r = subprocess.run(archiver_cmd("profile", "new", site.url + "/", "--slug", "gen", "--dir", str(out),
                                        "--allow-private", "--max-pages", "150", *QUICK),
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr[-2000:]
        # Where the sample's pages disagree with every candidate selector (the title of a template
        # printed in two places), the field is left to the generic path, and said so.
        assert "left to the generic path" in r.stdout, r.stdout
        prof = load_portal(out / "gen.toml")
        assert len(prof.get("templates")) == 6 and prof.get("listing.article_links")
        expected = json.loads((out / "gen" / "expected.json").read_text(encoding="utf-8"))
        assert len(expected) >= 20
        r = subprocess.run(archiver_cmd("profile", "check", "gen", "--dir", str(out), "--allow-private",
                                        "--base-url", site.url, *QUICK), capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr[-2000:]
        assert "100% as expected" in r.stdout and "live sample" in r.stdout
        # A profile is never overwritten.
        r = subprocess.run(archiver_cmd("profile", "new", site.url + "/", "--slug", "gen", "--dir", str(out),
                                        "--allow-private", "--max-pages", "150", *QUICK),
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
        assert r.returncode == 1 and "never overwritten" in r.stderr
        # A redesign: the fixtures no longer agree, check says so.
        for f in (out / "gen").glob("*.html"):
            f.write_text(f.read_text(encoding="utf-8").replace('class="tieude"', 'class="x"')
                         .replace('class="tb-title"', 'class="x"').replace('class="title"', 'class="x"'),
                         encoding="utf-8")  # fmt: skip
        (out / "gen" / "expected.json").write_text(json.dumps(
            {k: dict(v, title="(old)") for k, v in expected.items()}), encoding="utf-8")  # fmt: skip
        r = subprocess.run(archiver_cmd("profile", "check", "gen", "--dir", str(out), "--no-live"),
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
        assert r.returncode == 1 and "title 100% filled, 0% as expected" in r.stdout, r.stdout
    finally:
        site.stop()
