"""Learn a portal profile from a sample of the site (``archiver profile new``). Pure: pages in,
profile text out.

* **Templates**: the sample's article pages are grouped by URL shape; each shape with at least
  ``MIN_SAMPLES`` pages is a ``[[templates]]`` entry with its own selectors (a portal running
  several designs at once needs no CSS unions).
* **Article selectors** that agree with the generic extractor: for each field the element that
  prints what the generic extractor found (the title, the date line, the view count, the body
  that holds its paragraphs) gives candidate selectors; the candidate that finds the same value
  on the most pages of the template is kept if it agrees on at least ``AGREE`` of them. A field
  no selector agrees on is left to the generic path and listed (``Learned.disagreeing``).
* **Listing selectors**: the main list's links and the pagination links of the sample's listing
  pages, as CSS; start URLs are the first pages of the listings found; the article pattern is
  the union of the templates' patterns.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from bs4 import BeautifulSoup

from archiver.discover.pages import NEXT_WORDS, analyse, shape
from archiver.extract.generic import generic
from archiver.extract.html import element_text, select_one
from archiver.normalize import clean_text, parse_datetime, parse_views

MIN_SAMPLES = 3
AGREE = 0.8
FIELDS = ("title", "date", "views", "body")
_WORD = re.compile(r"\w+")


@dataclass
class Sample:
    url: str
    html: str
    kind: str  # "article", "listing" or "start" (a listing's first page)


@dataclass
class Learned:
    toml: str
    templates: dict[str, dict[str, str]] = field(default_factory=dict)  # pattern -> field -> selector
    disagreeing: dict[str, list[str]] = field(default_factory=dict)  # pattern -> fields left to the generic path
    agreement: dict[str, dict[str, float]] = field(default_factory=dict)
    fixtures: list[tuple[Sample, dict[str, Any]]] = field(default_factory=list)  # (page, expected record)


def shape_pattern(s: str) -> str:
    """A URL shape as an RE2 pattern over path+query."""
    path, _, query = s.partition("?")
    rx = re.escape(path).replace(re.escape("{slug}"), "[^/?]+").replace(re.escape("{n}"), r"\d+")
    if query:
        params = [p.split("=", 1)[0] for p in query.split("&")]
        rx += r"\?" + "".join(f"(?:.*&)?{re.escape(k)}=[^&]*" for k in params[:1]) + ".*"
    return f"^{rx}$" if not query else f"^{rx}"


def words_f1(a: str, b: str) -> float:
    x, y = Counter(_WORD.findall(a.lower())), Counter(_WORD.findall(b.lower()))
    common = sum((x & y).values())
    return 0.0 if not common else 2 * common / (sum(x.values()) + sum(y.values()))


def _css(el: Any) -> list[str]:
    """Candidate selectors for an lxml element, most specific first."""
    tag = el.tag
    out = []
    if el.get("id") and not re.search(r"\d{3,}", el.get("id")):
        out.append(f"#{el.get('id')}")
    classes = [c for c in (el.get("class") or "").split() if re.match(r"^[A-Za-z_][\w-]*$", c) and not re.search(r"\d", c)]
    if classes:
        out.append(f"{tag}.{'.'.join(classes[:2])}")
    parent = el.getparent()
    if parent is not None and isinstance(parent.tag, str):
        pclasses = [c for c in (parent.get("class") or "").split() if re.match(r"^[A-Za-z_][\w-]*$", c)]
        if parent.get("id") and not re.search(r"\d{3,}", parent.get("id")):
            out.append(f"#{parent.get('id')} > {tag}")
        if pclasses:
            out.append(f"{parent.tag}.{pclasses[0]} > {tag}")
    return out


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _candidates(tree: Any, g: Any) -> dict[str, list[str]]:
    """Selectors of the elements that print what the generic extractor found on this page."""
    out: dict[str, list[str]] = {f: [] for f in FIELDS}
    title = _norm(g.title or "")
    date_raw = _norm(g.published_raw or "")
    views_raw = _norm(g.views_raw or "")
    body = [_norm(line) for line in g.lines if len(line) > 40]
    best_body: tuple[int, int, Any] = (0, 0, None)
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body", "head", "script", "style"):
            continue
        text = _norm(el.text_content())
        if not text:
            continue
        if title and text == title:
            out["title"] += _css(el)
        if date_raw and date_raw in text and len(text) < len(date_raw) + 60:
            out["date"] += _css(el)
        if views_raw and views_raw in text and len(text) < len(views_raw) + 60:
            out["views"] += _css(el)
        if body and el.tag in ("div", "td", "article", "section", "main"):
            covered = sum(1 for b in body if b[:80] in text)
            if covered > best_body[0] or (covered == best_body[0] and covered and len(text) < best_body[1]):
                best_body = (covered, len(text), el)
    if best_body[2] is not None and best_body[0] >= max(1, len(body) // 2):
        out["body"] += _css(best_body[2])
    return out


def _agrees(fld: str, soup: BeautifulSoup, selector: str, g: Any) -> bool:
    el = select_one(soup, selector)
    text = element_text(el)
    if not text:
        return False
    if fld == "title":
        return clean_text(text) == clean_text(g.title or "")
    if fld == "date":
        value = parse_datetime(text)
        return value is not None and g.published is not None and str(value)[:16] == str(g.published)[:16]
    if fld == "views":
        return parse_views(text) is not None and parse_views(text) == g.views
    return words_f1(el.get_text(" ") if el is not None else "", "\n".join(g.lines)) >= 0.9


def learn(samples: list[Sample], *, slug: str, name: str, base_url: str, province: str = "") -> Learned:
    articles = [s for s in samples if s.kind == "article"]
    listings = [s for s in samples if s.kind in ("listing", "start")]
    by_shape: dict[str, list[Sample]] = {}
    for s in articles:
        by_shape.setdefault(shape(s.url), []).append(s)
    learned = Learned(toml="")
    templates = []
    for shp, pages in sorted(by_shape.items(), key=lambda kv: -len(kv[1])):
        if len(pages) < MIN_SAMPLES:
            continue
        pattern = shape_pattern(shp)
        parsed = []
        for s in pages:
            tree = lxml.html.document_fromstring(s.html)
            g = generic(s.html, s.url, tree=lxml.html.document_fromstring(s.html))
            parsed.append((s, tree, BeautifulSoup(s.html, "lxml"), g))
            learned.fixtures.append((s, {"title": g.title, "published": str(g.published) if g.published else None,
                                         "views": g.views, "body_text": "\n\n".join(g.lines)}))  # fmt: skip
        chosen: dict[str, str] = {}
        scores: dict[str, float] = {}
        missing = []
        for fld in FIELDS:
            cands = Counter(c for _, tree, _, g in parsed for c in dict.fromkeys(_candidates(tree, g)[fld]))
            having = [p for p in parsed if _value_of(fld, p[3])]
            best, best_score = None, 0.0
            for cand, _ in cands.most_common(8):
                score = sum(_agrees(fld, soup, cand, g) for _, _, soup, g in having) / max(1, len(having))
                if score > best_score:
                    best, best_score = cand, score
            if best is not None and best_score >= AGREE and having:
                chosen[fld] = best
                scores[fld] = round(best_score, 3)
            else:
                missing.append(fld)
        learned.templates[pattern] = chosen
        learned.disagreeing[pattern] = missing
        learned.agreement[pattern] = scores
        templates.append((pattern, chosen, len(pages)))
    # Listings: the main list's links and the pagination, as CSS.
    link_sel: Counter[str] = Counter()
    next_sel: Counter[str] = Counter()
    starts = []
    for s in listings:
        page = analyse(s.html, s.url)
        if page.groups:
            link_sel[_group_css(page.groups[0][0].group)] += 1
        for link in page.links:
            text = link.text.strip().lower()
            if link.url in page.pagination and (text.strip("[]()").isdigit() or text in NEXT_WORDS):
                next_sel[_group_css(link.group)] += 1
        if s.kind == "start":
            starts.append(urlsplit(s.url).path + ("?" + urlsplit(s.url).query if urlsplit(s.url).query else ""))
    lines = [f"# Learned by `archiver profile new` from {len(articles)} article and {len(listings)} listing pages of",
             f"# {base_url}; selectors agree with the generic extractor on the share of the sample given per",
             "# template. Review it, then run `archiver profile check " + slug + "`.",
             f"name = {json.dumps(name, ensure_ascii=False)}", f"province = {json.dumps(province, ensure_ascii=False)}",
             f'base_url = "{base_url}"', f"start_urls = {json.dumps(sorted(set(starts)) or ['/'], ensure_ascii=False)}",
             "", "[listing]", f"article_links = {json.dumps(', '.join(s for s, _ in link_sel.most_common()) or 'a')}"]  # fmt: skip
    if next_sel:
        lines.append(f"next_page = {json.dumps(', '.join(s for s, _ in next_sel.most_common()))}")
    lines += ["", "[urls]", f"article_pattern = {_toml_str('|'.join(p for p, _, _ in templates) or '.')}", ""]
    for pattern, chosen, n in templates:
        agree = learned.agreement[pattern]
        note = ", ".join(f"{f} {agree[f]:.0%}" for f in chosen)
        left = learned.disagreeing[pattern]
        lines += [f"# {n} sample pages; agreement: {note or 'none'}" + (f"; left to the generic path: {', '.join(left)}"
                                                                       if left else ""),  # fmt: skip
                  "[[templates]]", f"pattern = {_toml_str(pattern)}"]
        lines += [f"{fld} = {json.dumps(sel)}" for fld, sel in chosen.items()]
        lines.append("")
    learned.toml = "\n".join(lines)
    return learned


def _value_of(fld: str, g: Any) -> Any:
    return {"title": g.title, "date": g.published, "views": g.views, "body": g.lines}[fld]


def _toml_str(s: str) -> str:
    return f"'{s}'" if "'" not in s and "\n" not in s else json.dumps(s)


def _group_css(signature: str) -> str:
    """A link group's tag-and-class path as a CSS selector (its last three steps)."""
    steps = signature.split(">")[-3:]
    out = []
    for step in steps:
        tag, _, classes = step.partition(".")
        first = [c for c in classes.split() if re.match(r"^[A-Za-z_][\w-]*$", c)][:1]
        if first and first[0].endswith(("-", "_")):  # "item-3" with its digits dropped
            out.append(f'{tag}[class*="{first[0]}"]')
        else:
            out.append(f"{tag}.{first[0]}" if first else tag)
    return " ".join(out)
