"""The indexing pipeline: parse, fetch, chunk, embed, and publish an index, incrementally."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from indexer.chunk import Passage
from indexer.config import Settings
from indexer.documents import (
    doc_passages,
    evidence,
    field_index,
    note_doc,
    resource_doc,
    same_pages,
    served_page,
)
from indexer.embed import Embedder, load_embedder
from indexer.lexical import FieldIndex
from indexer.linkhealth import last_seen_alive, link_health
from indexer.morphology import TOKENIZER_NAME
from indexer.query import glossary_phrases
from indexer.resources import ParseResult, Resource
from indexer.sources.files import list_files, parse_sources
from indexer.sources.options import ReadOptions
from indexer.store import (
    FORMAT_VERSION,
    IndexData,
    IndexProblem,
    IndexReader,
    build_lock,
    clean_stale_staging,
    dense_kind,
    read_manifest,
    verify_files,
    write_index,
)
from indexer.tokencache import TokenCache
from indexer.wordbridge import (
    BLANK_LIKENESS,
    MAX_WORDS,
    WORD_FIELDS,
    WORD_SIMILARITY,
    WORDS_FORMAT,
    WordVectors,
    embed_words,
    index_words,
    spellings,
)

log = logging.getLogger(__name__)

PROFILE_WEIGHT = 2.0  # the profile counts twice in a resource's vector


class NothingToIndex(ValueError):
    """The sources hold no resource and no note: publishing would replace the served index
    with an empty one."""


@dataclass
class FetchOutcome:
    pages: dict  # normalised URL -> PageRecord
    stats: dict
    imported: dict | None = None
    evidence: dict = field(default_factory=dict)  # normalised URL -> linkhealth.Evidence


def fetch_pages(
    resources: list[Resource],
    settings: Settings,
    *,
    offline: bool,
    progress: bool = False,
    max_age_seconds: float | None = None,
    import_warc: Path | None = None,
    export_warc: Path | None = None,
) -> FetchOutcome:
    """Fetch (or read from the cache) the page of every resource with a valid URL."""
    from indexer.fetch import Fetcher
    from indexer.pagecache import PageCache

    urls = [r.url for r in resources if r.url_status == "ok"]
    imported = None
    with PageCache(settings.cache_dir) as cache:
        if import_warc:
            from indexer.warc import import_warc as read_warc

            imported = read_warc(cache, import_warc, urls, settings.fetch).to_dict()
        fetcher = Fetcher(
            cache,
            settings.fetch,
            allow_hosts=settings.allow_hosts,
            offline=offline,
            max_age_seconds=max_age_seconds,
        )
        pages = fetcher.fetch_all(urls, progress=progress)
        stats = fetcher.stats.to_dict()
        if export_warc:
            from indexer.warc import export_warc as write_warc

            stats["exported"] = write_warc(cache, export_warc)
        evidence = cache.evidence(urls)
    return FetchOutcome(pages, stats, imported, evidence)


# ------------------------------------------------------------------ the build


@dataclass
class BuildReport:
    index: Path
    resources: int = 0
    notes: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    texts_analysed: int = 0  # distinct field texts analysed (not in the token cache)
    texts_reused: int = 0
    unchanged: bool = False
    dense_index: str = ""
    fetch_counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    build_id: str = ""

    def to_dict(self) -> dict:
        data = self.__dict__.copy()
        data["index"] = str(self.index)
        return data


def _source_entries(sources: list[Path]) -> list[dict]:
    entries = []
    for path in list_files(sources):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        entries.append({"path": str(path), "sha256": digest})
    return entries


@functools.cache
def _code_digest() -> str:
    """The indexer's own source and data files: a new Recall may parse or chunk differently."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".tsv")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _content_hash(
    model: str, docs: list[dict], passages: list[Passage], phrases: list[tuple[str, ...]]
) -> str:
    """What the index is made of: the model's vectors of the passages, and the keyword
    index, which the tokenizer makes and which records where the glossary's terms stand (a
    new tokenizer or glossary rebuilds it, reusing the vectors)."""
    digest = hashlib.sha256(f"{model}\0{TOKENIZER_NAME}".encode())
    if model in WORD_SIMILARITY:  # the index holds its words' vectors too
        digest.update(json.dumps([WORD_FIELDS, MAX_WORDS, WORDS_FORMAT]).encode())
    digest.update(json.dumps(phrases, ensure_ascii=False).encode())
    for doc in docs:
        digest.update(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode())
    for passage in passages:
        digest.update(passage.hash.encode())
    return digest.hexdigest()


def index_data(
    manifest: dict,
    docs: list[dict],
    passages: list[Passage],
    positions: list[int],
    vectors: np.ndarray,
    lexical: FieldIndex,
    pages: dict[str, str],
    ann_threshold: int,
    words: WordVectors | None = None,
) -> IndexData:
    """Everything `write_index` stores; each document's vector is the weighted mean of its
    passages' vectors (the profile counts PROFILE_WEIGHT times), normalised."""
    passage_docs = np.asarray(positions, dtype=np.int32)
    weights = np.array(
        [PROFILE_WEIGHT if p.kind == "profile" else 1.0 for p in passages], np.float32
    )
    sums = np.zeros((len(docs), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, passage_docs, vectors * weights[:, None])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return IndexData(
        manifest=manifest,
        docs=docs,
        passages=passages,
        passage_docs=passage_docs,
        vectors=vectors,
        doc_vectors=sums / np.maximum(norms, 1e-12),
        lexical=lexical,
        pages=pages,
        ann_threshold=ann_threshold,
        words=words,
    )


def maintained(settings: Settings) -> Settings:
    """Settings for rebuilding the served index as it was built: the reading (privacy)
    options it recorded, so that `recall add` or `recall check-links` never puts back a
    name or an address that `recall build --pseudonymize` kept out."""
    try:
        recorded = read_manifest(settings.index_dir).get("reading")
    except IndexProblem:
        return settings
    if not isinstance(recorded, dict):
        return settings
    fields_known = {f.name for f in dataclass_fields(ReadOptions)}
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()}
    return replace(
        settings, reading=ReadOptions(**{k: v for k, v in options.items() if k in fields_known})
    )


class Builder:
    """Runs the pipeline; the embedder and fetch step are injectable for tests."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder

    def load_model(self) -> Embedder:
        """The embedder, loaded on first use (a build with nothing new to embed never
        loads it) or ahead of it by a caller that knows it will be needed."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def build(
        self,
        sources: list[Path],
        *,
        offline: bool = False,
        full: bool = False,
        progress: bool = False,
        import_warc: Path | None = None,
        fetch=fetch_pages,
    ) -> BuildReport:
        index_path = self.settings.index_dir
        index_path.parent.mkdir(parents=True, exist_ok=True)
        report = BuildReport(index=index_path)
        clock = time.perf_counter()
        with build_lock(index_path):
            clean_stale_staging(index_path)
            # An offline build of the same lists from the same cache would publish the
            # same index: when the served one was built from exactly these inputs, stop.
            model = self._embedder.name if self._embedder is not None else self.settings.model
            source_entries = _source_entries(sources)
            if offline and not full and not import_warc and fetch is fetch_pages:
                inputs = self._inputs_fingerprint(source_entries, model)
                if self._served_unchanged(index_path, inputs, report):
                    report.seconds["check"] = round(time.perf_counter() - clock, 3)
                    return report
            parsed = parse_sources(sources, self.settings.reading)
            parsed = self._limit(parsed, report)
            if not parsed.resources and not parsed.notes:
                warned = f" ({parsed.warnings[0]})" if parsed.warnings else ""
                raise NothingToIndex(
                    f"nothing published: the {len(parsed.files)} file(s) read from "
                    f"{', '.join(map(str, sources))} hold no link and no note{warned}; the "
                    "index being served, if any, is unchanged"
                )
            report.warnings.extend(str(w) for w in parsed.warnings)
            # Opened before the fetch, which may be waiting for a page (`recall add`).
            previous = self._previous(index_path, model, full)
            report.seconds["parse"] = round(time.perf_counter() - clock, 3)

            clock = time.perf_counter()
            try:
                fetched = fetch(
                    parsed.resources,
                    self.settings,
                    offline=offline,
                    progress=progress,
                    import_warc=import_warc,
                )
            except BaseException:
                if previous is not None:
                    previous.close()
                raise
            report.seconds["fetch"] = round(time.perf_counter() - clock, 3)
            if fetched.imported:
                report.warnings.append(f"WARC import: {fetched.imported}")

            clock = time.perf_counter()
            docs, pages, kept = [], {}, 0
            for resource in parsed.resources:
                page = fetched.pages.get(resource.url) if resource.url_status == "ok" else None
                if page is not None and page.status == "offline" and previous is not None:
                    # Not in the page cache (deleted, or moved aside as damaged) and not
                    # fetched: keep what the served index knew of the page.
                    served = served_page(previous, resource.id)
                    if served is not None:
                        page, kept = served, kept + 1
                docs.append(resource_doc(resource, page))
                proof = fetched.evidence.get(resource.url)
                docs[-1]["link_health"] = link_health(
                    docs[-1]["fetch_status"], proof, self.settings.dead_rule
                )
                docs[-1]["last_ok_at"] = last_seen_alive(docs[-1]["last_ok_at"], proof)
                if page is not None and page.text:
                    pages[resource.id] = page.text
            if kept:
                report.warnings.append(
                    f"{kept} pages were neither in the page cache nor fetched: kept their "
                    "text and status from the served index"
                )
            docs.extend(note_doc(note) for note in parsed.notes)
            for doc in docs:
                doc.update(evidence(doc))
            same_pages(docs)
            report.fetch_counts = dict(
                sorted(Counter(d["fetch_status"] for d in docs if d["kind"] == "resource").items())
            )
            passages, positions = [], []
            for pos, doc in enumerate(docs):
                for passage in doc_passages(doc, pages.get(doc["id"], "")):
                    passages.append(passage)
                    positions.append(pos)
            report.resources, report.notes, report.passages = (
                len(parsed.resources),
                len(parsed.notes),
                len(passages),
            )
            report.seconds["chunk"] = round(time.perf_counter() - clock, 3)

            # Made here, once per glossary: searches then never need Kiwi.
            phrases = glossary_phrases()
            # The model is only loaded when something needs embedding.
            content_hash = _content_hash(model, docs, passages, phrases)
            # A changed RECALL_ANN_THRESHOLD changes the dense index even when no text did.
            wanted_dense = dense_kind(len(passages), self.settings.ann_threshold)
            if (
                previous is not None
                and previous.manifest.get("content_hash") == content_hash
                and previous.manifest.get("dense_index") == wanted_dense
            ):
                report.unchanged, report.build_id = True, previous.build_id
                report.dense_index = previous.manifest.get("dense_index", "")
                report.reused = len(passages)
                previous.close()
                return report

            clock = time.perf_counter()
            try:
                vectors = self._embed(passages, previous, report, progress)
                report.seconds["embed"] = round(time.perf_counter() - clock, 3)

                clock = time.perf_counter()
                # A full build analyses everything again, as it embeds everything again.
                tokens = TokenCache(self.settings.cache_dir, reuse=not full)
                lexical = field_index(docs, pages, tokens, phrases)
                report.texts_analysed, report.texts_reused = tokens.analysed, tokens.hits
                report.seconds["lexical"] = round(time.perf_counter() - clock, 3)

                clock = time.perf_counter()
                words = self._words(model, lexical, passages, previous, int(vectors.shape[1]))
                report.seconds["words"] = round(time.perf_counter() - clock, 3)
            finally:
                if previous is not None:
                    previous.close()

            clock = time.perf_counter()
            build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            manifest = {
                "build_id": build_id,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "model": model,
                "dimension": int(vectors.shape[1]),
                "tokenizer": TOKENIZER_NAME,
                "counts": {
                    "resources": report.resources,
                    "notes": report.notes,
                    "docs": len(docs),
                    "passages": len(passages),
                },
                "fetch_counts": report.fetch_counts,
                "sources": source_entries,
                # What the build was given, folders as folders: what `recall add` rebuilds.
                "inputs": [str(source.absolute()) for source in sources],
                "source_files": [source.to_dict() for source in parsed.files],
                "reading": self.settings.reading.recorded(),
                "content_hash": content_hash,
                "inputs_fingerprint": self._inputs_fingerprint(source_entries, model),
                "warnings": report.warnings,
                "stage_seconds": report.seconds,
            }
            data = index_data(
                manifest,
                docs,
                passages,
                positions,
                vectors,
                lexical,
                pages,
                self.settings.ann_threshold,
                words,
            )
            folder = write_index(index_path, data)
            report.seconds["publish"] = round(time.perf_counter() - clock, 3)
            report.build_id = build_id
            report.dense_index = json.loads((folder / "manifest.json").read_text())["dense_index"]
        return report

    def _inputs_fingerprint(self, source_entries: list[dict], model: str) -> str | None:
        """A digest of everything an offline build reads: the lists' bytes, the page
        cache's state, the model and the settings and code that shape the index."""
        from indexer.pagecache import PageCache  # imports trafilatura, as fetching does

        with PageCache(self.settings.cache_dir) as cache:
            cache_state = cache.state()
        if cache_state is None:
            return None
        inputs = {
            "code": _code_digest(),
            "format": FORMAT_VERSION,
            "tokenizer": TOKENIZER_NAME,
            "model": model,
            "max_resources": self.settings.max_resources_per_build,
            # what a chat export keeps (privacy options) changes what is indexed
            "reading": asdict(self.settings.reading),
            "dead_rule": asdict(self.settings.dead_rule),  # what makes a checked link dead
            "ann_threshold": self.settings.ann_threshold,
            "sources": source_entries,
            "cache": cache_state,
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    @staticmethod
    def _served_unchanged(index_path: Path, inputs: str | None, report: BuildReport) -> bool:
        """Whether the served index was built from `inputs` and is intact; if so the
        report describes it."""
        if inputs is None or not index_path.exists():
            return False
        try:
            manifest = read_manifest(index_path)
            if manifest.get("inputs_fingerprint") != inputs:
                return False
            verify_files(index_path.resolve(), manifest)
        except IndexProblem as exc:
            log.warning("rebuilding: %s", exc)
            return False
        counts = manifest["counts"]
        report.unchanged, report.build_id = True, manifest["build_id"]
        report.resources, report.notes = counts.get("resources", 0), counts.get("notes", 0)
        report.passages = report.reused = counts["passages"]
        report.dense_index = manifest.get("dense_index", "")
        report.fetch_counts = manifest.get("fetch_counts", {})
        report.warnings = list(manifest.get("warnings", []))
        return True

    def _limit(self, parsed: ParseResult, report: BuildReport) -> ParseResult:
        limit = self.settings.max_resources_per_build
        if len(parsed.resources) > limit:
            report.warnings.append(
                f"{len(parsed.resources)} resources exceed the limit of {limit} "
                f"(RECALL_MAX_RESOURCES); indexed the first {limit}"
            )
            parsed.resources = parsed.resources[:limit]
        return parsed

    def _previous(self, index_path: Path, model: str, full: bool) -> IndexReader | None:
        """The served index when its vectors can be reused, else None."""
        if full or not index_path.exists():
            return None
        try:
            reader = IndexReader(index_path)
        except IndexProblem as exc:
            log.warning("not reusing the previous index: %s", exc)
            return None
        if reader.manifest.get("model") != model:
            reader.close()
            return None
        return reader

    def _words(
        self,
        model: str,
        lexical: FieldIndex,
        passages: list[Passage],
        previous: IndexReader | None,
        dimension: int,
    ) -> WordVectors | None:
        """The lists' words with their vectors (each Latin one as the lists' passages spell
        it most), those the served index has reused, when the model bridges words
        (indexer/wordbridge.py)."""
        if model not in WORD_SIMILARITY:
            return None
        written = [passage.text for passage in passages if passage.kind != "page"]
        words = index_words(lexical)
        known = previous.words if previous is not None else None

        def encode(texts: list[str]) -> np.ndarray:
            return self.load_model().encode_passages(texts, batch_size=256)

        blank = model in BLANK_LIKENESS
        return embed_words(words, spellings(written, words), dimension, encode, known, blank)

    def _embed(
        self,
        passages: list[Passage],
        previous: IndexReader | None,
        report: BuildReport,
        progress: bool,
    ) -> np.ndarray:
        known = previous.passage_hashes() if previous is not None else {}
        reuse_rows = [known.get(p.hash) for p in passages]
        missing = [i for i, row in enumerate(reuse_rows) if row is None]
        dim = self.load_model().dimension if previous is None else previous.dense.d
        vectors = np.zeros((len(passages), dim), dtype=np.float32)
        reused = [i for i, row in enumerate(reuse_rows) if row is not None]
        if reused:
            vectors[reused] = previous.vectors([reuse_rows[i] for i in reused])
        if missing:
            fresh = self.load_model().encode_passages(
                [passages[i].embed_text for i in missing], show_progress=progress
            )
            vectors[missing] = fresh
        report.embedded, report.reused = len(missing), len(reused)
        return vectors
