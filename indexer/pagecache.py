"""The persistent page cache: one SQLite file of fetched pages, their text and last response."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from indexer.config import FetchLimits
from indexer.extract import extract
from indexer.linkhealth import Evidence, observe
from indexer.resources import normalize_url

log = logging.getLogger(__name__)

CACHE_FILENAME = "pages.sqlite"
_SCHEMA_VERSION = 2  # 2: link_checks; a cache of an older version gets the new tables at open
_BATCH = 500


@dataclass
class PageRecord:
    """What Recall knows about one URL. `status` is the latest outcome (ok and
    not_modified mean the page answered); the text and metadata are those of the last
    good response, kept when the link later dies."""

    url: str  # normalised
    status: str
    http_status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None  # ISO time of the latest attempt
    last_ok_at: str | None = None  # ISO time the page last answered with content
    body_hash: str | None = None
    title: str | None = None
    text: str = ""
    description: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    kind: str | None = None  # html, pdf, text
    error: str | None = None


@dataclass
class StoredResponse:
    """The last good HTTP response behind a page, kept for WARC export. The headers are
    as received; the body is decoded, whatever Content-Encoding the headers name."""

    url: str  # the URL that answered, after redirects
    http_status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: str

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# ---------------------------------------------------------- record transitions


def failure_record(
    previous: PageRecord | None,
    url: str,
    *,
    status: str,
    now: str,
    http_status: int | None = None,
    final_url: str | None = None,
    error: str | None = None,
) -> PageRecord:
    """A failed attempt: new status, but the last good text, validators and
    last_ok_at survive, so a dead link still says what it used to say."""
    if previous is None:
        return PageRecord(url, status, http_status, final_url, fetched_at=now, error=error)
    return replace(
        previous,
        status=status,
        http_status=http_status,
        final_url=final_url or previous.final_url,
        fetched_at=now,
        error=error,
    )


def not_modified_record(
    previous: PageRecord, *, now: str, etag: str | None, last_modified: str | None
) -> PageRecord:
    return replace(
        previous,
        status="not_modified",
        http_status=304,
        fetched_at=now,
        last_ok_at=now,
        etag=etag or previous.etag,
        last_modified=last_modified or previous.last_modified,
        error=None,
    )


def response_record(
    previous: PageRecord | None,
    url: str,
    response: StoredResponse,
    limits: FetchLimits,
    *,
    now: str,
) -> tuple[PageRecord, StoredResponse | None]:
    """A 2xx response -> the page's new record (text extracted here) and the response
    worth keeping, or a failure record when Recall cannot read that kind of body."""
    content_type = response.header("content-type")
    digest = body_hash(response.body)
    if previous is not None and previous.body_hash == digest and previous.kind:
        # Same bytes as last time (a server without validators): reuse the text.
        record = replace(previous, error=None)
    else:
        extracted = extract(
            response.body,
            content_type,
            response.url,
            max_pdf_pages=limits.max_pdf_pages,
            max_text_chars=limits.max_text_chars,
            max_html_chars=limits.max_html_chars,
            max_pdf_content_bytes=limits.max_pdf_content_bytes,
        )
        if extracted.kind == "unsupported":
            failed = failure_record(
                previous,
                url,
                status="unsupported_type",
                now=now,
                http_status=response.http_status,
                final_url=response.url,
                error=extracted.error,
            )
            return failed, None
        record = PageRecord(
            url,
            "ok",
            title=extracted.title,
            text=extracted.text,
            description=extracted.description,
            author=extracted.author,
            published=extracted.date,
            language=extracted.language,
            kind=extracted.kind,
            error=extracted.error,
        )
    record = replace(
        record,
        status="ok",
        http_status=response.http_status,
        final_url=response.url,
        content_type=content_type,
        etag=response.header("etag"),
        last_modified=response.header("last-modified"),
        fetched_at=now,
        last_ok_at=now,
        body_hash=digest,
    )
    return record, response


# ------------------------------------------------------------------- the store

_PAGE_COLUMNS = [f.name for f in fields(PageRecord)]
_EVIDENCE_COLUMNS = [f.name for f in fields(Evidence)]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, status TEXT NOT NULL, http_status INTEGER, final_url TEXT,
    content_type TEXT, etag TEXT, last_modified TEXT, fetched_at TEXT, last_ok_at TEXT,
    body_hash TEXT, title TEXT, text TEXT NOT NULL DEFAULT '', description TEXT,
    author TEXT, published TEXT, language TEXT, kind TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS link_checks (
    url TEXT PRIMARY KEY, checked_at TEXT NOT NULL, result TEXT NOT NULL, gone_since TEXT,
    gone_last_at TEXT, gone_checks INTEGER NOT NULL, alive_at TEXT
);
CREATE TABLE IF NOT EXISTS responses (
    url TEXT PRIMARY KEY, final_url TEXT NOT NULL, http_status INTEGER NOT NULL,
    reason TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, fetched_at TEXT NOT NULL
);
"""
_SQLITE_MAGIC = b"SQLite format 3\x00"
_CORRUPTION_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
# Caches this process has open, by file. SQLite's POSIX locks belong to the process, and
# closing any descriptor of the file drops them all (https://sqlite.org/howtocorrupt.html,
# 2.2): the header check, which opens the file itself, runs only when no connection of this
# process has it open.
_OPEN_HERE: dict[Path, int] = {}
_OPEN_HERE_LOCK = threading.Lock()
# How long a cache that looks damaged while other processes have it open is looked at again
# before it is treated as damaged all the same.
_DAMAGE_WAIT_SECONDS = 10.0


def _file_problem(path: Path) -> str | None:
    """Cheap structural check of a SQLite file: magic and size against its header.
    (A full integrity check would read every page of a multi-gigabyte cache.)"""
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return None
    if not header:
        return None  # an empty file is a valid, empty database
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "not a SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    header_count_valid = header[24:28] == header[92:96]
    if header_count_valid and path.stat().st_size < page_size * page_count:
        return f"truncated ({path.stat().st_size} bytes, header says {page_size * page_count})"
    return None


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPTION_CODES
    return not isinstance(exc, sqlite3.OperationalError)


class PageCache:
    """Pages keyed by normalised URL in `<directory>/pages.sqlite`.

    Safe to share between threads (one connection behind a lock) and processes: each
    open cache holds a shared lock on `<file>.lock`. A file that is not SQLite or is
    truncated is moved aside and replaced by a fresh cache, but only by a process that
    holds that lock alone: what looks damaged while another process has the cache open
    is that process's write in progress, and is waited out.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / CACHE_FILENAME
        self._lock = threading.Lock()
        self._users = (self.directory / f"{CACHE_FILENAME}.lock").open("a+")
        self._key = self.path.resolve()
        with _OPEN_HERE_LOCK:
            try:
                self._db = self._open()
            except BaseException:
                self._users.close()
                raise
            _OPEN_HERE[self._key] = _OPEN_HERE.get(self._key, 0) + 1

    # -- opening

    def _open(self) -> sqlite3.Connection:
        deadline = time.monotonic() + _DAMAGE_WAIT_SECONDS
        while True:
            fcntl.flock(self._users, fcntl.LOCK_SH)
            problem = None if _OPEN_HERE.get(self._key) else _file_problem(self.path)
            if problem is None:
                try:
                    return self._connect()
                except sqlite3.DatabaseError as exc:
                    if not _is_corruption(exc):
                        raise  # locked, read-only, disk full: not ours to throw away
                    problem = str(exc)
            if self._alone() or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # another process is writing: look again
        self._move_aside(problem)
        db = self._connect()
        fcntl.flock(self._users, fcntl.LOCK_SH)
        return db

    def _alone(self) -> bool:
        """Take the lock exclusively if no other process has the cache open (then the
        damage is real and moving the file aside takes nothing from anyone)."""
        try:
            fcntl.flock(self._users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # A failed conversion may have dropped the shared lock (flock converts by
            # unlocking first): take it again, or another process could think it alone.
            fcntl.flock(self._users, fcntl.LOCK_SH)
            return False
        return True

    def _connect(self) -> sqlite3.Connection:
        # Writers of other processes (builds, `recall add`) can hold the lock for a while.
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            # Only a new cache is written to at open: opens of other processes then never
            # wait on (or contend with) each other's writes.
            if db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
                with db:
                    db.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('cache_id', ?), ('generation', '0')",
                        (uuid.uuid4().hex,),
                    )
            # Reads the last leaf of each table: a damaged tail fails here, not mid-build.
            db.execute("SELECT url FROM pages ORDER BY url DESC LIMIT 1").fetchall()
            db.execute("SELECT url FROM responses ORDER BY url DESC LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _move_aside(self, problem: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        self.path.rename(target)
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists():
                sidecar.rename(target.with_name(target.name + suffix))
        log.warning(
            "page cache %s is unreadable (%s); moved it to %s and started a fresh cache",
            self.path,
            problem,
            target,
        )

    def _use(self, work):
        """work(connection) under the lock. Damage the open-time check cannot see (a
        garbled page in the middle of the file) surfaces here as a corruption error: the
        file is then moved aside like a damaged one at open, and `work` runs again on a
        fresh cache, so a fetch goes on instead of failing every page it touches."""
        with self._lock:
            deadline = time.monotonic() + _DAMAGE_WAIT_SECONDS
            while True:
                try:
                    return work(self._db)
                except sqlite3.DatabaseError as exc:
                    if not _is_corruption(exc):
                        raise
                    problem = str(exc)
                self._db.close()
                if self._alone() or time.monotonic() > deadline:
                    break
                time.sleep(0.05)  # another process's write in progress
                self._db = self._connect()
            self._move_aside(problem)
            self._db = self._connect()
            fcntl.flock(self._users, fcntl.LOCK_SH)
            return work(self._db)

    # -- reading

    def get(self, url: str) -> PageRecord | None:
        query = f"SELECT {', '.join(_PAGE_COLUMNS)} FROM pages WHERE url = ?"
        row = self._use(lambda db: db.execute(query, (normalize_url(url),)).fetchone())
        return PageRecord(*row) if row else None

    def all(self) -> Iterator[PageRecord]:
        """Every page in URL order, read in batches so a large cache is never all in memory."""
        after = ""
        query = f"SELECT {', '.join(_PAGE_COLUMNS)} FROM pages WHERE url > ? ORDER BY url LIMIT ?"
        while True:
            rows = self._use(lambda db: db.execute(query, (after, _BATCH)).fetchall())  # noqa: B023
            if not rows:
                return
            for row in rows:
                yield PageRecord(*row)
            after = rows[-1][0]

    def response(self, url: str) -> StoredResponse | None:
        query = (
            "SELECT final_url, http_status, reason, headers, body, fetched_at "
            "FROM responses WHERE url = ?"
        )
        row = self._use(lambda db: db.execute(query, (normalize_url(url),)).fetchone())
        if row is None:
            return None
        final_url, status, reason, headers, body, fetched_at = row
        try:  # a damaged blob passes SQLite's checks
            pairs = [(k, v) for k, v in json.loads(headers)]
            body = zlib.decompress(body)
        except (ValueError, TypeError, zlib.error) as exc:
            log.warning(
                "page cache %s: the stored response of %s is damaged (%s)", self.path, url, exc
            )
            return None
        return StoredResponse(final_url, status, reason, pairs, body, fetched_at)

    def evidence(self, urls: list[str] | None = None) -> dict[str, Evidence]:
        """What the checks of these links (or of every link) showed, by normalised URL."""
        query = f"SELECT {', '.join(_EVIDENCE_COLUMNS)} FROM link_checks"
        rows = self._use(lambda db: db.execute(query).fetchall())
        found = {row[0]: Evidence(*row) for row in rows}
        if urls is None:
            return found
        wanted = (normalize_url(url) for url in urls)
        return {url: found[url] for url in wanted if url in found}

    def __len__(self) -> int:
        return self._use(lambda db: db.execute("SELECT count(*) FROM pages").fetchone()[0])

    def state(self) -> str | None:
        """Changes with every page stored and differs between caches: an equal state means
        the cache holds exactly what it held when the state was read."""
        rows = self._use(lambda db: db.execute("SELECT key, value FROM meta").fetchall())
        meta = dict(rows)
        if "cache_id" not in meta or "generation" not in meta:
            return None
        return f"{meta['cache_id']}:{meta['generation']}"

    # -- writing

    def put(self, record: PageRecord, response: StoredResponse | None = None) -> None:
        """Store a page record, and the response behind it when it is a new good one."""
        values = [getattr(record, name) for name in _PAGE_COLUMNS]
        blob = zlib.compress(response.body, 6) if response is not None else None
        self._use(lambda db: self._write(db, record, values, response, blob))

    @staticmethod
    def _write(db, record, values, response, blob) -> None:
        with db:
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            db.execute(
                f"INSERT OR REPLACE INTO pages ({', '.join(_PAGE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_PAGE_COLUMNS))})",
                values,
            )
            if response is not None:
                db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.url,
                        response.url,
                        response.http_status,
                        response.reason,
                        json.dumps(list(response.headers)),
                        blob,
                        response.fetched_at,
                    ),
                )

    def record_checks(self, results: dict[str, str], now: str) -> None:
        """One more check of each link (normalised URL -> alive, gone or failed)."""
        if not results:
            return
        previous = self.evidence(list(results))
        updated = [observe(previous.get(url), url, result, now) for url, result in results.items()]
        rows = [[getattr(proof, name) for name in _EVIDENCE_COLUMNS] for proof in updated]
        insert = (
            f"INSERT OR REPLACE INTO link_checks ({', '.join(_EVIDENCE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_EVIDENCE_COLUMNS))})"
        )

        def write(db) -> None:
            with db:
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
                db.executemany(insert, rows)

        self._use(write)

    def close(self) -> None:
        with self._lock, _OPEN_HERE_LOCK:
            if self._users.closed:
                return
            self._db.close()
            self._users.close()  # releases the shared lock
            _OPEN_HERE[self._key] -= 1

    def __enter__(self) -> PageCache:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
