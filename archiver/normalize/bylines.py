"""Bylines and sources at the end (and start) of an article body.

``split_byline(paragraphs) -> (paragraphs, author, source)`` takes the body's paragraphs, removes
the credit lines it recognises at the end, and returns who wrote it and where it came from:

* prefixed credits: ``Tin và ảnh: …``, ``Tin, ảnh: …``, ``Thực hiện: …``, ``Tác giả: …``;
* sources: ``Nguồn: …``, ``(Theo …)``, ``… st (Nguồn …)`` (``st`` = collected elsewhere);
* a bare name on the last line (``Hồng Nguyên``), also after the end mark ``./.``, or glued to a
  following heading; initials (``T.H``); a name then a unit on two lines, or on one
  (``Hồ Hoàng Trung – Sở NN&PTNT``); an organisation; a standalone ``./.`` end mark is dropped;
* ``dateline_source(lead)``: ``CTTĐT - ``, ``(BTĐKT)-``, ``STO - `` at the start of the lead is
  a source tag, never an author.
"""

from __future__ import annotations

import re

_CREDIT = re.compile(
    r"^(?:tin\s*(?:và|,|-|&)\s*ảnh|bài\s*(?:và|,|-|&)\s*ảnh|tin|bài|ảnh|thực\s+hiện|tác\s+giả"
    r"|người\s+viết|nhóm\s+pv|pv|phóng\s+viên|biên\s+tập)\s*:\s*(?P<who>.+?)\.?$",
    re.I,
)
_SOURCE = re.compile(r"^(?:nguồn(?:\s+tin)?|theo)\s*:\s*(?P<src>.+?)\.?$", re.I)
_THEO = re.compile(r"^\(?\s*theo\s+(?P<src>[^()]+?)\s*\)?\.?$", re.I)
_ST = re.compile(
    r"^(?P<who>.+?)\s*\(?\b(?:st|sưu\s+tầm)\b\)?\s*(?:\(\s*(?:nguồn|theo)\s*:?\s*(?P<src>[^)]+)\))?\.?$", re.I
)
_END_MARK = re.compile(r"\s*\./\.\s*")
_ORG_START = re.compile(
    r"^(?:phòng|sở|ban|ubnd|ủy\s+ban|uỷ\s+ban|trung\s+tâm|văn\s+phòng|hội|báo|đài|công\s+an|"
    r"bộ\s+chỉ\s+huy|chi\s+cục|cục|trường|viện|bệnh\s+viện|huyện\s+ủy|tỉnh\s+ủy|thành\s+ủy|"
    r"mặt\s+trận|đoàn|liên\s+đoàn|cổng\s+thông\s+tin|bbt|ban\s+biên\s+tập|cttđt)\b",
    re.I,
)
_DATELINE = re.compile(
    r"^\s*(?P<tag>\(\s*[A-ZĐ][A-ZĐ0-9.\- ]{0,14}\)|[A-ZĐ][A-ZĐ0-9.]{1,11}(?:\s+[A-ZĐ][A-ZĐ0-9.]{1,11})?)"
    r"\s*[-–—]\s*"
)
_NAME_UNIT = re.compile(r"^(?P<who>[^–—\-]{2,40}?)\s+[-–—]\s+(?P<unit>[^–—]{2,80})$")
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ỸĐ][\w.]*|\(?[A-ZĐ][\w.]*\)?|và|st|&|-)$")


def _is_name(line: str) -> bool:
    """A short line of capitalised words with no sentence punctuation: ``Thanh Tâm``, ``T.H``."""
    if not line or len(line) > 60 or re.search(r"\d|[,;:!?\"“”]", line):
        return False
    words = line.rstrip(".").split()
    if not 1 <= len(words) <= 6:
        return False
    return all(_NAME_WORD.match(w) for w in words)


def _is_org(line: str) -> bool:
    return bool(_ORG_START.match(line)) and len(line) <= 90 and not line.endswith(".")


def _is_credit_line(line: str) -> tuple[str | None, str | None] | None:
    """(author, source) when ``line`` is a credit line, else ``None``."""
    line = line.strip()
    m = _CREDIT.match(line)
    if m:
        return m.group("who").strip(), None
    m = _SOURCE.match(line)
    if m:
        return None, m.group("src").strip()
    m = _THEO.match(line)
    if m and len(line) <= 80 and line.startswith(("(", "Theo", "theo")):
        return None, m.group("src").strip()
    m = _ST.match(line)
    if m and _is_name(m.group("who").strip()):
        src = m.group("src")
        return m.group("who").strip(), src.strip() if src else None
    if _is_name(line) or _is_org(line):
        return line.rstrip("."), None
    m = _NAME_UNIT.match(line)  # "Hồ Hoàng Trung – Sở NN&PTNT": a name credited with its unit
    if m and _is_name(m.group("who")) and (_is_org(m.group("unit")) or _is_name(m.group("unit"))):
        return line.rstrip("."), None
    return None


def split_byline(paragraphs: list[str]) -> tuple[list[str], str | None, str | None]:
    """Remove the trailing credit lines of a body; return (paragraphs, author, source)."""
    paras = list(paragraphs)
    author: str | None = None
    source: str | None = None
    # "… phát triển./. Hồng Nguyên": the end mark with the name after it in one paragraph.
    if paras:
        parts = _END_MARK.split(paras[-1])
        if len(parts) == 2 and parts[1] and _is_credit_line(parts[1]):
            paras[-1] = parts[0] + "./."
            paras.append(parts[1])
    while paras and _END_MARK.fullmatch(paras[-1]):  # the official end mark alone on its line
        paras.pop()
    names: list[str] = []
    for _ in range(3):
        if len(paras) < 2:
            break
        found = _is_credit_line(paras[-1])
        if found is None:
            break
        who, src = found
        if src and not source:
            source = src
        if who:
            names.insert(0, who)
        paras.pop()
    if names:
        author = ", ".join(names)
    return paras, author, source


def dateline_source(lead: str | None) -> str | None:
    """The source tag at the start of a lead: ``CTTĐT - Sáng ngày…`` -> ``CTTĐT``."""
    if not lead:
        return None
    m = _DATELINE.match(lead)
    if not m:
        return None
    return m.group("tag").strip("() ").strip()
