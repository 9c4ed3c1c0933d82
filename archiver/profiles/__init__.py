"""What to look for: declarative portal profiles, reviewed like code.

``families/<cms>.toml`` holds the selectors of one CMS family; ``portals/<slug>.toml`` names one
portal (name, province, start URLs) and ``extends`` a family, overriding only what differs. The
slug of a portal is its file's name and its key in the archive.

Every key is checked when the file is loaded: a missing or unknown key raises ``ProfileError``
naming the file and the key. The keys are documented in ``KEYS`` below and in the README
(``tests/test_docs.py`` checks that every key is).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import re2
import soupsieve

from archiver.exceptions import ProfileError, UnknownPortal
from archiver.provinces import new_unit_of

HERE = Path(__file__).parent
FAMILIES_DIR = HERE / "families"
PORTALS_DIR = HERE / "portals"
REGISTRY_FILE = HERE / "registry.toml"

# key -> (type, description). "section.key" for keys inside a table.
KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    # portal files
    "name": (str, "Human name of the portal or family."),
    "province": (str, "Old province (before the 1 July 2025 merger) the portal belongs to."),
    "extends": (str, "The CMS family this portal uses (a file name in families/)."),
    "base_url": (str, "Canonical origin of the portal; stored URLs are rewritten onto it."),
    "start_urls": (list, "Listing pages where the crawl starts, absolute or relative to base_url."),
    "domains": (list, "Hosts that belong to the portal besides base_url's host."),
    "allow_subdomains": (bool, "Follow links to subdomains of the portal's hosts."),
    "allow_private": (bool, "Allow hosts on private or loopback addresses (a local mirror)."),
    "enabled": (bool, "Whether `archiver crawl --all` includes the portal (default true)."),
    "unit": (str, "Administrative level: province, department, district or commune."),
    "notes": (str, "Free text for maintainers."),
    "status": (str, "`gone`: the portal is known to be gone; `archiver crawl` takes it from the Wayback Machine."),
    # family detection
    "detect.markers": (list, "Regular expressions; a page matching all is of this family."),
    # listing pages
    "listing.article_links": (str, "CSS selector of the article links on a listing page."),
    "listing.next_page": (str, "CSS selector of the links to further listing pages."),
    "listing.category": (str, "CSS selector of the listing's category name."),
    # article pages
    "article.title": (str, "CSS selector of the title."),
    "article.category": (str, "CSS selector of the category (breadcrumb)."),
    "article.date": (str, "CSS selector of the element that prints the publication date."),
    "article.views": (str, "CSS selector of the element that prints the view count."),
    "article.author": (str, "CSS selector of a byline field, if the CMS has one."),
    "article.source": (str, "CSS selector of a source field, if the CMS has one."),
    "article.lead": (str, "CSS selector of the lead (sapo), if printed apart from the body."),
    "article.body": (str, "CSS selector of the article body."),
    "article.remove": (list, "CSS selectors removed from the body (toolbars, related lists)."),
    "article.stop_markers": (list, "Texts where the body ends (comment or related headings)."),
    "article.not_found_markers": (list, "Texts that mark an error page served with 200 OK."),
    "article.attachments": (str, "CSS selector of the attachment block outside the body (\"File đính kèm\")."),
    "attachment_hosts": (list, "Hosts besides the portal's own whose documents are fetched (the province's document system)."),
    # URLs
    "urls.article_pattern": (str, "Regular expression an article URL's path+query matches."),
    "urls.keep_params": (list, "Query parameters that identify an article; all others dropped."),
    "urls.drop_params": (list, "Extra query parameters to drop (tracking, navigation)."),
    # selector sets per URL pattern: a portal running several templates at once
    "templates": (list, "[[templates]]: article selectors for the pages whose path+query matches `pattern`."),
}
# Keys of one [[templates]] table (each but `pattern` is an article.* key of the same meaning).
TEMPLATE_KEYS = ("pattern", "title", "category", "date", "views", "author", "source", "lead", "body", "remove")
SECTIONS = {k.split(".")[0] for k in KEYS if "." in k}
PORTAL_REQUIRED = ("name", "province", "base_url", "start_urls")
FAMILY_REQUIRED = ("name", "article.title", "article.body", "listing.article_links")
REGEX_KEYS = ("detect.markers", "urls.article_pattern")
SELECTOR_KEYS = tuple(k for k in KEYS if k.split(".")[0] in ("listing", "article") and not k.endswith("_markers"))


def _flatten(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise ProfileError(path, key, f"unknown section; known: {', '.join(sorted(SECTIONS))}")
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    for key, value in flat.items():
        if key not in KEYS:
            raise ProfileError(path, key, "unknown key (see the profile keys in README.md)")
        typ = KEYS[key][0]
        if not isinstance(value, typ):
            raise ProfileError(path, key, f"expected {getattr(typ, '__name__', typ)}, got {type(value).__name__}")
        if key == "templates":
            flat[key] = _templates(path, list(value))  # type: ignore[call-overload]
        elif isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ProfileError(path, key, "expected a list of strings")
    for key in REGEX_KEYS:
        values = flat.get(key)
        for v in [values] if isinstance(values, str) else values or []:
            compile_pattern(v, path, key)
    for key in SELECTOR_KEYS:
        values = flat.get(key)
        for v in [values] if isinstance(values, str) else values or []:
            try:
                soupsieve.compile(v)
            except Exception as exc:  # soupsieve raises SelectorSyntaxError, and others on odd input
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ProfileError(path, key, f"bad CSS selector {v!r}: {first}") from None
    return flat


def _templates(path: Path, value: list[Any]) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(value):
        where = f"templates[{i}]"
        if not isinstance(t, dict):
            raise ProfileError(path, where, "expected a table ([[templates]])")
        if "pattern" not in t:
            raise ProfileError(path, f"{where}.pattern", "missing required key")
        keys: dict[str, Any] = {"pattern": t["pattern"]}
        for k, v in t.items():
            if k not in TEMPLATE_KEYS:
                raise ProfileError(path, f"{where}.{k}", f"unknown key; known: {', '.join(TEMPLATE_KEYS)}")
            if k == "remove":
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise ProfileError(path, f"{where}.{k}", "expected a list of strings")
            elif not isinstance(v, str):
                raise ProfileError(path, f"{where}.{k}", f"expected str, got {type(v).__name__}")
            if k == "pattern":
                compile_pattern(v, path, f"{where}.pattern")
                continue
            for sel in v if isinstance(v, list) else [v]:
                try:
                    soupsieve.compile(sel)
                except Exception as exc:  # noqa: BLE001 - soupsieve's errors, named in one line
                    raise ProfileError(path, f"{where}.{k}", f"bad CSS selector {sel!r}: {str(exc).splitlines()[0]}") from None
            keys[f"article.{k}" if k != "date" else "article.date"] = v
        out.append(keys)
    return out


def compile_pattern(pattern: str, path: object = "<profile>", key: str = "") -> Any:
    r"""A profile's regular expression, compiled with RE2: matching takes time linear in the text,
    so no pattern (``([\w-]+)+`` on a long slug) can hang a crawl. RE2 has no look-around and no
    back-references; a pattern that needs them is refused here, naming the file and key."""
    try:
        return re2.compile(pattern)
    except Exception as exc:  # re2.error, and TypeError on odd input
        raise ProfileError(path, key, f"bad regular expression {pattern!r} (profiles use RE2 syntax: "
                                      f"no look-around, no back-references): {exc}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file, or ``ProfileError`` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(path, None, f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, None, f"cannot read: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    return _flatten(path, read_toml(path))


@dataclass(frozen=True)
class Profile:
    """A portal profile merged over its family: everything the extractors and spider need."""

    slug: str
    family: str
    name: str
    province: str
    base_url: str
    start_urls: tuple[str, ...]
    keys: dict[str, Any] = field(hash=False, compare=False)
    path: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.keys.get(key, default)

    def for_url(self, url: str) -> Profile:
        """The profile with the selector set of the first ``[[templates]]`` entry whose pattern
        matches the URL's path and query (the profile itself when none does)."""
        templates = self.keys.get("templates")
        if not templates:
            return self
        parts = urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        for i, t in enumerate(templates):
            if compiled(t["pattern"]).search(target):
                return _with_template(self, i)
        return self

    @property
    def discovered(self) -> bool:
        """No listing selectors: the portal is crawled by discovery."""
        return not self.get("listing.article_links")

    @property
    def new_unit(self) -> str | None:
        """The provincial unit the old province belongs to since 1 July 2025."""
        return new_unit_of(self.province)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts (with port when not default) that belong to the portal."""
        own = urlsplit(self.base_url).netloc.lower()
        return (own, *[d.lower() for d in self.get("domains", [])])

    @property
    def enabled(self) -> bool:
        return bool(self.get("enabled", True))

    def owns(self, url: str) -> bool:
        host = urlsplit(url).netloc.lower()
        bare = host[4:] if host.startswith("www.") else host
        for h in self.hosts:
            hb = h[4:] if h.startswith("www.") else h
            if bare == hb or (self.get("allow_subdomains") and bare.endswith("." + hb)):
                return True
        return False


@dataclass(frozen=True)
class Family:
    slug: str
    keys: dict[str, Any] = field(hash=False, compare=False)
    path: str = ""

    def as_profile(self) -> Profile:
        """The family alone, for pages of an unknown portal of this CMS."""
        return Profile(self.slug, self.slug, self.keys["name"], "", "", (), dict(self.keys), self.path)


_TEMPLATE_CACHE: dict[tuple[int, int], Profile] = {}


def _with_template(profile: Profile, index: int) -> Profile:
    key = (id(profile), index)
    if key not in _TEMPLATE_CACHE:
        t = {k: v for k, v in profile.keys["templates"][index].items() if k != "pattern"}
        keys = {**{k: v for k, v in profile.keys.items() if k != "templates"}, **t}
        _TEMPLATE_CACHE[key] = Profile(profile.slug, profile.family, profile.name, profile.province, profile.base_url,
                                       profile.start_urls, keys, profile.path)  # fmt: skip
    return _TEMPLATE_CACHE[key]


def load_family(path: Path) -> Family:
    keys = _read(path)
    for req in FAMILY_REQUIRED:
        if req not in keys:
            raise ProfileError(path, req, "missing required key")
    return Family(path.stem, keys, str(path))


@cache
def families(directory: Path = FAMILIES_DIR) -> dict[str, Family]:
    return {p.stem: load_family(p) for p in sorted(directory.glob("*.toml"))}


def valid_origin(url: str) -> bool:
    """Whether ``url`` is an http(s) origin urllib can take apart (``http://[::1`` is not)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)


def load_portal(path: Path, family_map: dict[str, Family] | None = None) -> Profile:
    keys = _read(path)
    for req in PORTAL_REQUIRED:
        if req not in keys:
            raise ProfileError(path, req, "missing required key")
    fams = family_map if family_map is not None else families()
    fam: Family | None
    if "extends" not in keys:
        # A profile of its own (written by `archiver profile new`): it needs the family's keys.
        if "listing.article_links" not in keys:
            raise ProfileError(path, "extends", "missing: name a family, or give listing.article_links yourself")
        fam = Family("learned", {}, "")
    else:
        fam = fams.get(keys["extends"])
    if fam is None:
        raise ProfileError(path, "extends", f"unknown family {keys['extends']!r}; known: {', '.join(fams)}")
    base = keys["base_url"].rstrip("/")
    if not valid_origin(base):
        raise ProfileError(path, "base_url", f"not an http(s) origin: {base!r}")
    for domain in keys.get("domains", []):
        if not valid_origin(f"http://{domain}"):
            raise ProfileError(path, "domains", f"not a host name: {domain!r}")
    if not keys["start_urls"]:
        raise ProfileError(path, "start_urls", "empty list")
    merged = {**fam.keys, **keys}
    return Profile(
        slug=path.stem,
        family=fam.slug,
        name=keys["name"],
        province=keys["province"],
        base_url=base,
        start_urls=tuple(keys["start_urls"]),
        keys=merged,
        path=str(path),
    )


def portals(directory: Path | None = None) -> dict[str, Profile]:
    """Every portal, by slug: the registry's entries (crawled by discovery) overlaid by the
    hand-written profiles. Raises ``ProfileError`` on the first bad file.

    Profiles are read from ``archiver/profiles/portals``, or ``$ARCHIVER_PORTALS_DIR`` when set
    (an operator's own profiles; the tests' portals on 127.0.0.1); the registry from
    ``archiver/profiles/registry.toml``, or ``$ARCHIVER_REGISTRY`` (``none``: no registry)."""
    return _portals(directory or Path(os.environ.get("ARCHIVER_PORTALS_DIR") or PORTALS_DIR), registry_path())


def registry_path() -> Path | None:
    configured = os.environ.get("ARCHIVER_REGISTRY")
    if configured is None or configured == "":
        return REGISTRY_FILE
    return None if configured.lower() == "none" else Path(configured)


@cache
def _portals(directory: Path, registry_file: Path | None = None) -> dict[str, Profile]:
    from archiver.registry import load_registry

    found = dict(load_registry(registry_file).portals) if registry_file is not None else {}
    for p in sorted(directory.glob("*.toml")):
        found[p.stem] = load_portal(p)
    return found


def get_portal(slug: str) -> Profile:
    known = portals()
    if slug not in known:
        raise UnknownPortal(slug, sorted(known))
    return known[slug]


def profile_for_url(url: str) -> Profile | None:
    """The portal profile whose hosts include the URL's host."""
    for profile in portals().values():
        if profile.owns(url):
            return profile
    return None


@cache
def compiled(pattern: str) -> Any:
    """A profile pattern compiled once (RE2)."""
    return compile_pattern(pattern)


# A family is recognised when at least this share of its markers occur in the page.
DETECT_THRESHOLD = 0.6


@cache
def _marker_set(directory: Path = FAMILIES_DIR) -> tuple[Any, list[tuple[str, int]]]:
    """Every family's markers in one RE2 set: one pass over the page finds them all."""
    marker_set = re2.Set.SearchSet()
    owners: list[tuple[str, int]] = []
    for slug, fam in families(directory).items():
        for m in fam.keys.get("detect.markers") or []:
            marker_set.Add(m)
            owners.append((slug, len(fam.keys.get("detect.markers") or [])))
    marker_set.Compile()
    return marker_set, owners


def detect_family_scored(html: str) -> tuple[Profile | None, float]:
    """The CMS family that best matches the page, by the share of its detection markers found
    (a page of a portal that changed one template still matches); (None, best score) below
    ``DETECT_THRESHOLD``."""
    marker_set, owners = _marker_set()
    hits: dict[str, int] = {}
    for index in marker_set.Match(html) or []:
        hits[owners[index][0]] = hits.get(owners[index][0], 0) + 1
    best, best_score = None, 0.0
    for fam in families().values():
        markers = fam.keys.get("detect.markers") or []
        if not markers:
            continue
        score = hits.get(fam.slug, 0) / len(markers)
        if score > best_score or (score == best_score and best is not None and len(markers) > len(
                best.keys.get("detect.markers") or [])):  # fmt: skip
            best, best_score = fam, score
    if best is None or best_score < DETECT_THRESHOLD:
        return None, best_score
    return best.as_profile(), best_score


def detect_family(html: str) -> Profile | None:
    """The CMS family recognised in the page (see ``detect_family_scored``)."""
    return detect_family_scored(html)[0]
