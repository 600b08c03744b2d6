"""WARC files in and out of the page cache: seed it from an archive, preserve it as one."""

from __future__ import annotations

import io
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from indexer.config import FetchLimits
from indexer.pagecache import (
    PageCache,
    StoredResponse,
    failure_record,
    response_record,
)
from indexer.resources import normalize_url

# Headers describing how the body travelled; the cache keeps the body decoded.
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError)


@dataclass
class ImportSummary:
    records: int = 0  # WARC records read
    imported: int = 0  # listed URLs whose page now comes from the archive
    unlisted: int = 0  # response records for URLs that are not on the list
    older: int = 0  # listed, but the cache already had a newer copy
    stopped_at: str | None = None  # where a truncated or corrupt archive became unreadable

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Entry:
    number: int  # position of the record in the file
    uri: str
    status: int
    location: str | None
    date: str

    @property
    def key(self) -> str:
        return normalize_url(self.uri)


def _iso(warc_date: str | None) -> str:
    """WARC-Date (ISO 8601, often with Z) -> the cache's timestamp format."""
    try:
        when = datetime.fromisoformat(warc_date or "")
    except ValueError:
        when = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def _warc_date(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------ import


def _scan(path: Path, summary: ImportSummary) -> dict[str, _Entry]:
    """First pass: which URLs the archive answers, and how, without keeping any body.

    warcio stops quietly at a truncated end, so completeness is checked here: the
    last record must have been read to its declared length and end where the file does.
    """
    index: dict[str, _Entry] = {}
    end = 0
    with path.open("rb") as f:
        records = ArchiveIterator(f)
        try:
            for number, record in enumerate(records):
                offset = records.get_record_offset()
                if record.format != "warc":  # warcio reads any line as a legacy ARC header
                    summary.stopped_at = f"record {number + 1} at byte {offset}: not a WARC record"
                    return index
                entry = _entry(number, record)
                records.read_to_end(record)
                if record.raw_stream.limit > 0:
                    summary.stopped_at = f"record {number + 1} at byte {offset}: truncated"
                    return index
                if entry is not None:
                    known = index.get(entry.key)
                    if known is None or known.date <= entry.date:
                        index[entry.key] = entry
                summary.records = number + 1
                end = offset + records.get_record_length()
        except _READ_ERRORS as exc:
            summary.stopped_at = f"record {summary.records + 1} at byte {end}: {exc}"[:300]
            return index
        f.seek(end)
        tail = f.read(65)  # an uncompressed archive ends with the last record's blank lines
    if len(tail) > 64 or tail.strip():
        summary.stopped_at = f"record {summary.records + 1} at byte {end}: unreadable data"
    return index


def _entry(number: int, record) -> _Entry | None:
    if record.rec_type != "response" or record.http_headers is None:
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    return _Entry(
        number,
        uri,
        int(record.http_headers.get_statuscode() or 0),
        record.http_headers.get_header("Location"),
        _iso(record.rec_headers.get_header("WARC-Date")),
    )


def _resolve(index: dict[str, _Entry], key: str, max_redirects: int) -> _Entry | None:
    """The archived response a listed URL ends at, following archived redirects."""
    entry = index.get(key)
    for _ in range(max_redirects):
        if entry is None or not (300 <= entry.status < 400 and entry.location):
            break
        entry = index.get(normalize_url(urljoin(entry.uri, entry.location)))
    if entry is None or 300 <= entry.status < 400:
        return None
    return entry


def import_warc(
    cache: PageCache, path: str | Path, urls: Iterable[str], limits: FetchLimits | None = None
) -> ImportSummary:
    """Seed the cache with the archived responses for `urls`, as if they had been fetched
    (text extracted, validators kept). Never replaces a newer cached copy. A damaged
    archive imports what precedes the damage and says where it stopped."""
    limits = limits or FetchLimits()
    path = Path(path)
    summary = ImportSummary()
    listed = {normalize_url(u) for u in urls}
    index = _scan(path, summary)
    summary.unlisted = sum(1 for key in index if key not in listed)
    wanted: defaultdict[int, list[str]] = defaultdict(list)
    for key in listed:
        entry = _resolve(index, key, limits.max_redirects)
        if entry is not None:
            wanted[entry.number].append(key)
    if not wanted:
        return summary
    last = max(wanted)
    with path.open("rb") as f:
        records = ArchiveIterator(f)
        for number, record in enumerate(records):
            if number in wanted:
                response = _stored_response(record, limits.max_bytes)
                for key in wanted[number]:
                    if _seed(cache, key, response, limits):
                        summary.imported += 1
                    else:
                        summary.older += 1
            if number >= last:
                break
    return summary


def _stored_response(record, max_bytes: int) -> StoredResponse:
    statusline = record.http_headers.statusline or ""
    code, _, reason = statusline.partition(" ")
    return StoredResponse(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        http_status=int(code or 0),
        reason=reason,
        headers=list(record.http_headers.headers),
        body=record.content_stream().read(max_bytes + 1),
        fetched_at=_iso(record.rec_headers.get_header("WARC-Date")),
    )


def _seed(cache: PageCache, key: str, response: StoredResponse, limits: FetchLimits) -> bool:
    """Store one archived response as the page of `key`; False when the cache is newer."""
    previous = cache.get(key)
    if previous is not None and (previous.fetched_at or "") >= response.fetched_at:
        return False
    when = response.fetched_at
    if not 200 <= response.http_status < 300:
        status = f"http_{response.http_status}"
        record = failure_record(
            previous, key, status=status, now=when, http_status=response.http_status
        )
        stored = None
    elif len(response.body) > limits.max_bytes:
        record = failure_record(previous, key, status="too_large", now=when)
        stored = None
    else:
        record, stored = response_record(previous, key, response, limits, now=when)
    cache.put(record, stored)
    return True


# ------------------------------------------------------------------------ export


def _http_headers(response: StoredResponse) -> StatusAndHeaders:
    headers = [(k, v) for k, v in response.headers if k.lower() not in _TRANSFER_HEADERS]
    headers.append(("Content-Length", str(len(response.body))))
    statusline = f"{response.http_status} {response.reason}".strip()
    return StatusAndHeaders(statusline, headers, protocol="HTTP/1.1")


def export_warc(cache: PageCache, path: str | Path) -> int:
    """Write every cached response as a WARC response record (gzip when the name ends
    in .gz) after a warcinfo record; returns how many responses were written.

    A listed URL that redirected gets a one-hop redirect record pointing at the page,
    so importing the archive finds the page again from the listed URL."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    written: set[tuple[str, str | None]] = set()
    with partial.open("wb") as f:
        writer = WARCWriter(f, gzip=path.name.endswith(".gz"))
        info = {"software": "Recall", "format": "WARC File Format 1.0"}
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for page in cache.all():
            response = cache.response(page.url)
            if response is None:
                continue
            if (response.url, page.body_hash) not in written:
                written.add((response.url, page.body_hash))
                writer.write_record(
                    writer.create_warc_record(
                        response.url,
                        "response",
                        payload=io.BytesIO(response.body),
                        http_headers=_http_headers(response),
                        warc_headers_dict={"WARC-Date": _warc_date(response.fetched_at)},
                    )
                )
            if normalize_url(response.url) != page.url:
                hop = StatusAndHeaders(
                    "302 Found",
                    [("Location", response.url), ("Content-Length", "0")],
                    protocol="HTTP/1.1",
                )
                writer.write_record(
                    writer.create_warc_record(
                        page.url,
                        "response",
                        payload=io.BytesIO(b""),
                        http_headers=hop,
                        warc_headers_dict={
                            "WARC-Date": _warc_date(response.fetched_at),
                            "Recall-Note": "redirect chain recorded as one hop",
                        },
                    )
                )
    partial.replace(path)
    return len(written)
