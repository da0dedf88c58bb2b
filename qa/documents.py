"""Documents in: PDF, DOCX, TXT and Markdown to normalised text, page by page, offline.

Text is normalised once here (NFKC, so a PDF's Kangxi-radical look-alikes ⼩ become 小 and full-width digits
become ASCII; newlines unified; control characters dropped) and every later offset — a knowledge-base chunk's
start/end, a record field's span — indexes this stored text in code points. Nothing downstream normalises again.

Bad input is an InputError (code `unsupported_file`, `empty_document`, `file_too_large`, `bad_file`) with a message
a user can act on; a malformed file never raises anything else.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from .errors import InputError

log = logging.getLogger(__name__)

SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".markdown")
# control characters other than newline and tab carry nothing a reader sees and break offsets in browsers
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_BLANKS = re.compile(r"[ \t\u3000]+\n")
_MANY_NEWLINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Page:
    """One page of a document (a PDF page; the whole text for other formats) as stored: normalised text."""

    number: int  # 1-based
    text: str


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed document: its file name, format and normalised pages."""

    name: str
    kind: str  # pdf, docx, txt, md
    pages: tuple[Page, ...]

    @property
    def text(self) -> str:
        """All pages joined by blank lines (the form record extraction reads)."""
        return "\n\n".join(p.text for p in self.pages if p.text)

    @property
    def chars(self) -> int:
        """Stored characters over all pages."""
        return sum(len(p.text) for p in self.pages)


def normalise(text: str) -> str:
    """The one normalisation of stored text: NFKC, unified newlines, no control characters, no trailing blanks."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _BLANKS.sub("\n", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def decode_text(data: bytes, name: str = "text") -> str:
    """Bytes of a text file: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (common for Chinese
    files); undecodable bytes are an InputError, never replacement characters in stored text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(
        f"{name}: the text is neither UTF-8 nor GB18030; save it as UTF-8 and upload it again", code="bad_file"
    )


def kind_of(name: str) -> str:
    """The format of a file by its name: pdf, docx, txt or md; InputError for anything else."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{name}: unsupported file type {suffix or '(none)'}; upload PDF, DOCX, TXT or Markdown",
            code="unsupported_file",
        )
    return {".markdown": "md"}.get(suffix, suffix[1:])


def parse_document(name: str, data: bytes, max_bytes: int = 20_000_000, max_pages: int = 2000) -> ParsedDocument:
    """Parse one uploaded file into normalised pages; InputError for a type, size or content that cannot be used
    (including a scanned PDF without a text layer)."""
    name = PurePath(str(name).replace("\\", "/")).name or "document"
    kind = kind_of(name)
    if len(data) > max_bytes:
        raise InputError(f"{name}: {len(data):,} bytes is more than the limit of {max_bytes:,}", code="file_too_large")
    if not data:
        raise InputError(f"{name}: the file is empty", code="empty_document")
    try:
        if kind == "pdf":
            raw_pages = _pdf_pages(data, name, max_pages)
        elif kind == "docx":
            raw_pages = [_docx_text(data, name, max_bytes * 5)]
        else:
            raw_pages = [decode_text(data, name)]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed file is the user's input, not a server fault
        log.info("could not parse %s: %s", name, exc)
        raise InputError(
            f"{name}: the file could not be read as {kind.upper()} ({type(exc).__name__})", code="bad_file"
        ) from None
    pages = tuple(Page(i + 1, normalise(t)) for i, t in enumerate(raw_pages))
    if not any(p.text for p in pages):
        if kind == "pdf":
            raise InputError(
                f"{name}: the PDF has no text layer (a scan or images only); run OCR on it first — nothing was stored",
                code="empty_document",
            )
        raise InputError(f"{name}: the file holds no text", code="empty_document")
    return ParsedDocument(name, kind, pages)


def _pdf_pages(data: bytes, name: str, max_pages: int) -> list[str]:
    import pypdfium2 as pdfium  # lazily: only uploads of PDFs need it

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise InputError(f"{name}: the PDF is password-protected", code="bad_file") from None
        raise InputError(f"{name}: not a readable PDF ({message})", code="bad_file") from None
    try:
        if len(pdf) > max_pages:
            raise InputError(f"{name}: {len(pdf)} pages is more than the limit of {max_pages}", code="file_too_large")
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                pages.append(textpage.get_text_range())
            finally:
                textpage.close()
                page.close()
        return pages
    finally:
        pdf.close()


def _docx_text(data: bytes, name: str = "document", max_inflated: int = 100_000_000) -> str:
    import zipfile

    import docx  # python-docx, lazily

    # a DOCX is a zip: a few KB can inflate to gigabytes (a zip bomb), so the declared sizes are checked first
    # (a member that lies about its size fails its CRC check while python-docx reads it: bad_file)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        inflated = sum(info.file_size for info in archive.infolist())
    if inflated > max_inflated:
        raise InputError(
            f"{name}: the document expands to {inflated:,} bytes, more than the limit of {max_inflated:,}",
            code="file_too_large",
        )
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:  # tables after the body text, a row per line, cells split by tabs
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)
