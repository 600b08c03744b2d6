"""The child processes of chaoskit.py: a build that SIGKILLs itself at a chosen point, and
a reader that searches in a loop (through the CLI or the app's search path).

    python tests/chaoschild.py build  --index I --cache C --kill POINT:N [--allow H] SOURCE...
    python tests/chaoschild.py reader --kind cli|app --index I --queries F --out F --stop F

Both use FakeEmbedder and stub `indexer.embed`, so that neither imports torch; a reader
loads "fake" indexes through the stub exactly as the CLI and the app load a real model.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import types
from pathlib import Path

from chaoskit import EMBED_BATCH, KILL_POINTS, ROOT, TESTS


def _install_fake_model() -> None:
    """indexer.embed without torch: load_embedder("fake") is a FakeEmbedder."""
    sys.path[:0] = [str(ROOT), str(TESTS)]
    from fakes import FakeEmbedder

    stub = types.ModuleType("indexer.embed")

    class ModelLoadError(RuntimeError):
        pass

    def load_embedder(name: str):
        if name == FakeEmbedder.name:
            return FakeEmbedder()
        raise ModelLoadError(f"this process only has the fake model, not {name!r}")

    stub.Embedder = object
    stub.ModelLoadError = ModelLoadError
    stub.load_embedder = load_embedder
    sys.modules["indexer.embed"] = stub


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _resolve(target: str):
    module_name, _, path = target.partition(":")
    owner = __import__(module_name, fromlist=["_"])
    *parents, attr = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, attr


def _arm(point: str, nth: int, index: Path) -> None:
    _, target, when = KILL_POINTS[point]
    if point == "fetch":
        _kill_in_cache_write(nth)
        return
    if target is None:
        return
    owner, attr = _resolve(target)
    original = getattr(owner, attr)
    calls = 0
    index_link = str(index)

    def counted(*args) -> bool:
        nonlocal calls
        if attr == "replace" and str(args[1]) != index_link:
            return False  # other renames are not the publication
        if attr == "rmtree" and Path(args[0]).name.startswith("tmp-"):
            return False  # staging of a killed build, not an old build
        calls += 1
        return calls == nth

    def wrapper(*args, **kwargs):
        hit = counted(*args)
        if hit and when == "before":
            _die()
        if hit and when == "during":  # delete part of the tree, then die
            files = sorted(p for p in Path(args[0]).rglob("*") if p.is_file())
            for path in files[: len(files) // 2 + 1]:
                path.unlink()
            _die()
        result = original(*args, **kwargs)
        if hit:
            _die()
        return result

    setattr(owner, attr, wrapper)  # on a class, a plain function still receives self


def _kill_in_cache_write(nth: int) -> None:
    """Die as the n-th response is inserted: the page row is written, the transaction is
    not committed."""
    import indexer.pagecache as pagecache

    connect = pagecache.PageCache._connect
    count = 0

    def trace(statement: str) -> None:
        nonlocal count
        if statement.startswith("INSERT OR REPLACE INTO responses"):
            count += 1
            if count == nth:
                _die()

    def connect_traced(self):
        db = connect(self)
        db.set_trace_callback(trace)
        return db

    pagecache.PageCache._connect = connect_traced


def _mark_stages(stage_file: Path) -> None:
    """Write each stage's name to stage_file as the build enters it (for timed kills)."""
    import indexer.build as build
    import indexer.store as store

    def entering(stage: str, function):
        def wrapper(*args, **kwargs):
            stage_file.write_text(stage)
            return function(*args, **kwargs)

        return wrapper

    build.parse_sources = entering("parse", build.parse_sources)
    build.fetch_pages = entering("fetch", build.fetch_pages)
    build.field_index = entering("embed", build.field_index)
    store.dense_index = entering("publish", store.dense_index)


def _child_build(args) -> None:
    _install_fake_model()
    from fakes import FakeEmbedder

    index = Path(args.index)
    point, _, nth = (args.kill or "").partition(":")
    nth = int(nth or 0)
    if args.stage_file:
        _mark_stages(Path(args.stage_file))

    class KillableEmbedder(FakeEmbedder):
        """Embeds in batches and dies before the n-th one when the point is "embed"."""

        def encode_passages(self, texts, batch_size=EMBED_BATCH, show_progress=False):
            if args.stage_file:
                Path(args.stage_file).write_text("embed")
            parts = []
            for number, start in enumerate(range(0, len(texts), EMBED_BATCH), start=1):
                if point == "embed" and number == nth:
                    _die()
                parts.append(super().encode_passages(texts[start : start + EMBED_BATCH]))
            import numpy as np

            return np.vstack(parts) if parts else np.zeros((0, self.dimension), np.float32)

    if point:
        _arm(point, nth, index)
    import indexer.build as build
    from indexer.config import load_settings

    settings = load_settings(
        index_dir=index,
        cache_dir=Path(args.cache),
        model=FakeEmbedder.name,
        allow_hosts=tuple(args.allow) or None,
    )
    report = build.Builder(settings, KillableEmbedder()).build(
        [Path(s) for s in args.sources], fetch=build.fetch_pages
    )
    print(json.dumps({"build_id": report.build_id, "fetch": report.fetch_counts}))


def _child_reader(args) -> None:
    _install_fake_model()
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    stop, out = Path(args.stop), Path(args.out)
    search = _cli_search if args.kind == "cli" else _app_search(Path(args.index))
    rounds = 0
    with out.open("w", encoding="utf-8") as sink:
        while not stop.exists():
            for query in queries:
                try:
                    record = {"q": query, "hits": search(args.index, query)}
                except BaseException as exc:  # every failure is what the parent counts
                    record = {"q": query, "error": f"{type(exc).__name__}: {exc}"}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
            rounds += 1
            if rounds == 1:
                Path(str(out) + ".ready").touch()


def _cli_search(index: str, query: str) -> list:
    """`recall search --json` in this process; each call opens the index afresh."""
    from indexer.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["search", query, "--json", "-k", "5", "--index", index])
    if code != 0:
        raise RuntimeError(f"exit code {code}: {stderr.getvalue().strip()}")
    return [[hit["id"], hit["score"]] for hit in json.loads(stdout.getvalue())["results"]]


def _app_search(index: Path):
    """The app's own search path: the searcher cached by build id, re-read every run."""
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from indexer.hits import Filters
    from search_ui import engine

    def search(_index: str, query: str) -> list:
        current = engine.open_engine(index)
        response = engine.search(current, current.build_id, query, 5, Filters(), "hybrid")
        return [[hit.id, hit.score] for hit in response.results]

    return search


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chaoskit")
    sub = parser.add_subparsers(dest="role", required=True)
    build = sub.add_parser("build")
    build.add_argument("sources", nargs="+")
    build.add_argument("--index", required=True)
    build.add_argument("--cache", required=True)
    build.add_argument("--kill")
    build.add_argument("--allow", action="append", default=[])
    build.add_argument("--stage-file")
    reader = sub.add_parser("reader")
    reader.add_argument("--kind", choices=("cli", "app"), required=True)
    reader.add_argument("--index", required=True)
    reader.add_argument("--queries", required=True)
    reader.add_argument("--out", required=True)
    reader.add_argument("--stop", required=True)
    args = parser.parse_args(argv)
    if args.role == "build":
        _child_build(args)
    else:
        _child_reader(args)


if __name__ == "__main__":
    main()
