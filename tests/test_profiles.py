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
        # RE2 has no look-around: refused at load, not at the first page
        (GOOD + "[urls]\narticle_pattern = '^/(?!admin)'\n", "urls.article_pattern", "RE2 syntax"),
        (GOOD + '[article]\ndate = "div[class=\'x\'"\n', "article.date", "bad CSS selector"),
        (GOOD + '[listing]\narticle_links = "a::"\n', "listing.article_links", "bad CSS selector"),
        (GOOD + '[article]\nremove = [".ok", "p >> a"]\n', "article.remove", "bad CSS selector"),
        (GOOD.replace("https://a.gov.vn", "http://[::1"), "base_url", "not an http(s) origin"),
        (GOOD.replace("https://a.gov.vn", "http://a.gov.vn:port"), "base_url", "not an http(s) origin"),
        (GOOD + 'domains = ["a b.gov.vn"]\n', "domains", "not a host name"),
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


def test_a_catastrophic_pattern_cannot_hang_a_crawl(tmp_path: Path) -> None:
    """``([\\w-]+)+`` against a long slug ran 375 s with Python's engine; RE2 is linear. Run in a
    subprocess with a bound, so that a regression fails instead of hanging the suite."""
    import subprocess
    import sys

    path = write(tmp_path, GOOD + "[urls]\narticle_pattern = '^/([\\w-]+)+$'\n")
    code = (
        "from pathlib import Path; from archiver.profiles import load_portal; "
        "from archiver.extract import extract_listing\n"
        f"p = load_portal(Path({str(path)!r}))\n"
        "slug = 'tin-' + 'a' * 5000 + '!'\n"
        "html = '<div class=\"news-list\"><div class=\"news-item\"><a class=\"news-item-title\" href=\"/' + slug + '\">x</a></div></div>'\n"
        "print(len(extract_listing(html, 'https://a.gov.vn/', profile=p).article_urls))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"  # the slug ends in "!": no match, found at once


def test_archiver_portals_reports_a_malformed_base_url_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    write(tmp_path, GOOD.replace("https://a.gov.vn", "http://[::1"), "hong.toml")
    env = dict(os.environ, ARCHIVER_PORTALS_DIR=str(tmp_path))
    for args in (["portals"], ["crawl", "--all"]):
        result = subprocess.run([sys.executable, "-m", "archiver.cli", *args], capture_output=True, text=True,
                                env=env, timeout=60, cwd=Path(__file__).resolve().parents[1])  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "hong.toml" in result.stderr and "base_url" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
