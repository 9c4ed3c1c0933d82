"""The documents behind the news (issue 14): what an attachment is, what it really
is, what it says.

* ``is_attachment_link(url)`` — a link to a document by its extension (PDF, Word, Excel,
  OpenDocument, ZIP/RAR of those).
* ``sniff(data)`` — the type from the bytes themselves (a ``.pdf`` that is an HTML error page
  is ``text/html``), never from the extension or the served MIME type.
* ``document_number(text)`` / ``document_date(text)`` — "Chỉ thị số 04/CT-UBND", "ngày 18/3/2021"
  as printed on a link or in a file; a date that cannot be read is None, never guessed.
* ``links_in(body_html, base)`` / ``block_links(page, base, selector)`` — the documents an article
  links to in its body and in its attachment block outside the body ("File đính kèm").
* ``extract_text(data, limits)`` — the text and how it was obtained: PDF with pypdf (BSD), DOCX
  with python-docx (MIT), the PDFs and DOCX inside a ZIP; a PDF without a text layer is read by
  tesseract (``vie``) when installed, else recorded as ``no text layer`` (scanned); legacy
  Vietnamese encodings (TCVN3, VNI) repaired with the archive's own converters; bombs (too many
  pages, a ZIP that inflates past the cap) refused with the reason, not opened.

Nothing here fetches or stores; the crawl and the archive use it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin, urlsplit

from archiver.normalize.legacy import fix_legacy

EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".odt", ".ods", ".zip", ".rar")


def is_attachment_link(url: str) -> bool:
    """Whether ``url``'s path ends with a document's extension (case-insensitive)."""
    return urlsplit(url).path.lower().endswith(EXTENSIONS)


def sniff(data: bytes) -> str:
    """The MIME type the bytes are, by their magic numbers (and, for ZIP containers, their
    member names)."""
    head = data[:8]
    if data[:1024].lstrip()[:5] == b"%PDF-":
        return "application/pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"  # legacy .doc / .xls (OLE compound file)
    if head.startswith(b"Rar!\x1a\x07"):
        return "application/vnd.rar"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "mimetype" in names:
                    kind = z.read("mimetype")[:100].decode("ascii", "replace").strip()
                    if kind.startswith("application/vnd.oasis.opendocument"):
                        return kind
                if "word/document.xml" in names:
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if "xl/workbook.xml" in names:
                    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        except zipfile.BadZipFile:
            return "application/octet-stream"
        return "application/zip"
    text = data[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "text/html"
    return "application/octet-stream"


_NUMBER = re.compile(r"(?<![\w/])(\d{1,5}(?:/\d{4})?/[A-ZĐ][A-ZĐ0-9]*(?:-[A-ZĐ0-9]+)+)(?![\w-])")
_DATE = re.compile(r"ngày\s+(\d{1,2})\s*(?:/|-|\.|\s+tháng\s+)\s*(\d{1,2})\s*(?:/|-|\.|\s+năm\s+)\s*(\d{4})",
                   re.IGNORECASE)  # fmt: skip


def document_number(text: str) -> str | None:
    """The first document number printed in ``text`` ("04/CT-UBND", "123/2021/QĐ-UBND")."""
    m = _NUMBER.search(unicodedata.normalize("NFC", text))
    return m.group(1) if m else None


def document_date(text: str) -> date | None:
    """The first "ngày D/M/YYYY" or "ngày D tháng M năm YYYY" of ``text``: day first, as in
    Vietnamese; None when absent or impossible (31/02)."""
    m = _DATE.search(unicodedata.normalize("NFC", text))
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


@dataclass(frozen=True)
class Limits:
    max_pages: int = 2000  # a PDF claiming more pages is not read (a bomb, or not a news document)
    max_inflated: int = 200 * 2**20  # a ZIP container inflating past this is not opened
    max_chars: int = 5_000_000  # text kept per file
    max_members: int = 50  # documents read out of one ZIP
    ocr: bool = True  # a PDF without a text layer is read by tesseract (``vie``) when installed
    ocr_pages: int = 30  # pages of one scanned PDF given to OCR
    ocr_timeout: float = 120.0  # seconds per page


@dataclass
class Text:
    text: str | None
    how: str  # "pypdf", "python-docx", "no text layer", "not extracted: …", "refused: …"
    pages: int | None = None


def _clean(text: str, limits: Limits) -> str:
    # Line by line: a document may mix a legacy font (its body in .VnTime) with Unicode (a header).
    lines = [fix_legacy(re.sub(r"[ \t\u00a0]+", " ", line).strip())
             for line in unicodedata.normalize("NFC", text).splitlines()]  # fmt: skip
    out = "\n".join(line for line in lines if line)
    return out[: limits.max_chars]


def _pdf(data: bytes, limits: Limits) -> Text:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return Text(None, f"refused: not a readable PDF ({type(exc).__name__})")
    if pages > limits.max_pages:
        return Text(None, f"refused: {pages} pages, more than {limits.max_pages}", pages)
    parts: list[str] = []
    size = 0
    for page in reader.pages:
        try:
            chunk = page.extract_text() or ""
        except (PdfReadError, ValueError, KeyError, TypeError, RecursionError):
            chunk = ""
        parts.append(chunk)
        size += len(chunk)
        if size > limits.max_chars:
            break
    text = _clean("\n".join(parts), limits)
    if not text.strip():
        # Scanned: images only. OCR when tesseract and its Vietnamese data are installed.
        if limits.ocr and ocr_available():
            read = _ocr(reader, limits)
            if read is not None:
                return Text(read.text, read.how, pages)
        return Text(None, "no text layer", pages)
    return Text(text, "pypdf", pages)


@functools.cache
def ocr_available() -> bool:
    """Whether ``tesseract`` is on the PATH with the ``vie`` language data (Debian:
    ``tesseract-ocr tesseract-ocr-vie``)."""
    import shutil
    import subprocess

    exe = shutil.which("tesseract")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "vie" in out.stdout.split()


def _ocr(reader: object, limits: Limits) -> Text | None:
    """The text tesseract reads in the images of a scanned PDF's pages (None: nothing read)."""
    import subprocess

    parts: list[str] = []
    for page in list(reader.pages)[: limits.ocr_pages]:  # type: ignore[attr-defined]
        try:
            images = list(page.images)
        except Exception:  # noqa: BLE001 - pypdf raises many kinds on a broken image
            continue
        for image in images:
            try:
                buf = io.BytesIO()
                image.image.save(buf, format="PNG")
            except Exception:  # noqa: BLE001 - an image Pillow cannot decode is skipped
                continue
            try:
                out = subprocess.run(["tesseract", "stdin", "stdout", "-l", "vie"], input=buf.getvalue(),
                                     capture_output=True, timeout=limits.ocr_timeout)  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                continue
            if out.returncode == 0:
                parts.append(out.stdout.decode("utf-8", "replace"))
    text = _clean("\n".join(parts), limits)
    return Text(text, "ocr: tesseract vie") if text.strip() else None


def _inflated(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sum(i.file_size for i in z.infolist())


def _docx(data: bytes, limits: Limits) -> Text:
    import docx

    try:
        if _inflated(data) > limits.max_inflated:
            return Text(None, f"refused: inflates past {limits.max_inflated // 2**20} MB")
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return Text(None, f"refused: not a readable DOCX ({type(exc).__name__})")
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = _clean("\n".join(lines), limits)
    return Text(text or None, "python-docx")


def _zip(data: bytes, limits: Limits) -> Text:
    """The documents inside a ZIP (PDF, DOCX), each under its name; never one nested ZIP more."""
    try:
        if _inflated(data) > limits.max_inflated:
            return Text(None, f"refused: inflates past {limits.max_inflated // 2**20} MB")
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [i for i in z.infolist() if not i.is_dir()][: limits.max_members]
            parts, hows = [], []
            for info in members:
                inner = z.read(info)
                kind = sniff(inner)
                if kind == "application/pdf":
                    got = _pdf(inner, limits)
                elif kind.endswith("wordprocessingml.document"):
                    got = _docx(inner, limits)
                else:
                    continue
                if got.text:
                    parts.append(f"[{unicodedata.normalize('NFC', info.filename)}]\n{got.text}")
                    hows.append(got.how)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
        return Text(None, f"refused: not a readable ZIP ({type(exc).__name__})")
    if not parts:
        return Text(None, "not extracted: no PDF or DOCX with text inside the ZIP")
    return Text("\n\n".join(parts)[: limits.max_chars], "zip: " + ", ".join(sorted(set(hows))))


def extract_text(data: bytes, limits: Limits | None = None) -> Text:
    """The text of a document, by what its bytes are."""
    limits = limits or Limits()
    kind = sniff(data)
    if kind == "application/pdf":
        return _pdf(data, limits)
    if kind.endswith("wordprocessingml.document"):
        return _docx(data, limits)
    if kind == "application/zip":
        return _zip(data, limits)
    if kind == "application/x-ole-storage":
        return Text(None, "not extracted: legacy Word/Excel (no maintained permissive converter)")
    return Text(None, f"not extracted: {kind}")


def served_name(url: str, content_disposition: str | None = None) -> str | None:
    """The file name as served: Content-Disposition's ``filename*``/``filename``, else the last
    part of the URL's path."""
    from email.message import Message
    from urllib.parse import unquote

    if content_disposition:
        msg = Message()
        msg["content-disposition"] = content_disposition
        name = msg.get_filename()
        if name:
            return unicodedata.normalize("NFC", name.strip())
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return unicodedata.normalize("NFC", unquote(last)) or None


def describe(url: str, data: bytes, *, final_url: str | None = None, link_text: str | None = None,
             content_type: str | None = None, content_disposition: str | None = None,
             limits: Limits | None = None) -> dict[str, object]:  # fmt: skip
    """An ``attachments`` row for the file ``data`` fetched from ``url``: what it is, its hash,
    its text and how it was obtained, its document number and date (the link's text first, then
    the file's own)."""
    text = extract_text(data, limits)
    shown = unicodedata.normalize("NFC", " ".join(link_text.split())) if link_text else None
    number = (document_number(shown) if shown else None) or (document_number(text.text) if text.text else None)
    day = (document_date(shown) if shown else None) or (document_date(text.text) if text.text else None)
    return {
        "url": url, "final_url": final_url or url, "name_shown": shown,
        "name_served": served_name(final_url or url, content_disposition),
        "mime_served": (content_type or "").split(";")[0].strip().lower() or None, "mime_sniffed": sniff(data),
        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pages": text.pages,
        "doc_number": number, "doc_date": day.isoformat() if day else None, "text": text.text, "text_how": text.how,
    }  # fmt: skip


def links_in(body_html: str, base: str) -> list[tuple[str, str | None]]:
    """(absolute URL, link text) of every link to a document in an article's body, in order,
    each URL once."""
    if not body_html or "href" not in body_html:
        return []
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return []
    out: dict[str, str | None] = {}
    for a in root.iter("a"):
        _add_link(out, a, base)
    return list(out.items())


# A block of attachments outside the body: by its class or id ("attach", "dinh-kem", "file-kem"), or
# under a heading that names it ("File đính kèm", "Tải văn bản").
_BLOCK_NAME = re.compile(r"attach|dinh[-_ ]?kem|tep[-_ ]?kem|file[-_ ]?kem|file[-_ ]?dinh", re.IGNORECASE)
_BLOCK_HEADING = re.compile(r"^\W*(?:(?:file|tệp|tập tin|văn bản|tài liệu)\s+đính kèm|tải văn bản|tải về|"
                            r"đính kèm)\W*$", re.IGNORECASE)  # fmt: skip
_DOC_HINT = re.compile(r"\.(?:pdf|docx?|xlsx?|od[ts]|zip|rar)\b", re.IGNORECASE)
_BLOCK_MAX_TEXT = 3000  # a "block" holding more text is a page region, not an attachment list


def block_links(page: str, base: str, selector: str | None = None) -> list[tuple[str, str | None]]:
    """(absolute URL, link text) of the documents in a page's attachment block, outside the
    body: the elements ``selector`` matches (a profile's ``article.attachments``), else blocks
    named or headed as attachments. Pages with no link to a document are not parsed."""
    if not page or not _DOC_HINT.search(page):
        return []
    from archiver.extract.html import lxml_select, lxml_tree

    root = lxml_tree(page)
    if root is None:
        return []
    if selector:
        blocks = lxml_select(root, selector) or []
    else:
        blocks = []
        for el in root.iter():
            if not isinstance(el.tag, str) or el.tag in ("html", "body", "a", "script", "style"):
                continue
            if _BLOCK_NAME.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
                blocks.append(el)
            elif el.tag in ("h2", "h3", "h4", "h5", "strong", "b", "span", "p", "div", "label", "legend") and \
                    len(el) <= 1 and _BLOCK_HEADING.match(" ".join(el.text_content().split())):  # fmt: skip
                if el.getparent() is not None:
                    blocks.append(el.getparent())
    out: dict[str, str | None] = {}
    for block in blocks:
        if len(block.text_content()) > _BLOCK_MAX_TEXT and not selector:
            continue
        for a in block.iter("a"):
            _add_link(out, a, base)
    return list(out.items())


def _add_link(out: dict[str, str | None], a: object, base: str) -> None:
    href = (a.get("href") or "").strip()  # type: ignore[attr-defined]
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return
    url = urljoin(base, href).split("#", 1)[0]
    if is_attachment_link(url) and url not in out:
        out[url] = " ".join(a.text_content().split()) or None  # type: ignore[attr-defined]


def document_hosts(profile: object, settings: object) -> frozenset[str]:
    """Hosts besides the portal's own whose documents a crawl fetches: the profile's
    ``attachment_hosts`` and the ``ARCHIVER_ATTACHMENT_HOSTS`` setting (comma-separated)."""
    listed = list(profile.get("attachment_hosts", ()) or ())  # type: ignore[attr-defined]
    raw = settings.get("ARCHIVER_ATTACHMENT_HOSTS") or ""  # type: ignore[attr-defined]
    listed += raw if isinstance(raw, list | tuple) else [h for h in str(raw).split(",")]
    return frozenset(h.strip().lower() for h in listed if h and h.strip())
