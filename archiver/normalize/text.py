"""Text cleaning for Vietnamese portal pages: small pure functions, idempotent, NFC out.

* ``clean_text``: NFC, ``Ð`` (U+00D0) typed for ``Đ``, zero-width and non-breaking spaces,
  runs of spaces; glued sentences repaired (``mới.Theo`` -> ``mới. Theo``) without touching
  decimals (``14.832,55``), abbreviations (``TP.HCM``, ``Th.S``) or URLs.
* ``clean_lines``: the same for a list of paragraphs, dropping empty ones and joining hard
  line breaks inside a sentence.
* ``fold``: lower case, no diacritics, ``đ`` -> ``d``: the key of the archive's search.
"""

from __future__ import annotations

import re
import unicodedata

from archiver.normalize.legacy import fix_legacy

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Abbreviations that end in a period and may be followed by a capital without a space.
_ABBREVIATIONS = {
    "tp", "th", "ths", "ts", "pgs", "gs", "bs", "ks", "cn", "tx", "tt", "q", "p", "h", "x",
    "ông", "bà", "st", "mr", "mrs", "dr", "no", "vs", "v.v", "tr", "đ", "ubnd", "www",
}  # fmt: skip
_GLUE = re.compile(r"(?<=[^\W_]|[%)”\"»])([.!?…]+|[;:])(?=[^\W\d_])")
_WORD_BEFORE = re.compile(r"([^\W_][\w.\-/:@]*)$")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fix_characters(text: str) -> str:
    """NFC, TCVN3/VNI mojibake converted, ``Ð`` -> ``Đ``, no zero-width characters, one space for
    any run of spaces."""
    text = fix_legacy(nfc(text).translate(_ZERO_WIDTH))
    # U+00D0 (Icelandic eth) is typed for U+0110 on Vietnamese pages; Vietnamese has no eth.
    text = text.replace("\u00d0", "\u0110")
    text = _SPACES.sub(" ", text)
    return text


def _repair(m: re.Match[str]) -> str:
    s = m.string
    punct = m.group(1)
    nxt = s[m.end() : m.end() + 2]
    # Only a capital followed by a lower-case letter starts a sentence ("Theo"), not "HCM".
    if len(nxt) < 2 or not (nxt[0].isupper() and nxt[1].islower()):
        return punct
    word = _WORD_BEFORE.search(s[max(0, m.start() - 60) : m.start()])
    before = word.group(1) if word else ""
    low = before.lower()
    if "://" in before or low.startswith("www") or "@" in before:
        return punct
    if punct == "." and (low in _ABBREVIATIONS or (len(before) <= 2 and before[:1].isupper())):
        return punct
    if punct == ":" and before.lower() in ("http", "https"):
        return punct
    return punct + " "


def repair_glued_sentences(text: str) -> str:
    """Insert the space lost between two sentences when markup was removed."""
    return _GLUE.sub(_repair, text)


def clean_text(text: str | None) -> str:
    """One line or paragraph of page text, cleaned. Idempotent; returns NFC."""
    if not text:
        return ""
    text = fix_characters(text)
    text = text.replace("\r", "\n")
    text = re.sub(r"\s*\n\s*", " ", text)
    text = repair_glued_sentences(text)
    return nfc(text.strip())


_SENTENCE_END = re.compile(r"[.!?…:;\"”)»]$")


def clean_lines(lines: list[str]) -> list[str]:
    """Paragraphs cleaned; a paragraph that stops mid-sentence and is followed by one starting in
    lower case (a hard line break inside a sentence) is joined to it."""
    out: list[str] = []
    for raw in lines:
        line = clean_text(raw)
        if not line:
            continue
        if out and not _SENTENCE_END.search(out[-1]) and line[:1].islower():
            out[-1] = out[-1] + " " + line
            continue
        out.append(line)
    return out


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        c = chr(cp)
        base = "".join(x for x in unicodedata.normalize("NFD", c) if not unicodedata.combining(x)).lower()
        if base != c:
            table[cp] = base
    for c in "đĐ\u00d0\u00f0":  # đ, Đ, and the eth typed for it
        table[ord(c)] = "d"
    for cp in range(0x300, 0x370):  # combining marks of decomposed input
        table[cp] = None
    return table


_FOLD = _fold_table()


def fold(text: str | None) -> str:
    """Lower case, no diacritics, ``đ`` -> ``d``: ``Đảng bộ`` -> ``dang bo``.

    One table lookup per character (the search index folds every article body). No legacy-encoding
    repair here: fold keys text that was cleaned when it was stored.
    """
    if not text:
        return ""
    return text.lower().translate(_FOLD)
