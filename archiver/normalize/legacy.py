"""Vietnamese typed in the legacy 8-bit encodings, shown through a Unicode font.

Before Unicode, Vietnamese was typed in fonts whose code points stood for Vietnamese letters:

* **TCVN3** (TCVN 5712:1993, the ".Vn" fonts of the ABC input method): one byte per letter with
  its marks, lower case only (capitals came from a second font with the same codes);
* **VNI** (VNI-Windows fonts): a base letter followed by a byte for its marks
  (``a`` + ``ù`` = ``á``, ``e`` + ``ä`` = ``ệ``), and single bytes for ``đ ơ ư ĩ ỉ ị ì í ỵ``.

Pasted into a Unicode CMS, such text reads as Latin-1 mojibake: ``Céng hoµ x· héi chñ nghÜa``
(TCVN3), ``Coäng hoøa xaõ hoäi chuû nghóa`` (VNI). ``fix_legacy(text)`` detects it and converts it
back. The tables below are written from the code charts of the two standards; no maintained
Python library does this. Detection is conservative: text is converted only when it shows legacy
letters and the conversion turns markedly more of its words into valid Vietnamese syllables, so
Unicode text (``Hoà``, ``25°C``, ``©``) is never touched.
"""

from __future__ import annotations

import re
import unicodedata

# --- TCVN3 (TCVN 5712:1993, VN3) --------------------------------------------------------------
# byte -> letter. Rows: the letter with grave, hook, tilde, acute, dot below.
_TCVN3_ROWS = {
    "ĂÂÊÔƠƯĐăâêôơưđ": [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE],
    "àảãáạ": [0xB5, 0xB6, 0xB7, 0xB8, 0xB9],
    "ằẳẵắặ": [0xBB, 0xBC, 0xBD, 0xBE, 0xC6],
    "ầẩẫấậ": [0xC7, 0xC8, 0xC9, 0xCA, 0xCB],
    "èẻẽéẹ": [0xCC, 0xCE, 0xCF, 0xD0, 0xD1],
    "ềểễếệ": [0xD2, 0xD3, 0xD4, 0xD5, 0xD6],
    "ìỉĩíị": [0xD7, 0xD8, 0xDC, 0xDD, 0xDE],
    "òỏõóọ": [0xDF, 0xE1, 0xE2, 0xE3, 0xE4],
    "ồổỗốộ": [0xE5, 0xE6, 0xE7, 0xE8, 0xE9],
    "ờởỡớợ": [0xEA, 0xEB, 0xEC, 0xED, 0xEE],
    "ùủũúụ": [0xEF, 0xF1, 0xF2, 0xF3, 0xF4],
    "ừửữứự": [0xF5, 0xF6, 0xF7, 0xF8, 0xF9],
    "ỳỷỹýỵ": [0xFA, 0xFB, 0xFC, 0xFD, 0xFE],
}
TCVN3: dict[str, str] = {}
for _letters, _codes in _TCVN3_ROWS.items():
    for _letter, _code in zip(_letters, _codes, strict=True):
        TCVN3[chr(_code)] = _letter  # the byte read as Latin-1
TCVN3_ENCODE = {v: k for k, v in TCVN3.items()}

# --- VNI (VNI-Windows) -----------------------------------------------------------------------
# Marks typed after the base letter, lower case then upper case.
_VNI_TONE = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT_TONE = {"à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE_TONE = {"è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE = {"ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ì": "ì", "Ì": "Ì", "í": "í", "Í": "Í",
               "æ": "ỉ", "Æ": "Ỉ", "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "î": "ỵ", "Î": "Ỵ"}  # fmt: skip


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = dict(_VNI_SINGLE)

    def both(mods: dict[str, str]) -> dict[str, str]:
        return mods | {k.upper(): v for k, v in mods.items()}

    def nfc(s: str) -> str:
        return unicodedata.normalize("NFC", s)

    for base in "aeouyAEOUY":  # i with a mark is a single byte in VNI (ì í æ ó ò)
        for mark, comb in both(_VNI_TONE).items():
            table[base + mark] = nfc(base + comb)
    for base in "aeoAEO":
        hat = "Â" if base.isupper() else "â"
        table[base + hat] = nfc(base + "\u0302")
        for mark, comb in both(_VNI_HAT_TONE).items():
            table[base + mark] = nfc(base + "\u0302" + comb)
    for base in "aA":
        breve = "Ê" if base.isupper() else "ê"
        table[base + breve] = nfc(base + "\u0306")
        for mark, comb in both(_VNI_BREVE_TONE).items():
            table[base + mark] = nfc(base + "\u0306" + comb)
    for horn, letter in (("ô", "ơ"), ("Ô", "Ơ"), ("ö", "ư"), ("Ö", "Ư")):
        for mark, comb in both(_VNI_TONE).items():
            table[horn + mark] = nfc(letter + comb)
    return table


VNI = _build_vni()
VNI_ENCODE: dict[str, str] = {}
for _key, _letter in VNI.items():
    # Typists put lower-case marks after lower-case letters: prefer the key of the letter's case.
    _same_case = _key == (_key.lower() if _letter == _letter.lower() else _key.upper())
    if _same_case or _letter not in VNI_ENCODE:
        VNI_ENCODE[_letter] = _key
_VNI_RX = re.compile("|".join(re.escape(k) for k in sorted(VNI, key=len, reverse=True)))

# --- detection --------------------------------------------------------------------------------
_VIETNAMESE_LATIN1 = set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý")
_LEGACY_CHARS = (set(TCVN3) | {c for k in VNI for c in k if ord(c) > 0x7F}) - _VIETNAMESE_LATIN1
_ODD = re.compile("[" + re.escape("".join(sorted(_LEGACY_CHARS))) + "]")
# Letters beyond Latin-1 (ă, đ, ơ, ư, ạ … ỹ) cannot come from an 8-bit legacy font: such text is Unicode.
_UNICODE_VIETNAMESE = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]"
)
_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\S+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_TONES = dict.fromkeys(map(ord, "\u0300\u0301\u0303\u0309\u0323"))
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnprstvx])?"
    r"(?:uyê|ươu|ươi|uôi|oai|oay|oeo|uây|uya|uyu|yêu|iêu|ia|iê|yê|ua|uô|ưa|ươ|ai|ao|au|ay|âu|ây|eo|êu|iu|oa|oă|oe"
    r"|oi|ôi|ơi|uâ|uê|ui|uơ|uy|ưi|ưu|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y)"
    r"(?:ng|nh|ch|[cmnpt])?"
)


def _syllable_share(text: str) -> float:
    """Share of the words of ``text`` that are well-formed Vietnamese syllables."""
    words = _WORD.findall(text.lower())
    if not words:
        return 0.0
    ok = 0
    for w in words:
        marks = sum(1 for c in unicodedata.normalize("NFD", w) if ord(c) in _TONES)
        plain = unicodedata.normalize("NFC", unicodedata.normalize("NFD", w).translate(_TONES))
        if marks <= 1 and _SYLLABLE.fullmatch(plain):
            ok += 1
    return ok / len(words)


def from_tcvn3(text: str) -> str:
    return "".join(TCVN3.get(c, c) for c in text)


def from_vni(text: str) -> str:
    return _VNI_RX.sub(lambda m: VNI[m.group(0)], text)


def to_tcvn3(text: str) -> str:
    """Unicode -> TCVN3 mojibake (for tests): capitals with marks have no TCVN3 code and stay."""
    return "".join(TCVN3_ENCODE.get(c, c) for c in unicodedata.normalize("NFC", text))


def to_vni(text: str) -> str:
    """Unicode -> VNI mojibake (for tests)."""
    return "".join(VNI_ENCODE.get(c, c) for c in unicodedata.normalize("NFC", text))


def detect_legacy(text: str) -> str | None:
    """``"tcvn3"``, ``"vni"`` or ``None`` (Unicode, or too little evidence)."""
    if _UNICODE_VIETNAMESE.search(text):
        return None
    # Evidence: words that mix plain letters with legacy code points ("nh©n", "Vieät").
    mixed = sum(1 for w in _TOKEN.findall(text) if _ODD.search(w) and _ASCII_LETTER.search(w))
    if mixed < 2:
        return None
    before = _syllable_share(text)
    best, best_share = None, before + 0.2
    for name, convert in (("tcvn3", from_tcvn3), ("vni", from_vni)):
        share = _syllable_share(convert(text))
        if share >= best_share and share >= 0.6:
            best, best_share = name, share
    return best


def fix_legacy(text: str) -> str:
    """``text`` with TCVN3 or VNI mojibake converted to Unicode (NFC); other text unchanged."""
    if not _ODD.search(text) or _UNICODE_VIETNAMESE.search(text):
        return text
    kind = detect_legacy(text)
    if kind == "tcvn3":
        return unicodedata.normalize("NFC", from_tcvn3(text))
    if kind == "vni":
        return unicodedata.normalize("NFC", from_vni(text))
    return text
