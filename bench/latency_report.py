"""The latency benchmark's report: its targets, the tables of latency, memory and disk by
index size, and the charts, from the result `bench/latency.py` measured."""

from __future__ import annotations

from pathlib import Path

import common


def _size_entry(result: dict, size: int) -> dict | None:
    return next((e for e in result["sizes"] if e["size"] == size), None)


def targets(result: dict) -> list[dict]:
    rows = []
    at_100k, at_1m = _size_entry(result, 100_000), _size_entry(result, 1_000_000)
    if at_100k and "recall" in at_100k:
        p95, floor = at_100k["recall"]["p95"], at_100k["floor"]["p95"]
        rows.append(
            {
                "target": "p95 ≤ 2× the floor at 100k passages",
                "measured": f"{p95:.1f} ms vs floor {floor:.1f} ms: "
                f"{at_100k['recall_vs_floor_p95']:.1f}x",
                "met": at_100k["recall_vs_floor_p95"] <= 2,
            }
        )
        rows.append(
            {
                "target": "p95 ≤ 50 ms at 100k passages",
                "measured": f"{p95:.1f} ms",
                "met": p95 <= 50,
            }
        )
    if at_1m and "recall" in at_1m:
        p95 = at_1m["recall"]["p95"]
        rows.append(
            {
                "target": "p95 ≤ 100 ms at 1M passages",
                "measured": f"{p95:.1f} ms",
                "met": p95 <= 100,
            }
        )
        recall = at_1m["recall_ann_recall"]
        rows.append(
            {
                "target": "approximate index recall@10 ≥ 0.95 at 1M",
                "measured": f"{recall:.3f} ({at_1m['dense_index']}, "
                f"{at_1m['probes']} of {at_1m['lists']} lists probed)",
                "met": recall >= 0.95,
            }
        )
    return rows


def ms_cell(entry: dict, name: str, stat: str = "p95") -> str:
    value = entry.get(name, {}).get(stat)
    return "–" if value is None else f"{value:.1f}"


def _ratio_cell(entry: dict, path: str) -> str:
    key = f"{path}_vs_floor_p95"
    return f"{entry[key]:.1f}x" if key in entry else "–"


def mib_cell(value) -> str:
    return "–" if not value else f"{value / 2**20:,.0f}"


def render(result: dict) -> str:
    parts = [
        "## 2. Query latency",
        "",
        f"{result['queries']} real evaluation queries, k=10, warm (the first "
        f"{result['warmup']} are run and discarded), {result['rounds']} rounds over all queries "
        f"({result['child_runs']} "
        "fresh child processes per size and system); each percentile is the median over "
        "rounds, and each Recall/floor ratio is taken within a round. **Recall** is "
        "`Searcher.search` end to end (query embedding, dense and BM25 rankers, fusion on "
        "per-query z-scores, per-resource ranking, metadata, snippets and match "
        "explanations); the **floor** is "
        "one `encode_queries` plus one search of the same FAISS index (on one thread, as "
        "Recall searches), interleaved with it. "
        "Recall's dense-only and lexical-only modes, and the default without its word "
        "bridges (no query word the index lacks is embedded and translated: "
        "`word_bridges=False`), are shown to locate the cost. **txtai** "
        "loads an index built with its defaults from the same texts and vectors (vectors handed "
        "over through its `external` method, queries embedded by the same model) and returns "
        "passage ids only (no content store, no aggregation per resource). The first "
        f"{result['real_passages']:,} passages are real; the rest are synthetic (see "
        "`bench/synthetic.py` for how they are made). Recall's dense index is exact (flat) up to "
        f"{result['ann_threshold']:,} passages and an inverted file above (IVF-Flat: "
        "√n k-means lists trained on up to "
        f"{result['train_points_per_list']} vectors per list, a search probing 1/"
        f"{result['probe_share']} of them and at least {result['min_probes']}; Recall's "
        "shipped settings); txtai's faiss "
        "default is exact up to 5,000 vectors and IVF above. ANN recall@10 is the overlap "
        "of the index's top 10 with exact search on the same vectors for the same queries. "
        "This machine is shared: a "
        f"round during which other processes used over {common.CONTENDED:.0%} of its CPU is "
        "redone (a few times at most); 'others' CPU' is the largest share they took in a "
        "kept round.",
        "",
    ]
    rows = []
    for e in result["sizes"]:
        rows.append(
            [
                f"{e['size']:,}",
                e["dense_index"],
                " / ".join(ms_cell(e, "recall", s) for s in ("p50", "p95", "p99")),
                " / ".join(ms_cell(e, "floor", s) for s in ("p50", "p95", "p99")),
                _ratio_cell(e, "recall"),
                f"{ms_cell(e, 'no_word_bridges')} ({_ratio_cell(e, 'no_word_bridges')})",
                ms_cell(e, "dense_mode"),
                ms_cell(e, "lexical_mode"),
                " / ".join(ms_cell(e, "txtai_dense", s) for s in ("p50", "p95", "p99")),
                ms_cell(e, "txtai_hybrid"),
                f"{e['recall_ann_recall']:.3f}" if "recall_ann_recall" in e else "–",
                f"{e['txtai-dense_ann_recall']:.3f}" if "txtai-dense_ann_recall" in e else "–",
                f"{max(e.get(f'{s}_others', 0) for s in result['systems']):.0%}",
            ]
        )
    headers = [
        "passages",
        "Recall index",
        "Recall p50/p95/p99 ms",
        "floor p50/p95/p99 ms",
        "Recall/floor p95",
        "without word bridges p95 (/floor)",
        "dense mode p95",
        "lexical mode p95",
        "txtai dense p50/p95/p99 ms",
        "txtai hybrid p95",
        "Recall ANN recall@10",
        "txtai ANN recall@10",
        "others' CPU",
    ]
    parts.append(common.md_table(headers, rows))
    ratios = [
        f"{e['size']:,}: "
        + ", ".join(
            f"txtai {kind} {e[f'txtai_{kind}_vs_recall_p95']:.2f}x"
            for kind in ("dense", "hybrid")
            if f"txtai_{kind}_vs_recall_p95" in e
        )
        for e in result["sizes"]
        if "txtai_dense_vs_recall_p95" in e
    ]
    if ratios:
        parts += ["", "txtai p95 as a multiple of Recall's p95 — " + "; ".join(ratios) + "."]
    sweeps = [(e["size"], row) for e in result["sizes"] for row in e.get("probe_sweep", [])]
    if sweeps:
        parts += [
            "",
            "Recall's IVF index probing other numbers of its lists, on the same vectors and "
            "queries (information for tuning; every figure above uses the shipped number, in "
            "bold); search time is one FAISS search per query, without the query encoding:",
            "",
            common.md_table(
                ["passages", "lists probed", "ANN recall@10", "search p50 ms", "search p95 ms"],
                [
                    [
                        f"{size:,}",
                        (f"**{r['probes']}**" if r["shipped"] else str(r["probes"]))
                        + f" of {r['lists']}",
                        f"{r['recall']:.3f}",
                        f"{r['p50']:.2f}",
                        f"{r['p95']:.2f}",
                    ]
                    for size, r in sweeps
                ],
            ),
        ]
    large = [f"{e['size']:,}" for e in result["sizes"] if e["size"] > result["txtai_hybrid_max"]]
    if large:
        parts += [
            "",
            f"At {', '.join(large)} passages txtai hybrid was not run (its BM25 terms index "
            "of that many passages does not fit the benchmark's time budget here), and txtai "
            f"dense trained its IVF index on a {result['txtai_train_sample']:.0%} sample (txtai's "
            "`sample` option; training on every vector would take about half an hour on 2 "
            "cores). Up to "
            f"{result['txtai_sampled_above']:,} passages txtai trains on all vectors, its default.",
        ]
    errors = [(e["size"], k, v) for e in result["sizes"] for k, v in e.items() if "error" in k]
    for size, key, value in errors:
        parts.append(f"\n*{size:,} passages, {key}:* {value}")
    return "\n".join(parts)


def render_memory(result: dict) -> str:
    parts = ["## 4. Memory and disk", ""]
    rows = [
        [
            f"{e['size']:,}",
            mib_cell(e.get("recall_peak_rss")),
            mib_cell(e.get("txtai-dense_peak_rss")),
            mib_cell(e.get("txtai-hybrid_peak_rss")),
            f"{e['disk_bytes'] / e['size']:,.0f}",
            f"{e['txtai_dense_disk_bytes'] / e['size']:,.0f}"
            if "txtai_dense_disk_bytes" in e
            else "–",
            f"{e['txtai_hybrid_disk_bytes'] / e['size']:,.0f}"
            if "txtai_hybrid_disk_bytes" in e
            else "–",
            f"{e.get('recall_open_s', float('nan')):.1f}",
            f"{e['write_s']:.0f}",
        ]
        for e in result["sizes"]
    ]
    parts.append(
        "Peak resident set (VmHWM) of a fresh child process that loads the model and the index "
        "and runs every query; median over child runs. Disk: the published index folder.\n"
    )
    parts.append(
        common.md_table(
            [
                "passages",
                "Recall peak RSS MiB",
                "txtai dense MiB",
                "txtai hybrid MiB",
                "Recall bytes/passage",
                "txtai dense bytes/passage",
                "txtai hybrid bytes/passage",
                "Recall open s",
                "Recall index write s",
            ],
            rows,
        )
    )
    return "\n".join(parts)


def _log_axes(ax, y: bool) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k")
    )
    if y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())


def _save(plt, fig, ax, ylabel: str, title: str, path: Path) -> None:
    ax.set_xlabel("passages in the index")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def charts(result: dict, latency_path: Path, memory_path: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = result["sizes"]
    if not sizes:
        return []
    lines = [
        ("recall", "Recall search (hybrid, default)", "-", "o"),
        ("floor", "floor: encode + FAISS search", "--", "s"),
        ("dense_mode", "Recall dense mode", ":", "."),
        ("lexical_mode", "Recall lexical mode", ":", "x"),
        ("txtai_dense", "txtai dense", "-", "^"),
        ("txtai_hybrid", "txtai hybrid", "-", "v"),
    ]
    fig, ax = plt.subplots(figsize=(8, 5))
    for key, label, style, marker in lines:
        points = [(e["size"], e[key]["p95"]) for e in sizes if key in e]
        if points:
            ax.plot(*zip(*points, strict=True), style, marker=marker, label=label)
    targets = [(100_000, 50), (1_000_000, 100)]
    ax.scatter(*zip(*targets, strict=True), marker="_", s=400, color="red", label="target p95")
    _log_axes(ax, y=True)
    _save(
        plt,
        fig,
        ax,
        "p95 latency per query, ms",
        "p95 query latency against index size (2 cores)",
        latency_path,
    )

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key, label in (
        ("recall_peak_rss", "Recall search"),
        ("txtai-dense_peak_rss", "txtai dense"),
        ("txtai-hybrid_peak_rss", "txtai hybrid"),
    ):
        points = [(e["size"], e[key] / 2**20) for e in sizes if e.get(key)]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    _log_axes(ax, y=False)
    _save(plt, fig, ax, "peak RSS, MiB", "Peak memory of a search process", memory_path)
    return [latency_path, memory_path]
