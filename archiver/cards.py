"""Datasets that describe themselves: beside every export, a dataset card and a data package.

* ``<file>.card.json`` / ``<file>.card.md``: the dataset card. The Markdown card opens with the
  YAML header of a Hugging Face dataset card (licence, language ``vi``, size category, pretty
  name, tags) and has its sections: summary, structure (every field, its type and meaning, the
  primary key), sources and coverage, curation, personal information (bylines are names), known
  gaps (dates that could not be read, portals never walked completely, articles with no view
  count), licensing, and a citation in plain text and BibTeX.
* ``<file>.datapackage.json``: a Frictionless Data Package (Table Schema: types, formats, primary
  key, descriptions; the resource's path, format, media type, encoding, size and SHA-256; the
  portals as sources; the licence), which ``frictionless validate`` checks against the data.

Pure: built from the card's data (``dataset_card``) and the exported table's definition.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver import __version__
from archiver.store.datasets import Dataset
from archiver.store.queries import Filters, summary

MEDIA = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}
ENCODING = {"csv": "utf-8-sig", "jsonl": "utf-8"}  # CSV has a BOM (Excel shows Vietnamese right)
LICENCE = {
    "name": "LicenseRef-portal-terms",
    "title": "Texts and documents: their publishers' (the portals named in sources), reused under each portal's "
    "terms (most ask that the source be cited when the information is published again); the archive's own "
    "fields (ids, hashes, dates of "
    "observation, normalised forms): MIT, as the vn-portal-archiver software.",
}
PERSONAL = (
    "Bylines (`author`) are names of people: journalists, officials, sometimes citizens quoted in the news; "
    "article texts name officials and people in the news. Nothing else personal was collected: no "
    "comments, no accounts, no contact data beyond what the portals published. Keep the names as "
    "published; do not use them to profile individuals."
)
CURATION = (
    "Crawled from the news sections of Vietnamese provincial government portals (the old provinces "
    "before the 1 July 2025 merger, their departments and districts), or replayed from the Internet "
    "Archive's Wayback Machine for portals that are gone; every response kept in WARC files. Each "
    "article page is read by a portal profile or a generic extractor into title, category, date and "
    "time (Asia/Ho_Chi_Minh; an unreadable date is left empty with the printed string kept, never "
    "guessed), view count, byline, source and body; text is Unicode NFC, legacy encodings (TCVN3, "
    "VNI) repaired. Articles are deduplicated by canonical URL and content hash; a text that changes "
    "is a new revision, the old one kept; view counts are a series of observations."
)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                        (10_000_000, "1M<n<10M")):  # fmt: skip
        if n < limit:
            return name
    return "n>10M"


def dataset_card(conn: Any, fmt: str, path: Path, filters: Filters, fields: list[str], count: int,
                 ds: Dataset) -> dict[str, Any]:  # fmt: skip
    """What the cards and the package say, read in the export's snapshot."""
    info = summary(conn, filters)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    portals = info["portals"]
    first = (info["first_crawled"] or "")[:10]
    last = (info["last_crawled"] or "")[:10]
    published = [p["first_published"] for p in portals if p["first_published"]]
    published_last = [p["last_published"] for p in portals if p["last_published"]]
    key = re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_") or "export"
    title = "Vietnamese provincial government news (vn-portal-archiver export)"
    cite = (f"vn-portal-archiver (version {__version__}). Vietnamese provincial government news: {ds.title.lower()}, "
            f"{count} rows from {info['articles']} articles of {len(portals)} portal(s), crawled {first} to {last}; "
            f"exported {created[:10]} as {path.name}.")  # fmt: skip
    bibtex = "\n".join([
        f"@misc{{vnportal_{key}_{created[:4]},",
        f"  title = {{{{Vietnamese provincial government news: {ds.title}}}}},",
        "  author = {{vn-portal-archiver contributors}},",
        f"  year = {{{created[:4]}}},",
        f"  howpublished = {{Dataset {path.name}, exported {created[:10]} from a vn-portal-archiver archive}},",
        f"  note = {{{count} rows, {info['articles']} articles of {len(portals)} portal(s) "
        f"({', '.join(p['slug'] for p in portals[:20])}{', ...' if len(portals) > 20 else ''}), crawled {first} to "
        f"{last}; software version {__version__}}},",
        "}",
    ])  # fmt: skip
    return {
        "title": title,
        "file": path.name,
        "format": fmt,
        "what": ds.name,
        "table": ds.title,
        "created": created,
        "rows": count,
        "articles": count if ds.name == "articles" else info["articles"],
        "filter": filters.describe() or "none (whole archive)",
        "fields": {f: ds.field(f).description for f in fields},
        "types": {f: ds.field(f).type for f in fields},
        "primary_key": [k for k in ds.key if k in fields],
        "sources": portals,
        "provinces": sorted({p["province"] for p in portals if p["province"]}),
        "new_units": sorted({p["new_unit"] for p in portals if p["new_unit"]}),
        "crawled": {"first": info["first_crawled"], "last": info["last_crawled"]},
        "coverage": {"published_first": min(published, default=None), "published_last": max(published_last, default=None)},
        "known_gaps": {
            "articles_without_date": sum(p["undated"] for p in portals),
            "articles_without_views": sum(p["without_views"] for p in portals),
            "portals_never_walked_completely": [p["slug"] for p in portals if not p["complete_walk"]],
        },
        "language": "vi",
        "size_category": _size_category(count),
        "curation": CURATION,
        "personal_information": PERSONAL,
        "licence": LICENCE,
        "licence_note": "Texts are public announcements of Vietnamese government portals; cite the portal and the "
        "URL of each article.",
        "archiver_version": __version__,
        "how_to_cite": cite,
        "bibtex": bibtex,
    }  # fmt: skip


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML string


def write_card(card: dict[str, Any], path: Path) -> None:
    """``<path>.card.json`` and ``<path>.card.md`` beside the data file ``path``."""
    base = path.with_name(path.name + ".card")
    Path(f"{base}.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    gaps = card["known_gaps"]
    lines = [
        "---",
        "license: other",
        f"license_name: {_yaml_str(card['licence']['name'])}",
        f"license_link: {_yaml_str(card['file'] + '.card.md')}",
        "language:",
        "- vi",
        f"pretty_name: {_yaml_str(card['title'] + ' — ' + card['table'])}",
        "size_categories:",
        f"- {card['size_category']}",
        "task_categories:",
        "- text-classification",
        "- text-generation",
        "tags:",
        "- news",
        "- government",
        "- vietnam",
        "- web-archive",
        "---",
        "",
        f"# {card['title']}",
        "",
        "## Dataset summary",
        "",
        f"File `{card['file']}` ({card['format']}): {card['table'].lower()}, {card['rows']} rows "
        f"({card['articles']} articles), exported {card['created']} by vn-portal-archiver {card['archiver_version']}.",
        "Language: Vietnamese (`vi`).",
        "",
        "Filter: " + f"`{json.dumps(card['filter'], ensure_ascii=False)}`",
        "",
        "## Dataset structure",
        "",
        "Primary key: " + (", ".join(f"`{k}`" for k in card["primary_key"]) or "none (its fields were not exported)") + ".",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
        *[f"| `{k}` | {card['types'][k]} | {v} |" for k, v in card["fields"].items()],
        "",
        f"A data package describing this table for tools (Frictionless): `{card['file']}.datapackage.json` "
        f"(`frictionless validate {card['file']}.datapackage.json`).",
        "",
        "## Source data and coverage",
        "",
        "| portal | name | province | unit since 1 July 2025 | articles | published | crawled | walked completely |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for p in card["sources"]:
        lines.append(
            f"| {p['slug']} | {p['name']} | {p['province']} | {p['new_unit'] or ''} | {p['articles']} | "
            f"{p['first_published'] or '?'} – {p['last_published'] or '?'} | {(p['first_crawled'] or '')[:10]} – "
            f"{(p['last_crawled'] or '')[:10]} | {'yes' if p['complete_walk'] else 'no'} |"
        )
    cov = card["coverage"]
    lines += ["", f"Published {cov['published_first'] or '?'} to {cov['published_last'] or '?'}; provinces: "
              f"{', '.join(card['provinces']) or '?'} (since 1 July 2025: {', '.join(card['new_units']) or '?'})."]  # fmt: skip
    if card.get("sha256"):
        lines += ["", f"SHA-256 of `{card['file']}`: `{card['sha256']}` ({card['bytes']} bytes)."]
    if "csv_formula_guard" in card:
        lines += ["", "Cells a spreadsheet would run as formulas (`=`, `+`, `-`, `@`) are prefixed with `'`."
                  if card["csv_formula_guard"] else "Cells are as stored: no formula guard (`--no-csv-guard`); "
                  "do not open this file in a spreadsheet."]  # fmt: skip
    never = gaps["portals_never_walked_completely"]
    lines += [
        "",
        "## Curation",
        "",
        card["curation"],
        "",
        "## Personal and sensitive information",
        "",
        card["personal_information"],
        "",
        "## Known gaps",
        "",
        f"- {gaps['articles_without_date']} of the {card['articles']} articles have no date (the page printed none, "
        "or none that could be read without guessing: `published` is empty, `published_raw` keeps what was printed).",
        f"- {gaps['articles_without_views']} articles show no view count.",
        "- " + (f"Portals never walked completely (a budget, a failure or an interruption ended every crawl; the "
                f"archive may miss some of their articles): {', '.join(never)}." if never
                else "Every portal was walked completely at least once."),
        "",
        "## Licensing",
        "",
        card["licence"]["title"],
        "",
        "## Citation",
        "",
        card["how_to_cite"],
        "",
        "```bibtex",
        card["bibtex"],
        "```",
        "",
    ]  # fmt: skip
    Path(f"{base}.md").write_text("\n".join(lines), encoding="utf-8")


def write_package(card: dict[str, Any], ds: Dataset, path: Path) -> None:
    """``<path>.datapackage.json``: the Frictionless Data Package of the data file ``path``."""
    fmt = card["format"]
    fields = []
    for name, kind in card["types"].items():
        field: dict[str, Any] = {"name": name, "type": kind, "description": card["fields"][name]}
        if name in card["primary_key"]:
            field["constraints"] = {"required": True}
        fields.append(field)
    resource: dict[str, Any] = {
        "name": ds.name,
        "path": card["file"],
        "profile": "tabular-data-resource",
        "title": ds.title,
        "format": fmt,
        "mediatype": MEDIA[fmt],
        "bytes": card["bytes"],
        "hash": f"sha256:{card['sha256']}",
        "schema": {"fields": fields, **({"primaryKey": card["primary_key"]} if card["primary_key"] else {})},
    }
    if fmt in ENCODING:
        resource["encoding"] = ENCODING[fmt]
    if fmt == "csv":
        resource["dialect"] = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
    name = re.sub(r"[^a-z0-9._-]+", "-", f"vn-portal-archive-{Path(card['file']).stem}".lower()).strip("-")
    package = {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"{card['title']}: {ds.title}",
        "description": f"{card['rows']} rows ({card['articles']} articles) of {len(card['sources'])} portal(s); "
        f"filter {json.dumps(card['filter'], ensure_ascii=False)}. See {card['file']}.card.md.",
        "created": card["created"],
        "version": card["archiver_version"],
        "keywords": ["Vietnam", "government", "news", "web archive", "vi"],
        "licenses": [card["licence"]],
        "sources": [{"title": p["name"], "path": p["base_url"]} for p in card["sources"] if p.get("base_url")],
        "contributors": [{"title": "vn-portal-archiver", "role": "author"}],
        "resources": [resource],
    }
    out = path.with_name(path.name + ".datapackage.json")
    out.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
