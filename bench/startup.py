"""Start-up: each command as a new user runs it, a new process every time (median of 5, the
page cache warm), its wall time and peak resident memory as `/usr/bin/time -v` reports them
(the child's wait4 rusage), beside the floor: a process doing only what any search must (load
the model, open the dense index, encode one query, one FAISS search). Then the app: seconds
from server start to ready, from page load to the first answer in headless Chromium, and the
server time per further question (AppTest). Writes bench/out/startup.md (a section for
BENCHMARKS.md) and bench/out/startup.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/startup.py [--runs 5] [--no-browser | --app-only]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import OUT, build_index, corpora, machine_facts, md_table, median, percentiles

from indexer.config import DEFAULT_MODEL
from indexer.sources.files import list_files
from indexer.store import DENSE

QUERY = "LSTM으로 시계열 예측"
TARGET_S, TARGET_MB, LIGHT_TARGET_S, APP_TARGET_S = 1.5, 450, 0.5, 2.0
RECALL = [sys.executable, "-m", "indexer"]
# The floor: what any search process must do, and nothing else.
FLOOR = """
import sys
import faiss
from indexer.embed import load_embedder
index = faiss.read_index(sys.argv[2])
vectors = load_embedder(sys.argv[1]).encode_queries([sys.argv[3]])
faiss.omp_set_num_threads(1)
index.search(vectors, 10)
"""


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            kids += [int(kid) for kid in (task / "children").read_text().split()]
    return kids


def _tree_rss_kb(pid: int) -> int:
    """Resident kilobytes of `pid` and all its descendants now."""
    total, stack = 0, [pid]
    while stack:
        child = stack.pop()
        stack += _children(child)
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)  # fmt: skip
    return total


def tree_peak_mb(command: list[str]) -> float:
    """The peak of the resident memory of all of one run's processes together (a helper
    process included), sampled every 10 ms: a run of its own, as sampling takes CPU."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _tree_rss_kb(process.pid))
        time.sleep(0.01)
    return peak_kb / 1024


def measure(command: list[str], runs: int) -> dict:
    common.gnu_time(command)  # once first: page cache and the model's decompressed copy
    samples = []
    for _ in range(runs):
        common.wait_for_quiet()
        samples.append(common.gnu_time(command)[:2])
    common.wait_for_quiet()
    return {
        "wall_s": median(wall for wall, _ in samples),
        "peak_mb": median(mb for _, mb in samples),
        "tree_peak_mb": tree_peak_mb(command),
        "walls": [round(wall, 3) for wall, _ in samples],
    }


def commands(index: Path, source: Path, related_to: str) -> dict[str, list[str]]:
    at = ["--index", str(index)]
    return {
        "recall --help": [*RECALL, "--help"],
        "recall parse": [*RECALL, "parse", str(source)],
        "recall stats": [*RECALL, "stats", *at],
        "recall export": [*RECALL, "export", *at],
        "recall search": [*RECALL, "search", QUERY, "--json", *at],
        "recall related": [*RECALL, "related", related_to, "--json", *at],
        "floor": [sys.executable, "-c", FLOOR, DEFAULT_MODEL, str(index / DENSE), QUERY],
    }


# Kiwi's load options, each in a new process: construction and the first analysis, and the
# index tokens of every line of the lists and every evaluation question, as indexer/morphology
# makes them, against those of Kiwi's defaults.
KIWI_OPTIONS = {
    "defaults (all dictionaries)": {},
    "no multi-word dictionary": {"load_multi_dict": False},
    "no default dictionary": {"load_default_dict": False},
    "no typo dictionary": {"load_typo_dict": False},
    "no default, no multi-word (chosen)": {"load_default_dict": False, "load_multi_dict": False},
    "no dictionaries": {"load_default_dict": False, "load_multi_dict": False,
                        "load_typo_dict": False},
    "model_type cong-global": {"model_type": "cong-global"},
}  # fmt: skip
KIWI_LOAD = """
import sys, json
from kiwipiepy import Kiwi
Kiwi(**json.loads(sys.argv[1])).tokenize("시계열 예측을 공부합니다")
"""
KIWI_TOKENS = """
import sys, json
from indexer import morphology
morphology._KIWI_OPTIONS.clear()
morphology._KIWI_OPTIONS.update(json.loads(sys.argv[1]))
lines = json.loads(open(sys.argv[2], encoding="utf-8").read())
print(json.dumps(morphology.tokenize_many(lines)))
"""


def kiwi_figures(runs: int) -> list[dict]:
    lines = []
    for corpus in corpora():
        if all(source.exists() for source in corpus.sources):
            for path in sorted(list_files(corpus.sources)):
                lines += [x for x in path.read_text("utf-8").splitlines() if x.strip()]
            lines += [item["q"] for item in corpus.eval_set().queries]
    lines_file = OUT / "startup" / "kiwi-lines.json"
    lines_file.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    figures, reference = [], None
    for name, options in KIWI_OPTIONS.items():
        spec = json.dumps(options)
        figure = measure([sys.executable, "-c", KIWI_LOAD, spec], runs)
        done = subprocess.run(
            [sys.executable, "-c", KIWI_TOKENS, spec, str(lines_file)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        tokens = json.loads(done.stdout)
        reference = reference or tokens
        changed = sum(a != b for a, b in zip(reference, tokens, strict=True))
        figure.update(name=name, options=options, lines=len(lines), changed=changed)
        print(f"kiwi {name:<36} {figure['wall_s']:.2f} s {figure['peak_mb']:.0f} MB "
              f"{changed} lines changed", flush=True)  # fmt: skip
        figures.append(figure)
    return figures


def startup_index(corpus) -> Path:
    """The corpus's index for these figures, built when missing or not searchable."""
    index = OUT / "startup" / f"{corpus.name}-index"
    if not common.readable_index(index):
        print(f"building {corpus.name} into {index} …", flush=True)
        build_index(corpus, index, DEFAULT_MODEL)
    return index


def cli_figures(runs: int) -> list[dict]:
    figures = []
    for corpus in corpora():
        if not all(source.exists() for source in corpus.sources):
            print(f"{corpus.name}: sources absent, skipped", flush=True)
            continue
        index = startup_index(corpus)
        manifest = json.loads((index / "manifest.json").read_text())
        related_to = corpus.eval_set().related[0]["of"]
        for name, command in commands(index, corpus.sources[0], related_to).items():
            figure = measure(command, runs)
            figure.update(corpus=corpus.name, passages=manifest["counts"]["passages"], name=name)
            print(
                f"{corpus.name:<10} {name:<16} {figure['wall_s']:.2f} s "
                f"{figure['peak_mb']:.0f} MB {figure['walls']}",
                flush=True,
            )
            figures.append(figure)
    return figures


FLOOR_APP = common.ROOT / "bench" / "floor_app.py"
SECOND = ("TPU 사용법", "TPU")
# Installed in the page before it loads (__BOX__: the question box's selector): the page's
# own clock (performance.now()) notes when the question box is first in the document, when
# Enter is pressed, and when the first result card's title holds the awaited words. The
# browser is read once per check, so how often the bench asks adds nothing to the figures.
WATCH = """
window.__recall = {awaited: null};
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') window.__recall.enter = performance.now();
}, true);
new MutationObserver(() => {
  const seen = window.__recall;
  if (seen.box === undefined && document.querySelector(__BOX__)) seen.box = performance.now();
  const top = document.querySelector('.rc-card .rc-title');
  if (seen.awaited && seen.answer === undefined && top && top.textContent.includes(seen.awaited))
    seen.answer = performance.now();
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
POLL_S = 0.02


def _ask(driver, query: str, awaited: str) -> dict:
    """Type `query` into the box once it is there, press Enter, and wait until the first
    card's title holds `awaited`; returns the page's clock readings (milliseconds)."""
    from apprun import QUESTION_BOX, ask, wait_for

    wait_for(driver, lambda d: d.execute_script("return window.__recall.box"), poll=POLL_S)
    driver.execute_script(
        "Object.assign(window.__recall, {awaited: arguments[0], answer: undefined})", awaited
    )
    ask(driver.find_element("css selector", QUESTION_BOX), query)
    wait_for(driver, lambda d: d.execute_script("return window.__recall.answer"), poll=POLL_S)
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {...window.__recall, load: n.loadEventEnd};"
    )


def app_figures(runs: int) -> dict:
    """The app in headless Chromium, and the floor app (one box, one card) the same way:
    server start to ready; navigation to the page's load event; from that load to the box and
    to the first answer; Enter to the answer of a second question; and the server time per
    question over the evaluation questions (AppTest)."""
    sys.path.insert(0, str(common.ROOT / "tests"))
    from apprun import QUESTION_BOX, SAMPLE, chrome, serve_app, wait_idle

    watch = WATCH.replace("__BOX__", json.dumps(QUESTION_BOX))

    folder = OUT / "startup"
    index = startup_index(next(c for c in corpora() if c.name == "keras-seed"))
    samples: dict[str, dict[str, list[float]]] = {"app": {}, "floor": {}}
    for _ in range(runs):
        for name, script in (("app", None), ("floor", FLOOR_APP)):
            figures = samples[name]
            common.wait_for_quiet()
            began = time.perf_counter()
            served = serve_app(index, folder / "streamlit.log", *([script] if script else []))
            profile = tempfile.TemporaryDirectory(dir=folder)
            with served as url, profile, chrome(Path(profile.name)) as driver:
                figures.setdefault("ready", []).append(time.perf_counter() - began)
                driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": watch})
                driver.get(url)  # returns at the page's load event
                seen = _ask(driver, QUERY, "Time Series")
                load = seen["load"]  # milliseconds from navigation start, as every reading
                figures.setdefault("load", []).append(load / 1000)
                figures.setdefault("box", []).append((seen["box"] - load) / 1000)
                figures.setdefault("first", []).append((seen["answer"] - load) / 1000)
                if script is None:
                    wait_idle(driver)  # the page settles before the next question
                    seen = _ask(driver, SECOND[0], SECOND[1])
                    figures.setdefault("second", []).append((seen["answer"] - seen["enter"]) / 1000)
    app, floor = samples["app"], samples["floor"]
    return {
        "start_to_ready_s": median(app["ready"]),
        "page_load_s": median(app["load"]),
        "box_s": median(app["box"]),
        "first_answer_s": median(app["first"]),
        "first_answers": [round(x, 2) for x in app["first"]],
        "second_question_s": median(app["second"]),
        "floor_page_load_s": median(floor["load"]),
        "floor_box_s": median(floor["box"]),
        "floor_first_answer_s": median(floor["first"]),
        "server_ms_per_question": server_time_per_question(),
        "sample": str(SAMPLE),
    }


def server_time_per_question() -> dict:
    """Milliseconds of the script run that answers each further question of one session,
    in-process with AppTest on the largest index (the model and the index already loaded)."""
    os.environ["STREAMLIT_LOGGER_LEVEL"] = "error"  # AppTest's bare-mode warnings
    from streamlit.testing.v1 import AppTest

    corpus = common.largest_corpus()
    os.environ["RECALL_INDEX"] = str(startup_index(corpus))
    app = AppTest.from_file(str(common.ROOT / "search_ui" / "app.py"), default_timeout=300)
    app.run()  # the front page; loads the model and the index
    times = []
    for item in corpus.eval_set().queries[:40]:
        app.text_input(key="q").set_value(item["q"])
        began = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - began) * 1000)
    return {"corpus": corpus.name, "questions": len(times), **percentiles(times)}


def report(figures: list[dict], kiwi: list[dict], app: dict | None, machine: dict) -> str:
    lines = [
        "## Start-up",
        "",
        "`bench/startup.py`: every command in a new process, as a new user runs it: median of "
        f"5 runs (page cache warm, the model's decompressed copy already in the user's cache), "
        "wall time and peak resident memory: of the largest process (its rusage, as "
        "`/usr/bin/time -v` reports it) and of all the command's processes together (the sum "
        "of their resident memory, sampled every 10 ms in one more run: a helper process "
        "would count; the Korean question is read without Kiwi). The floor is "
        "a process that only loads the model, opens the dense index, encodes one query and "
        "does one FAISS search. "
        f"{machine['usable_cores']} cores, {machine['cpu']}, {machine['date'][:10]}.",
        "",
    ]
    for corpus in dict.fromkeys(f["corpus"] for f in figures):
        rows, floor = [], next(f for f in figures if f["corpus"] == corpus and f["name"] == "floor")
        for f in figures:
            if f["corpus"] != corpus:
                continue
            heavy = f["name"] in ("recall search", "recall related")
            target = (
                f"≤ {TARGET_S} s, ≤ {TARGET_MB} MB"
                if heavy
                else ""
                if f["name"] == "floor"
                else f"≤ {LIGHT_TARGET_S} s"
            )
            met = (
                f["wall_s"] <= TARGET_S and max(f["peak_mb"], f["tree_peak_mb"]) <= TARGET_MB
                if heavy
                else None
                if f["name"] == "floor"
                else f["wall_s"] <= LIGHT_TARGET_S
            )
            ratio = f"{f['wall_s'] / floor['wall_s']:.2f}×" if heavy else ""
            mark = "" if met is None else ("yes" if met else "**no**")
            rows.append(
                [
                    f"`{f['name']}`",
                    f"{f['wall_s']:.2f} s",
                    f"{f['peak_mb']:.0f} MB",
                    f"{f['tree_peak_mb']:.0f} MB",
                    ratio,
                    target,
                    mark,
                ]
            )
        passages = next(f["passages"] for f in figures if f["corpus"] == corpus)
        lines += [
            f"{corpus} index ({passages:,} passages):",
            "",
            md_table(
                ["command", "wall", "peak RSS", "all processes", "× floor (wall)", "target", "met"],
                rows,
            ),
            "",
        ]
    rows = [
        [k["name"], f"{k['wall_s']:.2f} s", f"{k['peak_mb']:.0f} MB", f"{k['changed']:,}"]
        for k in kiwi
    ]
    lines += [
        "Kiwi's load options (a process that only loads Kiwi and analyses one sentence; "
        f"tokens as the index makes them, of {kiwi[0]['lines']:,} lines of the lists and "
        "evaluation questions, compared with Kiwi's defaults). The `knlm` and `sbg` models "
        "are no longer shipped by kiwipiepy_model. With the chosen options, `recall eval` "
        "MRR@10 of both evaluation sets, keyword and hybrid, moved by at most 0.0002 "
        "(measured when they were chosen):",
        "",
        md_table(["Kiwi", "load + first analysis", "peak RSS", "lines whose tokens changed"], rows),
        "",
    ]
    if app:
        per = app["server_ms_per_question"]
        met = "yes" if app["first_answer_s"] <= APP_TARGET_S else "**no**"
        rows = [
            ["server start to ready (health answers)", f"{app['start_to_ready_s']:.1f} s", "", ""],
            ["navigation to the page's load event", f"{app['page_load_s']:.2f} s",
             f"{app['floor_page_load_s']:.2f} s", ""],
            ["page load to the question box", f"{app['box_s']:.2f} s",
             f"{app['floor_box_s']:.2f} s", ""],
            ["page load to the first answer", f"{app['first_answer_s']:.2f} s",
             f"{app['floor_first_answer_s']:.2f} s", f"≤ {APP_TARGET_S:g} s: {met}"],
            ["a second question, Enter to its answer", f"{app['second_question_s']:.2f} s", "", ""],
            [f"server time per further question, {per['corpus']} ({per['questions']})",
             f"p50 {per['p50']:.0f} ms, p95 {per['p95']:.0f} ms", "", "p95 ≤ 100 ms"],
        ]  # fmt: skip
        lines += [
            "The app (`recall ui`: `search_ui/server.py` loads the model and the index before "
            "it listens, and says so), in headless Chromium with a fresh profile per run. The "
            "floor is `bench/floor_app.py` served and measured the same way: a Streamlit page "
            "with one question box that shows one card. Times are the page's own clock: a "
            "script installed before the page loads notes when the box, Enter and the awaited "
            "card are first there; the first answer includes typing the question (Selenium). "
            "First answers of the app: "
            f"{', '.join(f'{x:.2f}' for x in app['first_answers'])} s.",
            "",
            md_table(["", "app (median)", "floor (median)", "target"], rows),
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="skip the app's figures")
    parser.add_argument(
        "--app-only",
        action="store_true",
        help="measure the app again, keeping the commands' figures of the last run",
    )
    args = parser.parse_args()
    common.quiet()
    (OUT / "startup").mkdir(parents=True, exist_ok=True)
    results = OUT / "startup.json"
    if args.app_only:
        measured = json.loads(results.read_text(encoding="utf-8"))
    else:
        measured = {"cli": cli_figures(args.runs), "kiwi": kiwi_figures(min(args.runs, 3))}
        results.write_text(json.dumps(measured, indent=1), "utf-8")  # kept if the app fails
    browser = Path("/usr/bin/chromium").exists() and not args.no_browser
    measured["app"] = app_figures(args.runs) if browser else None
    measured["machine"] = machine_facts()
    results.write_text(json.dumps(measured, indent=1), "utf-8")
    text = report(measured["cli"], measured["kiwi"], measured["app"], measured["machine"])
    (OUT / "startup.md").write_text(text, encoding="utf-8")
    common.write_kept_block(common.ROOT / "BENCHMARKS.md", "startup", text)
    print(text)


if __name__ == "__main__":
    main()
