"""Bytes and a content type -> clean text and metadata (HTML, PDF, plain text); no network."""

from __future__ import annotations

import codecs
import html as html_lib
import io
import logging
import re
from dataclasses import dataclass

# pypdf logs a warning for every recoverable defect of a PDF; a broken PDF is
# reported through Extracted.error instead of flooding the command's stderr.
logging.getLogger("pypdf").setLevel(logging.ERROR)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
# Types that say nothing reliable about the bytes: look at the bytes instead.
SNIFF_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/xml", "text/xml"}
)

_TITLE_CHARS = 300
_PRESCAN_BYTES = 16_384


@dataclass
class Extracted:
    """What a page says: its text and whatever metadata it declares."""

    text: str = ""
    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO date when the page states one
    description: str | None = None
    language: str | None = None
    kind: str = "unsupported"  # html, pdf, text or unsupported
    error: str | None = None


# ------------------------------------------------------------------ content type


def media_type(content_type: str | None) -> str:
    """`text/html; charset=utf-8` -> `text/html`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def content_kind(content_type: str | None) -> str | None:
    """html, pdf or text from the declared type; "sniff" when only the bytes can tell;
    None when Recall does not extract that type (images, archives, video...)."""
    mime = media_type(content_type)
    if mime in HTML_TYPES:
        return "html"
    if mime in PDF_TYPES:
        return "pdf"
    if mime in TEXT_TYPES:
        return "text"
    if mime in SNIFF_TYPES:
        return "sniff"
    return None


def sniff_kind(body: bytes) -> str | None:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if head.startswith(b"<"):
        return "html"  # HTML, or XML read as markup: its text without the tags either way
    if b"\x00" in body[:4096]:
        return None
    return "text"


# ---------------------------------------------------------------------- charset

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
# Browsers decode these labels as their supersets; so must we, or the odd
# character outside the strict set turns a whole Korean page into an error.
_SUPERSETS = {
    "euc_kr": "cp949",
    "iso8859-1": "cp1252",
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
}
# A header that names one of these is most often a server default rather than a
# statement about the page, so a charset the page itself declares wins over it.
_WEAK_HEADER_CODECS = {"cp1252"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_charset(body: bytes) -> str | None:
    """The charset a document declares about itself (meta tag or XML declaration)."""
    head = body[:_PRESCAN_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def decode(body: bytes, content_type: str | None = None, *, markup: bool = True) -> str:
    """Bytes -> str without mojibake.

    Order: byte-order mark; valid UTF-8 (non-ASCII text that happens to be valid
    UTF-8 practically never is anything else); the charsets the header and the
    page declare; charset-normalizer's guess; UTF-8 with replacement characters.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from_header = _codec(header_charset(content_type))
    from_page = _codec(declared_charset(body)) if markup else None
    candidates = [from_header, from_page]
    if from_header in _WEAK_HEADER_CODECS:
        candidates.reverse()
    for codec in candidates:
        if codec:
            try:
                return body.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    import charset_normalizer  # only for bodies no declared or common codec decodes

    guess = charset_normalizer.from_bytes(body).best()
    if guess is not None:
        return str(guess)
    return body.decode("utf-8", errors="replace")


# --------------------------------------------------------------------- extract


def extract(
    body: bytes,
    content_type: str | None = None,
    url: str | None = None,
    *,
    max_pdf_pages: int = 300,
    max_text_chars: int = 2_000_000,
    max_html_chars: int = 2_000_000,
    max_pdf_content_bytes: int = 4_000_000,
) -> Extracted:
    """Turn a response body into text and metadata. Never raises on bad input:
    problems end up in Extracted.error."""
    kind = content_kind(content_type)
    if kind == "sniff":
        kind = sniff_kind(body)
    if kind == "html":
        result = _extract_html(body, content_type, url, max_html_chars)
    elif kind == "pdf":
        result = _extract_pdf(body, max_pdf_pages, max_pdf_content_bytes)
    elif kind == "text":
        result = _extract_text(body, content_type)
    else:
        return Extracted(error=f"unsupported content type {media_type(content_type) or '(none)'}")
    result.text = result.text[:max_text_chars]
    return result


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:_TITLE_CHARS]
    return None


def _extract_text(body: bytes, content_type: str | None) -> Extracted:
    text = decode(body, content_type, markup=False)
    return Extracted(text=text, title=_first_line(text), kind="text")


def _content_bytes(page, limit: int) -> int:
    """Decoded size of what extract_text will parse on a page (its content streams and
    every form XObject they may draw, however nested), counted until it passes `limit`.

    pypdf parses about a quarter of a megabyte of operators a second, and a few
    kilobytes of deflated operators inflate to tens of megabytes.
    """
    from pypdf.generic import IndirectObject

    streams = []
    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
        streams.extend(contents if isinstance(contents, list) else [contents])
    total = sum(len(stream.get_object().get_data()) for stream in streams)
    pending, seen = [page.get("/Resources")], set()
    while pending and total <= limit:
        resources = pending.pop()
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, dict) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        for ref in dict.values(xobjects) if isinstance(xobjects, dict) else ():
            key = (ref.idnum, ref.generation) if isinstance(ref, IndirectObject) else id(ref)
            form = ref.get_object()
            if key in seen or not isinstance(form, dict) or form.get("/Subtype") != "/Form":
                continue
            seen.add(key)
            total += len(form.get_data())
            pending.append(form.get("/Resources"))
            if total > limit:
                break
    return total


def _extract_pdf(body: bytes, max_pages: int, max_content_bytes: int) -> Extracted:
    from pypdf import PdfReader  # imported for the first PDF: most pages are HTML

    # pypdf raises almost anything on a hostile file (and RecursionError on
    # self-referencing objects), so everything is caught here.
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = []
        errors = 0
        content = 0
        stopped = None
        for number, page in enumerate(reader.pages):
            if number >= max_pages:
                break
            try:
                content += _content_bytes(page, max_content_bytes - content)
                if content > max_content_bytes:
                    stopped = f"stopped at page {number + 1}: over {max_content_bytes:,} bytes"
                    stopped += " of page content"
                    break
                pages.append(page.extract_text() or "")
            except Exception:  # one unreadable page must not lose the others
                errors += 1
        metadata = reader.metadata
        title = (metadata.title if metadata else None) or None
        author = (metadata.author if metadata else None) or None
    except (Exception, RecursionError) as exc:
        return Extracted(kind="pdf", error=f"malformed PDF: {type(exc).__name__}: {exc}"[:500])
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    return Extracted(
        text=text,
        title=(str(title).strip() or None) if title else _first_line(text),
        author=str(author).strip() or None if author else None,
        kind="pdf",
        error="; ".join(filter(None, [f"{errors} unreadable page(s)" if errors else "", stopped]))
        or None,
    )


# ------------------------------------------------------------------------ HTML

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_INVISIBLE_OPEN = re.compile(r"<(script|style|noscript|template)\b|<!--", re.IGNORECASE)
_INVISIBLE_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE)
    for name in ("script", "style", "noscript", "template")
}
_INVISIBLE_CLOSE["<!--"] = re.compile("-->")
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _drop_invisible(html: str) -> str:
    """Scripts, styles, templates and comments removed, in one pass.

    A lazy `<script.*?</script>` regex rescans to the end of the page from every
    unclosed opener: 30,000 of them took over a minute. Here each kind that has no
    closer left is never searched again, so the work stays linear.
    """
    pieces, position, search_from, exhausted = [], 0, 0, set()
    while opener := _INVISIBLE_OPEN.search(html, search_from):
        kind = (opener.group(1) or "<!--").lower()
        closer = None if kind in exhausted else _INVISIBLE_CLOSE[kind].search(html, opener.end())
        if closer is None:
            exhausted.add(kind)
            search_from = opener.end()
            continue
        pieces.extend((html[position : opener.start()], " "))
        position = search_from = closer.end()
    pieces.append(html[position:])
    return "".join(pieces)


def strip_tags(html: str) -> str:
    """Crude visible text of any markup, however broken or deep: the last resort."""
    html = _drop_invisible(html)
    # Every "<" after the last ">" would make `<[^>]*>` scan to the end again.
    end = html.rfind(">") + 1
    text = _TAG.sub(" ", html[:end]) + html[end:]
    text = html_lib.unescape(text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


@dataclass
class _HeadMeta:
    title: str | None = None
    description: str | None = None
    author: str | None = None
    language: str | None = None


def _head_meta(html: str) -> _HeadMeta:
    """<title>, og:*, meta description/author and <html lang>, read with lxml."""
    import lxml.html  # imported for the first page, as trafilatura: a cache read needs neither

    try:
        tree = lxml.html.document_fromstring(html)
    except (Exception, RecursionError):  # empty or unparsable markup
        return _HeadMeta()
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content:
            metas.setdefault(key, content)
    title = (tree.findtext(".//title") or "").strip()
    return _HeadMeta(
        title=metas.get("og:title") or title or None,
        description=metas.get("og:description") or metas.get("description"),
        author=metas.get("author"),
        language=(tree.get("lang") or "").strip().lower() or None,
    )


def _extract_html(
    body: bytes, content_type: str | None, url: str | None, max_html_chars: int
) -> Extracted:
    import trafilatura

    html = _XML_DECLARATION.sub("", decode(body, content_type), count=1).replace("\x00", "")
    # The head sits at the start; parsing all of a huge page for it only costs memory.
    head = _head_meta(html[:max_html_chars])
    doc = None
    error = None
    if len(html) > max_html_chars:
        # trafilatura takes seconds per megabyte (minutes on a 20 MB page): a huge page
        # gets the linear tag strip instead, so that every page ends in bounded time.
        error = f"HTML of {len(html):,} characters is over {max_html_chars:,}; used a tag strip"
    else:
        try:
            doc = trafilatura.bare_extraction(
                html, url=url, with_metadata=True, include_comments=False
            )
        except (Exception, RecursionError) as exc:  # pathological markup
            error = f"HTML extraction failed ({type(exc).__name__}); used a tag strip"
    text = ((doc.text if doc else None) or "").strip()
    description = (doc.description if doc else None) or head.description
    if error is not None:
        text = strip_tags(html)
    elif not text:
        # Video pages and app shells: what the page says about itself is all there is.
        text = description or strip_tags(html)
    return Extracted(
        text=text,
        title=((doc.title if doc else None) or head.title or "")[:_TITLE_CHARS] or None,
        author=(doc.author if doc else None) or head.author,
        date=doc.date if doc else None,
        description=description,
        language=(doc.language if doc else None) or head.language,
        kind="html",
        error=error,
    )
