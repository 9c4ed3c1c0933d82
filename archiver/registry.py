"""The registry of real portals (``archiver/profiles/registry.toml``) and portals given by address.

A registry ``[[portal]]`` is a fact about a portal: slug, name, old province, level (province,
department, district), base URL, sources. Without a hand-written profile it is crawled by
discovery. A ``[[unit]]`` is one of the 34 provincial units since 1 July 2025: its old provinces
and the portal it uses (``confirmed = false`` when no source says so yet: the portal of the old
province whose name the unit took).

``profile_for_address(url)`` is the profile of a portal given only by its address
(``archiver crawl http://…``): the registry's or a profile's entry when one owns the host, else
a discovery profile named after the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.exceptions import ProfileError
from archiver.profiles import Profile, read_toml, valid_origin
from archiver.provinces import _key, new_unit_of

PORTAL_KEYS = {
    "slug": (str, "The portal's key in the archive (letters, digits, hyphens)."),
    "name": (str, "The portal's name."),
    "province": (str, "Old province (before 1 July 2025) the portal belongs to."),
    "unit": (str, "Level: province, department, district or commune."),
    "base_url": (str, "The portal's origin."),
    "domains": (list, "Other hosts of the portal."),
    "sources": (str, "Where the facts come from (keys of the sources listed at the top of the file)."),
    "enabled": (bool, "Whether `archiver crawl --all` includes it (default true)."),
    "notes": (str, "Free text."),
    "status": (str, "`gone` when the portal is known to be gone (crawled from the Wayback Machine)."),
}
UNIT_KEYS = {
    "name": (str, "The unit's name since 1 July 2025 (\"thành phố Cần Thơ\")."),
    "old_provinces": (list, "The old provinces it was made of."),
    "portal": (str, "Slug of the portal it uses."),
    "confirmed": (bool, "Whether a source says it uses that portal (else: the same-named old portal)."),
    "sources": (str, "Where the facts come from."),
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Unit:
    name: str
    old_provinces: tuple[str, ...]
    portal: str
    confirmed: bool
    sources: str


@dataclass
class Registry:
    portals: dict[str, Profile] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)
    path: str = ""


def _check(path: Path, where: str, entry: dict[str, Any], keys: dict[str, tuple[type, str]],
           required: tuple[str, ...]) -> None:  # fmt: skip
    for key, value in entry.items():
        if key not in keys:
            raise ProfileError(path, f"{where}.{key}", "unknown key (see the registry keys in README.md)")
        if not isinstance(value, keys[key][0]):
            raise ProfileError(path, f"{where}.{key}", f"expected {keys[key][0].__name__}, got {type(value).__name__}")
    for key in required:
        if key not in entry:
            raise ProfileError(path, f"{where}.{key}", "missing required key")


def discovery_profile(slug: str, name: str, province: str, base_url: str, path: str = "",
                      **keys: Any) -> Profile:  # fmt: skip
    """A profile with no selectors: the portal is walked by discovery from its home page."""
    base = base_url.rstrip("/")
    merged = {"name": name, "province": province, "base_url": base, "start_urls": ["/"], **keys}
    return Profile(slug=slug, family="discovery", name=name, province=province, base_url=base, start_urls=("/",),
                   keys=merged, path=path)  # fmt: skip


@cache
def load_registry(path: Path) -> Registry:
    data = read_toml(path)
    unknown = set(data) - {"portal", "unit"}
    if unknown:
        raise ProfileError(path, sorted(unknown)[0], "unknown table; known: [[portal]], [[unit]]")
    reg = Registry(path=str(path))
    for i, entry in enumerate(data.get("portal", [])):
        where = f"portal[{i}]"
        _check(path, where, entry, PORTAL_KEYS, ("slug", "name", "province", "base_url", "sources"))
        slug = entry["slug"]
        if not _SLUG.match(slug):
            raise ProfileError(path, f"{where}.slug", f"not a slug: {slug!r}")
        if slug in reg.portals:
            raise ProfileError(path, f"{where}.slug", f"duplicate slug {slug!r}")
        if not valid_origin(entry["base_url"].rstrip("/")):
            raise ProfileError(path, f"{where}.base_url", f"not an http(s) origin: {entry['base_url']!r}")
        if new_unit_of(entry["province"]) is None:
            raise ProfileError(path, f"{where}.province", f"not one of the 63 old provinces: {entry['province']!r}")
        extra = {k: entry[k] for k in ("unit", "domains", "enabled", "notes", "sources", "status") if k in entry}
        reg.portals[slug] = discovery_profile(slug, entry["name"], entry["province"], entry["base_url"], str(path),
                                              **extra)  # fmt: skip
    for i, entry in enumerate(data.get("unit", [])):
        where = f"unit[{i}]"
        _check(path, where, entry, UNIT_KEYS, ("name", "old_provinces", "portal", "confirmed", "sources"))
        if entry["portal"] not in reg.portals:
            raise ProfileError(path, f"{where}.portal", f"no [[portal]] with slug {entry['portal']!r}")
        reg.units.append(Unit(entry["name"], tuple(entry["old_provinces"]), entry["portal"], entry["confirmed"],
                              entry["sources"]))  # fmt: skip
    return reg


def units() -> list[Unit]:
    from archiver.profiles import registry_path

    path = registry_path()
    return load_registry(path).units if path is not None else []


def of_province(name: str, known: dict[str, Profile]) -> list[Profile]:
    """The portals of an old province, or of every old province of a new unit: "Cần Thơ" gives
    those of Cần Thơ, Sóc Trăng and Hậu Giang (the unit thành phố Cần Thơ)."""
    unit = new_unit_of(name)
    if unit is None:
        return []
    olds = {_key(p) for p in known_olds(unit)}
    as_old = _key(name)
    # An old province merged into a unit: "Hậu Giang" means Hậu Giang only, unless it names the unit.
    if as_old in olds and _key(unit) != as_old:
        olds = {as_old}
    return [p for p in known.values() if _key(p.province) in olds]


def known_olds(unit: str) -> list[str]:
    from archiver.provinces import MERGERS, UNCHANGED

    if unit in MERGERS:
        return list(MERGERS[unit])
    return [old for old, new in UNCHANGED.items() if new == unit]


def slug_for_host(url: str) -> str:
    """``http://127.0.0.1:8123/`` -> ``127-0-0-1-8123``; ``https://www.soctrang.gov.vn`` ->
    ``soctrang-gov-vn``."""
    netloc = urlsplit(url).netloc.lower()
    host = netloc[4:] if netloc.startswith("www.") else netloc
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:63] or "portal"


def profile_for_address(url: str, known: dict[str, Profile]) -> Profile:
    """The portal at ``url``: a known one that owns the host, else a discovery profile."""
    for profile in known.values():
        try:
            if profile.owns(url):
                return profile
        except ValueError:
            continue
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    start = parts.path or "/"
    prof = discovery_profile(slug_for_host(url), parts.netloc, "", origin, "")
    if start != "/":
        prof.keys["start_urls"] = [start]
        return Profile(prof.slug, prof.family, prof.name, prof.province, prof.base_url, (start,), prof.keys)
    return prof
