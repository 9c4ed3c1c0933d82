"""Every profile loads; a bad profile is an error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.exceptions import ProfileError, UnknownPortal
from archiver.profiles import KEYS, families, get_portal, load_family, load_portal, portals, profile_for_url

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_profile_loads() -> None:
    known = portals()
    assert {"haugiang", "kontum", "sotuphap-ninhthuan", "demo"} <= set(known)
    assert len({p.family for p in known.values()}) >= 3
    for p in known.values():
        assert p.family in families()
        assert p.new_unit, f"{p.slug}: province {p.province!r} not in the merger table"


@pytest.mark.parametrize("slug", sorted(portals()))
def test_every_portal_has_article_and_listing_fixtures(slug: str) -> None:
    if slug == "demo":
        site = Path(__file__).resolve().parents[1] / "data" / "demo" / "site"
        assert (site / "tin-tuc" / "tin-trong-tinh" / "index.html").exists()
        return
    for kind in ("article", "listing"):
        case = FIXTURES / slug / kind
        assert (case / "page.html").exists() and (case / "expected.json").exists(), case


def test_profile_for_url() -> None:
    assert profile_for_url("http://haugiang.gov.vn/x").slug == "haugiang"
    assert profile_for_url("https://www.kontum.gov.vn/pages/detail/1/a.html").slug == "kontum"
    assert profile_for_url("https://example.org/") is None


def test_unknown_portal_lists_known() -> None:
    with pytest.raises(UnknownPortal) as exc:
        get_portal("khong-co")
    assert "haugiang" in str(exc.value) and "khong-co" in str(exc.value)


def write(tmp_path: Path, text: str, name: str = "x.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD = 'name = "A"\nprovince = "Hậu Giang"\nextends = "hgportal"\nbase_url = "https://a.gov.vn"\nstart_urls = ["/"]\n'


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD + 'colour = "red"\n', "colour", "unknown key"),
        (GOOD + '[article]\ntitel = "h1"\n', "article.titel", "unknown key"),
        (GOOD + '[widgets]\na = "b"\n', "widgets", "unknown section"),
        (GOOD.replace('province = "Hậu Giang"\n', ""), "province", "missing required key"),
        (GOOD.replace('"hgportal"', '"wordpress"'), "extends", "unknown family"),
        (GOOD.replace("https://a.gov.vn", "a.gov.vn"), "base_url", "not an http(s) origin"),
        (GOOD.replace('["/"]', '"/"'), "start_urls", "expected list"),
        (GOOD + '[urls]\narticle_pattern = "(["\n', "urls.article_pattern", "bad regular expression"),
    ],
)
def test_bad_portal_profile(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as exc:
        load_portal(path)
    assert exc.value.key == key
    assert str(path) in str(exc.value) and problem in str(exc.value)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "name = \n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_portal(path)


def test_family_requires_selectors(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "F"\n[article]\ntitle = "h1"\n')
    with pytest.raises(ProfileError) as exc:
        load_family(path)
    assert exc.value.key == "article.body"


def test_portal_overrides_family(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + '[article]\ntitle = "h2.other"\n')
    p = load_portal(path)
    assert p.get("article.title") == "h2.other"
    assert p.get("article.body") == families()["hgportal"].keys["article.body"]


def test_every_key_is_described() -> None:
    assert all(desc for _, desc in KEYS.values())
