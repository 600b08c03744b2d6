"""Every read and write of an index directory, and its atomic publication.

Layout: the index path (data/index by default) is a symlink to one finished
build under `<index>.builds/<build_id>/`. A build is written into a temporary
folder there, checked, renamed, and published by atomically replacing the
symlink, so a reader sees either the old index or the new one, never a mix, and
a build killed at any point leaves the served index untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.chunk import Passage
from indexer.morphology import TOKENIZER_NAME

if TYPE_CHECKING:
    import faiss
    import numpy as np

    from indexer.lexical import FieldIndex
    from indexer.wordbridge import WordVectors

# numpy, FAISS and the keyword index are imported by the functions that use them, so that
# reading an index's metadata (`recall stats`, `recall export`) imports none of them.

FORMAT_VERSION = 4  # 2: keyword index per resource field; 3: its own postings files;
# 4: the Korean compounds the query reader uses (indexer/lexicon.py)
MANIFEST = "manifest.json"
META = "meta.sqlite"
DENSE = "dense.faiss"
SQL_VARIABLES = 999  # what a query may bind in SQLite before 3.32 (32,766 since)
DOC_VECTORS = "doc_vectors.npy"
PASSAGE_DOCS = "passage_docs.npy"
LEXICAL_DIR = "lexical"
WORDS = "words.json"  # the lists' words, and their vectors (indexer/wordbridge.py)
WORD_VECTORS = "word_vectors.npy"
WORD_NEAREST = "word_nearest.npy"  # each word's best similarities to the other language
WORD_NEAREST_ROWS = "word_nearest_rows.npy"  # ... and the rows of those words
# Above the threshold: an inverted file of sqrt(n) k-means lists, a search scanning
# 1/IVF_PROBE_SHARE of them but never fewer than IVF_MIN_PROBES. On 2 cores it is written
# for 1M vectors in under a minute where HNSW took 3, and finds more of the exact top 10:
# 0.975 at 1M where HNSW (M=32, efConstruction 80, efSearch 128) found 0.62, measured by
# bench/latency.py on the same vectors (the probe sweep is in BENCHMARKS.md).
IVF_PROBE_SHARE = 16
IVF_MIN_PROBES = 48
IVF_TRAIN_POINTS_PER_LIST = 64
KEEP_BUILDS = 3  # the served build and two before it, for readers still loading them
REBUILD_HINT = "rebuild it with `recall build --full`"


class IndexProblem(RuntimeError):
    """An index cannot be used; the message names the file and the fix."""


class IndexMissing(IndexProblem):
    pass


class IndexIncompatible(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


class BuildLocked(IndexProblem):
    pass


KIND_CODES = {"profile": 0, "note": 1, "page": 2}
KIND_NAMES = {code: name for name, code in KIND_CODES.items()}


@dataclass
class IndexData:
    """Everything one build writes; produced by build.py, consumed by write_index."""

    manifest: dict
    docs: list[dict]  # resource or note records, in doc order
    passages: list[Passage]
    passage_docs: np.ndarray  # int32 doc position of each passage
    vectors: np.ndarray  # float32 (n_passages, dim), L2-normalised
    doc_vectors: np.ndarray  # float32 (n_docs, dim), L2-normalised
    lexical: FieldIndex
    pages: dict[str, str]  # doc id -> extracted page text
    ann_threshold: int
    words: WordVectors | None = None  # none: the model bridges no words


# ------------------------------------------------------------------ writing


def builds_dir(index_path: Path) -> Path:
    return index_path.parent / f"{index_path.name}.builds"


def _crc32(path: Path) -> str:
    crc = 0
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            crc = zlib.crc32(block, crc)
    return f"{crc:08x}"


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        if path.is_file():
            with path.open("rb") as file:
                os.fsync(file.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dense_kind(count: int, ann_threshold: int) -> str:
    """The dense index for `count` passages: exact "flat" up to the threshold, "ivf" above."""
    return "flat" if count <= ann_threshold else "ivf"


def ivf_lists(count: int) -> int:
    return max(1, round(math.sqrt(count)))


def ivf_probes(lists: int) -> int:
    return min(lists, max(IVF_MIN_PROBES, math.ceil(lists / IVF_PROBE_SHARE)))


def dense_index(vectors: np.ndarray, ann_threshold: int) -> tuple[faiss.Index, str]:
    """Exact inner product for small indexes, an inverted file (IVF) above the threshold."""
    import faiss
    import numpy as np

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    kind = dense_kind(len(vectors), ann_threshold)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, kind
    lists = ivf_lists(len(vectors))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.min_points_per_centroid = 1  # small test indexes: no warning
    index.cp.max_points_per_centroid = IVF_TRAIN_POINTS_PER_LIST  # faiss samples (seeded)
    index.train(vectors)
    index.add(vectors)
    index.make_direct_map()  # reconstruct(row), so that an incremental build reuses vectors
    index.nprobe = ivf_probes(lists)  # saved with the index
    return index, kind


_SCHEMA = """
CREATE TABLE docs (pos INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
CREATE TABLE passages (row INTEGER PRIMARY KEY, doc INTEGER NOT NULL, kind TEXT NOT NULL,
                       text TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE pages (id TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE INDEX passages_by_doc ON passages (doc);
"""


def _write_meta(path: Path, data: IndexData) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        # A staging file: no journal and no sync of its own, as every file of the build is
        # synced before it is published, and a build that dies here is thrown away.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)",
            (
                (pos, doc["id"], json.dumps(doc, ensure_ascii=False))
                for pos, doc in enumerate(data.docs)
            ),
        )
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
            (
                (row, int(data.passage_docs[row]), p.kind, p.text, p.hash)
                for row, p in enumerate(data.passages)
            ),
        )
        db.executemany("INSERT INTO pages VALUES (?, ?)", data.pages.items())
        db.commit()


@contextlib.contextmanager
def build_lock(index_path: Path) -> Iterator[None]:
    """One build at a time per index; a second one fails at once instead of racing."""
    folder = builds_dir(index_path)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLocked(f"another build of {index_path} is running") from exc
        yield


def write_index(index_path: Path, data: IndexData) -> Path:
    """Write a build beside the served one and publish it atomically; returns its folder."""
    import faiss
    import numpy as np

    folder = builds_dir(index_path)
    folder.mkdir(parents=True, exist_ok=True)
    build_id = data.manifest["build_id"]
    staging = folder / f"tmp-{os.getpid()}-{build_id}"
    staging.mkdir()
    try:
        index, kind = dense_index(data.vectors, data.ann_threshold)
        faiss.write_index(index, str(staging / DENSE))
        np.save(staging / DOC_VECTORS, data.doc_vectors.astype(np.float32))
        np.save(staging / PASSAGE_DOCS, data.passage_docs.astype(np.int32))
        _write_meta(staging / META, data)
        data.lexical.save(staging / LEXICAL_DIR)
        files = [DENSE, DOC_VECTORS, PASSAGE_DOCS, META]
        if data.words is not None:
            np.save(staging / WORD_VECTORS, data.words.vectors.astype(np.float32))
            np.save(staging / WORD_NEAREST, data.words.nearest.astype(np.float32))
            np.save(staging / WORD_NEAREST_ROWS, data.words.nearest_rows.astype(np.int32))
            words = {"words": data.words.words, "spelled": data.words.spelled}
            if data.words.blank is not None:
                words["blank"] = data.words.blank.astype(np.float32).tolist()
            (staging / WORDS).write_text(json.dumps(words, ensure_ascii=False), "utf-8")
            files += [WORD_VECTORS, WORD_NEAREST, WORD_NEAREST_ROWS, WORDS]
        manifest = dict(data.manifest)
        manifest["format_version"] = FORMAT_VERSION
        manifest["dense_index"] = kind
        manifest["files"] = {name: _crc32(staging / name) for name in files}
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        _fsync_tree(staging)
        final = folder / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish(index_path, final)
    _collect_garbage(folder, keep=final)
    return final


def _publish(index_path: Path, build: Path) -> None:
    if index_path.exists() and not index_path.is_symlink():
        # A folder from before builds were published by symlink: keep it aside.
        index_path.rename(builds_dir(index_path) / f"legacy-{int(time.time())}")
    link = index_path.parent / f".{index_path.name}.link-{uuid.uuid4().hex[:8]}"
    link.symlink_to(os.path.relpath(build, index_path.parent))
    os.replace(link, index_path)
    fd = os.open(index_path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _collect_garbage(folder: Path, keep: Path) -> None:
    """Drop staging folders of dead builds and all but the newest finished builds."""
    finished = []
    for path in folder.iterdir():
        if not path.is_dir():
            continue
        if path.name.startswith("tmp-"):
            pid = path.name.split("-")[1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
        else:
            finished.append(path)
    finished.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for path in finished[KEEP_BUILDS:]:
        if path != keep:
            shutil.rmtree(path, ignore_errors=True)


def clean_stale_staging(index_path: Path) -> None:
    """Leftovers of killed builds; called under the build lock, so none is in use."""
    for link in index_path.parent.glob(f".{index_path.name}.link-*"):
        link.unlink(missing_ok=True)  # made by a build killed before swapping it in
    folder = builds_dir(index_path)
    if folder.is_dir():
        for path in folder.glob("tmp-*"):
            pid = path.name.split("-")[1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ reading


# What readers, searchers and `recall stats` take from a manifest; without "files" the
# checksums of the other files would silently go unchecked.
_MANIFEST_KEYS = (
    "build_id",
    "built_at",
    "model",
    "dimension",
    "tokenizer",
    "dense_index",
    "counts",
    "fetch_counts",
    "sources",
    "files",
)


def read_manifest(index_path: Path) -> dict:
    """The manifest of the served build, or a clear IndexProblem."""
    path = index_path / MANIFEST
    if not index_path.exists():
        raise IndexMissing(f"no index at {index_path}: build one with `recall build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexMissing(
            f"no index at {index_path} ({MANIFEST} missing): {REBUILD_HINT}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index manifest {path} is unreadable ({exc}): {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexCorrupt(f"index manifest {path} is not a Recall manifest: {REBUILD_HINT}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexIncompatible(
            f"index {index_path} has format {manifest['format_version']}, this Recall reads "
            f"format {FORMAT_VERSION}: {REBUILD_HINT}"
        )
    missing = [key for key in _MANIFEST_KEYS if key not in manifest]
    counts = manifest.get("counts")
    passages_counted = isinstance(counts, dict) and isinstance(counts.get("passages"), int)
    if "counts" not in missing and not passages_counted:
        missing.append("counts.passages")
    if missing:
        raise IndexCorrupt(f"index manifest {path} lacks {', '.join(missing)}: {REBUILD_HINT}")
    return manifest


def check_tokenizer(index_path: Path, manifest: dict) -> None:
    """IndexIncompatible when another tokenizer analysed the index's keyword index: its
    words would silently miss this Recall's queries."""
    tokenizer = manifest["tokenizer"]
    if tokenizer != TOKENIZER_NAME:
        raise IndexIncompatible(
            f"index {index_path} was built with tokenizer {tokenizer!r}, this Recall analyses "
            f"text with {TOKENIZER_NAME!r}: rebuild it with `recall build`"
        )


def verify_files(folder: Path, manifest: dict) -> None:
    """Every file of a build against its checksum in the manifest, or IndexCorrupt."""
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        try:
            actual = _crc32(path)
        except OSError as exc:
            raise IndexCorrupt(
                f"index file {path} is missing ({exc.strerror}): {REBUILD_HINT}"
            ) from exc
        if actual != expected:
            raise IndexCorrupt(f"index file {path} is truncated or corrupt: {REBUILD_HINT}")


class IndexMetadata:
    """One published build's manifest and records (resources, notes, passages' text, pages),
    checked against the manifest's checksums and pinned: a later publish does not affect it.

    No vectors and no keyword index, so opening it imports neither FAISS search nor BM25:
    what `recall stats` and `recall export` read."""

    def __init__(self, index_path: Path):
        self.requested = index_path
        self.path = index_path.resolve()
        self.manifest = read_manifest(self.path)
        verify_files(self.path, self.manifest)
        self._db = sqlite3.connect(
            f"file:{self.path / META}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        try:
            self.docs = [
                json.loads(data)
                for (data,) in self._db.execute("SELECT data FROM docs ORDER BY pos")
            ]
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise IndexCorrupt(
                f"index metadata {self.path / META} is corrupt ({exc}): {REBUILD_HINT}"
            ) from exc
        self.position = {doc["id"]: pos for pos, doc in enumerate(self.docs)}

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]

    @property
    def several_lists(self) -> bool:
        """Whether the index was built from more than one list or export holding links (a
        README beside one list does not count): then a hit names the list it is in."""
        files = self.manifest.get("source_files", ())
        return sum(1 for file in files if file.get("links", 1)) > 1

    def passage_rows(self, rows: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(kind, text) of the given passage rows."""
        rows = [int(row) for row in rows]
        found = {}
        for start in range(0, len(rows), SQL_VARIABLES):  # SQLite bounds a query's variables
            chunk = rows[start : start + SQL_VARIABLES]
            query = (
                f"SELECT row, kind, text FROM passages WHERE row IN ({','.join('?' * len(chunk))})"
            )
            found.update({row: (kind, text) for row, kind, text in self._db.execute(query, chunk)})
        return found

    def doc_passages(self, pos: int) -> list[tuple[int, str, str]]:
        query = "SELECT row, kind, text FROM passages WHERE doc = ? ORDER BY row"
        return list(self._db.execute(query, (pos,)))

    def passage_hashes(self) -> dict[str, int]:
        """Content hash -> row, for reusing vectors in an incremental build."""
        return {hash_: row for row, hash_ in self._db.execute("SELECT row, hash FROM passages")}

    def page_text(self, doc_id: str) -> str:
        row = self._db.execute("SELECT text FROM pages WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""

    def size_on_disk(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def close(self) -> None:
        self._db.close()


class IndexReader(IndexMetadata):
    """A published build with its vectors and keyword index: what search reads.

    The dense index and the vector arrays are memory-mapped (the checksums have just read
    them into the page cache, and a build never changes a published file), so opening copies
    nothing and several processes serving one index share its pages."""

    def __init__(self, index_path: Path):
        super().__init__(index_path)
        import faiss
        import numpy as np

        from indexer.lexical import FieldIndex, LexicalIndexError

        try:
            try:
                self.dense = faiss.read_index(str(self.path / DENSE), faiss.IO_FLAG_MMAP_IFC)
                # Mapped, not read; as plain arrays over the mapping, since indexing a memmap
                # costs each query a subclass's bookkeeping.
                self.doc_vectors = np.asarray(np.load(self.path / DOC_VECTORS, mmap_mode="r"))
                self.passage_docs = np.asarray(np.load(self.path / PASSAGE_DOCS, mmap_mode="r"))
            except (RuntimeError, ValueError, OSError) as exc:
                raise IndexCorrupt(
                    f"index file in {self.path} is corrupt ({exc}): {REBUILD_HINT}"
                ) from exc
            try:
                self.lexical = FieldIndex.load(self.path / LEXICAL_DIR)
            except LexicalIndexError as exc:
                raise IndexCorrupt(f"{exc}: {REBUILD_HINT}") from exc
            self.words = self._words()
            self._check_counts()
        except BaseException:
            self.close()
            raise

    def _words(self) -> WordVectors | None:
        """The lists' words and their vectors; None in an index built before it had them."""
        import numpy as np

        from indexer.wordbridge import NEAREST, WordVectors

        if WORDS not in self.manifest["files"]:
            return None
        try:
            table = json.loads((self.path / WORDS).read_text(encoding="utf-8"))
            words, spelled = table["words"], table["spelled"]
            blank = table.get("blank")  # none before 2026-12-04
            blank = None if blank is None else np.asarray(blank, dtype=np.float32)
            vectors, nearest, rows = (
                np.asarray(np.load(self.path / name, mmap_mode="r"))
                for name in (WORD_VECTORS, WORD_NEAREST, WORD_NEAREST_ROWS)
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(
                f"index words in {self.path} are unreadable ({exc}): {REBUILD_HINT}"
            ) from exc
        lists = (words, spelled)
        if not all(isinstance(w, list) and all(isinstance(x, str) for x in w) for w in lists) or (
            len(spelled) != len(words)
            or vectors.shape != (len(words), self.dense.d)
            or nearest.shape != (len(words), NEAREST)
            or rows.shape != (len(words), NEAREST)
            or (len(rows) and not 0 <= int(rows.min()) <= int(rows.max()) < len(words))
            or (blank is not None and blank.shape != (self.dense.d,))
        ):
            raise IndexCorrupt(
                f"index file {self.path / WORDS} does not match {WORD_VECTORS}, {WORD_NEAREST} "
                f"and {WORD_NEAREST_ROWS}: {REBUILD_HINT}"
            )
        return WordVectors(words, spelled, vectors, rows, nearest, blank)

    def _check_counts(self) -> None:
        passages = self.manifest["counts"]["passages"]
        if self.dense.ntotal != passages or len(self.passage_docs) != passages:
            raise IndexCorrupt(f"index {self.path} has inconsistent passage counts: {REBUILD_HINT}")
        if len(self.docs) != len(self.doc_vectors):
            raise IndexCorrupt(
                f"index {self.path} has inconsistent document counts: {REBUILD_HINT}"
            )

    def vectors(self, rows: list[int]) -> np.ndarray:
        import numpy as np

        if not rows:
            return np.zeros((0, self.dense.d), dtype=np.float32)
        return np.vstack([self.dense.reconstruct(int(row)) for row in rows]).astype(np.float32)
