"""`recall build / search / related / stats / eval / export` in-process, on the index built
with the real model (copied before anything changes it) and on FakeEmbedder indexes."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from conftest import (
    BOOK,
    GAN,
    LECTURE,
    LECTURES,
    LSTM_ARTICLE,
    LSTM_REPO,
    LSTM_VIDEO,
    REAL_PASSAGES,
    TOTAL_RECALL,
    TOTAL_RECALL_2,
    TPU,
    addresses,
)
from fakes import FakeEmbedder
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from indexer.cli import main
from indexer.cli_query import _print_hits
from indexer.export import EXPORT_FIELDS, rows_to_markdown
from indexer.resources import duplicate_key
from indexer.search import Searcher
from indexer.sources.markdown import parse_text
from indexer.store import DENSE, MANIFEST, META

HIT_KEYS = {
    "rank",
    "id",
    "url",
    "title",
    "score",
    "contributors",
    "dates",
    "categories",
    "type",
    "domain",
    "fetch_status",
    "snippet",
    "matched",
    "why",
    "also_at",
}
FIX = "recall build --full"
COMMONMARK = MarkdownIt("commonmark")

slow = pytest.mark.slow


@pytest.fixture(autouse=True)
def paths_under_tmp(tmp_path, monkeypatch):
    """A command given no --index or --cache would use these, never data/."""
    monkeypatch.setenv("RECALL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("RECALL_INDEX", str(tmp_path / "no-index"))
    monkeypatch.setenv("RECALL_CACHE", str(tmp_path / "no-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def search_json(capsys, index, *argv) -> dict:
    code, out, err = run(capsys, "search", *argv, "--index", index, "--json")
    assert code == 0, err
    return json.loads(out)


# --- search -------------------------------------------------------------------------------


@slow
def test_search_json_shape(capsys, real_index):
    data = search_json(capsys, real_index.path, "GAN 판별자 가중치 고정", "-k", "3")
    assert set(data) >= {"query", "took_ms", "results"}
    assert data["query"] == "GAN 판별자 가중치 고정"
    assert isinstance(data["took_ms"], float | int) and data["took_ms"] >= 0
    assert len(data["results"]) == 3
    for rank, hit in enumerate(data["results"], start=1):
        assert set(hit) >= HIT_KEYS
        assert hit["rank"] == rank
        assert isinstance(hit["score"], float)
        assert all(isinstance(hit[key], list) for key in ("contributors", "dates", "matched"))
        assert all(isinstance(hit[key], str) for key in ("id", "url", "title", "why", "snippet"))
    first = data["results"][0]
    assert first["url"] == GAN and first["contributors"] == ["김태영"]
    assert first["fetch_status"] == "offline" and first["domain"] == "tykimos.github.io"
    assert first["dates"] == ["2019-03-03"] and first["type"] == "article"


@slow
def test_search_prints_readable_results(capsys, real_index):
    code, out, _ = run(capsys, "search", "자연어 처리 책", "--index", real_index.path, "-k", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == " 1. 텐서플로와 머신러닝으로 시작하는 자연어 처리"
    assert lines[1].strip() == f"{BOOK}  [offline]"
    assert lines[2].strip() == "book · yes24.com · Ryan Shin · 2019-02-28"
    assert lines[3].strip() == "filed under: keras open chat"  # one of the index's two lists
    assert lines[4].strip().startswith("why: words: ")
    assert lines[-1].startswith("2 results in ")


@slow
def test_search_prints_the_other_addresses_of_a_page_under_its_hit(capsys, real_index):
    assert main(["search", "MIT 딥러닝 강의 영상", "--index", str(real_index.path)]) == 0
    out = capsys.readouterr().out
    [line] = [line.strip() for line in out.splitlines() if "also posted as:" in line]
    shown = {url for url in LECTURES if f"    {url}" in out.split(line)[0]}
    assert len(shown) == 1 and set(line.removeprefix("also posted as: ").split(" · ")) == (
        LECTURES - shown
    )


@slow
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--contributor", "이상훈"], {LSTM_ARTICLE, LSTM_REPO, LSTM_VIDEO}),
        (["--type", "video", "--contributor", "이상훈"], {LSTM_VIDEO}),
        (["--since", "2019-04-02", "--type", "video"], LECTURES - {LECTURE}),
        (["--until", "2019-02-22", "--domain", "ARXIV.ORG"], None),
        (["--contributor", "아무도"], set()),
    ],
)
def test_search_filters(capsys, real_index, options, expected):
    data = search_json(capsys, real_index.path, "딥러닝", "-k", "10", *options)
    urls = {hit["url"] for hit in data["results"]}
    if expected is None:
        assert len(urls) == 3 and all("arxiv.org/abs/" in url for url in urls)
    else:
        # The lecture's two addresses posted in April are one page: one hit stands for it.
        assert urls <= expected and {*urls} | (expected & addresses(data["results"])) == expected
        assert len(urls) == len(data["results"]) == len({duplicate_key(url) for url in expected})
    if not expected and expected is not None:
        assert data["message"] == "no matching resources for these filters"


@slow
@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_search_modes(capsys, real_index, mode):
    data = search_json(
        capsys, real_index.path, "query expansion for object retrieval", "--mode", mode
    )
    assert data["results"][0]["url"] == TOTAL_RECALL
    if mode == "lexical":  # BM25 sees only the two papers that share words
        assert {hit["url"] for hit in data["results"]} == {TOTAL_RECALL, TOTAL_RECALL_2}
    else:
        assert len(data["results"]) == 10


@slow
@pytest.mark.parametrize("query", ["", "   ", "\t"])
def test_search_empty_query(capsys, real_index, query):
    data = search_json(capsys, real_index.path, query)
    assert data["results"] == [] and data["message"] == "empty query: type a question"


@slow
def test_search_over_long_query(capsys, real_index):
    data = search_json(capsys, real_index.path, "구글 TPU 자료 " * 400, "-k", "1")
    assert data["truncated"] is True and len(data["query"]) == 2000
    assert "cut to its first 2000 characters" in data["message"]
    assert data["results"][0]["url"] == TPU
    code, out, _ = run(capsys, "search", "TPU " * 700, "--index", real_index.path, "-k", "1")
    assert code == 0 and out.startswith("(the query was cut to its first 2000 characters)")


@slow
def test_search_batch_is_one_json_line_per_query_in_order(tmp_path, capsys, real_index):
    queries = ["자연어 처리 책", "", "query expansion for object retrieval", "   ", "TPU"]
    batch = tmp_path / "queries.txt"
    batch.write_text("\n".join(queries) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "search", "--batch", batch, "--index", real_index.path, "-k", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(queries)
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == [" ".join(q.split()) for q in queries]
    assert [a["results"][0]["url"] if a["results"] else None for a in answers] == [
        BOOK,
        None,
        TOTAL_RECALL,
        None,
        TPU,
    ]
    assert all(set(a) >= {"query", "took_ms", "results"} for a in answers)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search"], "give a QUERY or --batch FILE"),
        (["search", "x", "-k", "0"], "-k must be at least 1"),
        (["search", "x", "--domain", "[youtube.com"], "not a host name"),
        (["search", "--batch", "missing.txt"], "cannot read batch file"),
        (["related"], "give a URL_OR_ID or --batch FILE"),
        (["related", "https://ex.com/a", "-k", "-1"], "-k must be at least 1"),
        (["eval", "missing.json", "-k", "0"], "-k must be at least 1"),
        (["eval", "missing.json"], "no such evaluation file"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and out == ""


@pytest.mark.parametrize("command", ["serve", "ui"])
@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_bad_port_is_a_usage_error_not_a_traceback(capsys, command, port):
    code, out, err = run(capsys, command, "--port", port)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (
        f"recall {command}: error: argument --port: not a port number (1-65535): '{port}'"
    )


@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_a_bad_date_is_a_usage_error_not_a_traceback(capsys, flag):
    code, out, err = run(capsys, "search", "x", flag, "2019-13-01")
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (
        f"recall search: error: argument {flag}: not a date: '2019-13-01' (use YYYY-MM-DD)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "TPU"],
        ["related", GAN],
        ["stats"],
        ["export"],
        ["search", "TPU", "--json"],
    ],
)
def test_a_missing_index_says_how_to_build_one(tmp_path, capsys, argv):
    index = tmp_path / "nothing-here"
    code, out, err = run(capsys, *argv, "--index", index)
    assert code == 2 and out == ""
    assert err == f"recall: no index at {index}: build one with `recall build`\n"


def test_eval_on_a_missing_index(tmp_path, capsys):
    (tmp_path / "eval.json").write_text('{"queries": []}', encoding="utf-8")
    code, _, err = run(capsys, "eval", tmp_path / "eval.json", "--index", tmp_path / "none")
    assert code == 2 and "build one with `recall build`" in err


@slow
def test_the_index_comes_from_recall_index(monkeypatch, capsys, real_index):
    monkeypatch.setenv("RECALL_INDEX", str(real_index.path))
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0 and json.loads(out)["build_id"] == real_index.report.build_id


# --- related ------------------------------------------------------------------------------


@slow
def test_related_json(capsys, real_index):
    code, out, _ = run(capsys, "related", LSTM_ARTICLE, "--index", real_index.path, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["of"] == LSTM_ARTICLE
    assert len(data["results"]) == 5
    assert {hit["url"] for hit in data["results"][:2]} == {LSTM_REPO, LSTM_VIDEO}
    assert all(set(hit) >= HIT_KEYS for hit in data["results"])


@slow
@pytest.mark.parametrize("ref", sorted(LECTURES))
def test_related_never_returns_the_video_under_another_url(capsys, real_index, ref):
    code, out, _ = run(capsys, "related", ref, "--index", real_index.path, "-k", "50", "--json")
    assert code == 0
    urls = [hit["url"] for hit in json.loads(out)["results"]]
    assert urls and not LECTURES & set(urls)
    assert len(urls) == len(set(urls))


@slow
def test_related_batch_reports_unknown_refs_in_place(tmp_path, capsys, real_index):
    refs = tmp_path / "refs.txt"
    refs.write_text(f"{LECTURE}\n\nhttps://ex.com/unknown\n{LSTM_ARTICLE}\n", encoding="utf-8")
    code, out, _ = run(capsys, "related", "--batch", refs, "--index", real_index.path, "-k", "2")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["of"] for line in lines] == [LECTURE, "https://ex.com/unknown", LSTM_ARTICLE]
    assert "no resource" in lines[1]["error"] and "results" not in lines[1]
    assert len(lines[0]["results"]) == len(lines[2]["results"]) == 2


@slow
def test_related_of_an_unknown_resource_is_a_usage_error(capsys, real_index):
    code, _, err = run(capsys, "related", "https://ex.com/unknown", "--index", real_index.path)
    assert code == 2 and "no resource with id or URL 'https://ex.com/unknown'" in err


# --- stats, eval, export ------------------------------------------------------------------


@slow
def test_stats_json(capsys, real_index):
    code, out, _ = run(capsys, "stats", "--index", real_index.path, "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["build_id"] == real_index.report.build_id
    assert stats["model"] == "use-multilingual" and stats["dimension"] == 512
    assert stats["dense_index"] == "flat"
    assert stats["counts"] == {
        "resources": 14,
        "notes": 1,
        "docs": 15,
        "passages": REAL_PASSAGES,
    }
    assert stats["fetch_counts"] == {"offline": 14}
    assert stats["size_bytes"] > 0
    assert {source["path"].rsplit("/", 1)[-1] for source in stats["sources"]} == {
        "keras-open-chat.md",
        "videos.md",
    }
    # Built offline: no page was ever fetched, so every link is listed as unavailable.
    assert len(stats["unavailable"]) == 14
    assert {item["status"] for item in stats["unavailable"]} == {"offline"}
    code, out, _ = run(capsys, "stats", "--index", real_index.path)
    assert code == 0 and f"14 resources, 1 notes, {REAL_PASSAGES} passages" in out


def gain(rank: int) -> float:
    return 1 / math.log2(rank + 1)


@slow
def test_eval_json_by_hand(tmp_path, capsys, real_index):
    # Lexical mode: BM25 rankings on this index are known exactly (see test_search_modes).
    eval_set = {
        "queries": [
            # ranks TOTAL_RECALL then TOTAL_RECALL_2: relevant at 2
            {"q": "query expansion for object retrieval", "rel": [TOTAL_RECALL_2], "lang": "en"},
            # the only hit; the relevant URL is given with a tracking parameter
            {"q": "TPU", "rel": [TPU + "?utm_source=chat"], "lang": "en"},
            # one of two relevant found, at rank 1
            {"q": "자연어 처리 책", "rel": [BOOK, TPU], "lang": "ko"},
            # nothing relevant found
            {"q": "강화학습 스터디", "rel": [GAN], "lang": "ko"},
        ],
        "related": [
            {"of": LSTM_ARTICLE, "rel": [LSTM_REPO, LSTM_VIDEO]},
            {"of": "https://ex.com/unknown", "rel": [GAN]},
        ],
    }
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(eval_set, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(
        capsys, "eval", path, "--index", real_index.path, "--mode", "lexical", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    mrr = [1 / 2, 1, 1, 0]
    recall = [1, 1, 1 / 2, 0]
    ndcg = [gain(2), 1, 1 / (1 + gain(2)), 0]
    assert result["queries"] == 4 and result["k"] == 10
    assert result["mrr@10"] == pytest.approx(sum(mrr) / 4, abs=1e-4)  # 0.625
    assert result["recall@10"] == pytest.approx(sum(recall) / 4, abs=1e-4)  # 0.625
    assert result["ndcg@10"] == pytest.approx(sum(ndcg) / 4, abs=1e-4)  # 0.5610
    assert result["splits"]["lang=en"]["mrr@10"] == pytest.approx(0.75)
    assert result["splits"]["lang=ko"]["recall@10"] == pytest.approx(0.25)
    assert result["per_query"][0]["top"] == [TOTAL_RECALL, TOTAL_RECALL_2]
    # Related: both companions of the article in its top 5; an unknown resource finds none.
    assert result["related_recall@5"] == pytest.approx(0.5)
    assert result["related_items"] == 2
    code, out, _ = run(capsys, "eval", path, "--index", real_index.path, "--mode", "lexical")
    assert code == 0 and "MRR@10 0.625 (95% interval " in out and "Recall@10 0.625" in out


@slow
def test_export_json_and_csv(capsys, real_index):
    code, out, _ = run(capsys, "export", "--index", real_index.path, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 14  # resources only: the note is not a link
    gan = next(row for row in rows if row["url"] == GAN)
    assert gan["title"] == "GAN 모형에서 trainable 매개변수" and gan["contributors"] == ["김태영"]
    assert gan["notes"] and gan["mentions"][0]["date"] == "2019-03-03"
    code, out, _ = run(capsys, "export", "--index", real_index.path, "--format", "csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == EXPORT_FIELDS
    assert [row["url"] for row in table] == [row["url"] for row in rows]
    book = next(row for row in table if row["url"] == BOOK)
    assert book["contributors"] == "Ryan Shin" and book["fetch_status"] == "offline"
    assert book["notes"].startswith("한국인이 쓴 첫 번째 딥러닝 자연어처리 책입니다.")


def link_line(line: str) -> tuple[str, str, str]:
    """(href, label text, text after the link) of one exported markdown line, checking
    that the line is one list item holding exactly one link and nothing inside it."""
    tokens = COMMONMARK.parse(line)
    inline = [token for token in tokens if token.type == "inline"]
    assert [t.type for t in tokens][:2] == ["bullet_list_open", "list_item_open"]
    assert len(inline) == 1
    children = inline[0].children
    assert children[0].type == "link_open", line
    close = next(i for i, token in enumerate(children) if token.type == "link_close")
    inside, after = children[1:close], children[close + 1 :]
    assert not any(t.type in {"link_open", "image", "html_inline"} for t in children[1:]), line
    label = "".join(t.content for t in inside if t.type in {"text", "code_inline"})
    return children[0].attrs["href"], label, "".join(t.content for t in after)


@slow
def test_export_markdown_is_a_list_that_reads_back(capsys, real_index):
    code, out, _ = run(capsys, "export", "--index", real_index.path, "--format", "md")
    assert code == 0
    _, exported, _ = run(capsys, "export", "--index", real_index.path, "--format", "json")
    rows = json.loads(exported)
    assert "## 이명규 (2019.02.22)" in out.splitlines()
    bullets = [line for line in out.splitlines() if line.lstrip().startswith("* ")]
    assert len(bullets) == sum(len(row["mentions"]) for row in rows)
    href, label, after = link_line(bullets[0])
    assert href == "https://arxiv.org/abs/1811.12649"
    assert label == "Making Classification Competitive for Deep Metric Learning"
    assert after == ""
    reread = {r.url: r for r in parse_text(out, "exported.md").resources}
    assert set(reread) == {row["url"] for row in rows}
    for row in rows:
        assert reread[row["url"]].contributors == row["contributors"]
        assert reread[row["url"]].dates == row["dates"]


def test_search_text_cannot_drive_the_terminal(tmp_path, capsys, fake_build):
    """A list's title or note holding ANSI escapes or a right-to-left override is printed as
    plain text (the hit, as --json gives it, keeps what the list wrote); a zero-width joiner
    inside an emoji stays."""
    listing = tmp_path / "hostile.md"
    listing.write_text(
        "## 홍길동 (2019.05.01)\n\n"
        "* [Red title script\u202egnp.exe](https://ex.com/a): "
        "note \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \U0001f469\u200d\U0001f4bb\u2066 end\n",
        encoding="utf-8",
    )
    built = fake_build([listing])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    (hit,) = searcher.search("title script", k=1).results
    assert "\u202e" in hit.title and "\x1b[31m" in hit.snippet  # as the list wrote them
    _print_hits([hit])
    out = capsys.readouterr().out
    assert "Red title scriptgnp.exe" in out and " [31mred [0m" in out
    assert "\U0001f469\u200d\U0001f4bb end" in out
    assert not any(char in out for char in "\x1b\x07\u202e\u2066")


def test_export_markdown_keeps_odd_titles_inside_their_links(tmp_path, capsys, fake_build):
    listing = tmp_path / "odd.md"
    listing.write_text(
        "## 홍길동 (2019.05.01)\n\n"
        "* [Windows path C:\\](https://ex.com/a)\n"
        "* [Use `]` and <https://evil.example> here](https://ex.com/c)\n"
        "* [back\\\\slash \\\\](https://ex.com/e)\n",
        encoding="utf-8",
    )
    built = fake_build([listing])
    code, out, _ = run(capsys, "export", "--index", built.path, "--format", "md")
    assert code == 0
    code, exported, _ = run(capsys, "export", "--index", built.path, "--format", "json")
    titles = {row["url"]: row["title"] for row in json.loads(exported)}
    assert titles["https://ex.com/a"].endswith("\\")  # the title that used to break out
    bullets = [line for line in out.splitlines() if line.startswith("* ")]
    assert len(bullets) == len(titles) == 4  # the autolink inside a title is a link too
    for line in bullets:
        href, label, after = link_line(line)
        assert (label, after) == (titles[href], "")
    reread = parse_text(out, "exported.md")
    assert {r.url: r.title for r in reread.resources} == titles


@given(
    title=st.text(alphabet=st.sampled_from(list("ab 가\\`<>[]()!:/#|~=\"'\n\t")), max_size=30),
    people=st.lists(st.sampled_from(["홍길동", "Kim"]), max_size=2),
)
def test_no_title_escapes_its_markdown_link(title, people):
    row = {
        "title": title,
        "url": "https://ex.com/a?b=1&c=(2)",
        "contributors": people,
        "dates": ["2019-05-01"],
        "fetch_status": "ok",
    }
    (line,) = rows_to_markdown([row]).splitlines()
    href, label, after = link_line(line)
    assert href == COMMONMARK.normalizeLink(row["url"])
    assert label == " ".join(title.split()).replace("[", "(").replace("]", ")")
    assert after == f" — {', '.join(people) or '?'} (2019-05-01)"


# --- build, corruption and recovery -------------------------------------------------------


@slow
def test_build_json_and_an_unchanged_rebuild(tmp_path, capsys, real_index, clone_index):
    index = clone_index(real_index.path)
    argv = ["build", *real_index.sources, "--index", index, "--cache", tmp_path / "cache"]
    code, out, err = run(capsys, *argv, "--offline", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["unchanged"] is True
    assert (report["embedded"], report["reused"]) == (0, REAL_PASSAGES)
    assert report["build_id"] == real_index.report.build_id
    code, out, _ = run(capsys, *argv, "--offline")
    assert code == 0 and "unchanged (nothing to do)" in out
    assert f"embedded:   0 new, {REAL_PASSAGES} reused" in out


@slow
def test_recall_ann_threshold_makes_the_index_ivf(
    monkeypatch, tmp_path, capsys, real_index, clone_index
):
    index = clone_index(real_index.path)
    monkeypatch.setenv("RECALL_ANN_THRESHOLD", "5")
    argv = ["build", *real_index.sources, "--index", index, "--cache", tmp_path / "cache"]
    code, out, err = run(capsys, *argv, "--offline", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dense_index"] == "ivf"
    assert (report["embedded"], report["reused"]) == (0, REAL_PASSAGES)
    code, out, _ = run(capsys, "stats", "--index", index, "--json")
    assert json.loads(out)["dense_index"] == "ivf"
    data = search_json(capsys, index, "자동 질의 확장 객체 검색", "--mode", "dense", "-k", "1")
    assert data["results"][0]["url"] == TOTAL_RECALL


def test_build_of_a_missing_source_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "build", tmp_path / "missing.md", "--index", tmp_path / "i")
    assert code == 2 and "no such file or folder" in err


def test_build_of_a_device_or_an_empty_folder_is_a_usage_error(tmp_path, capsys, real_index):
    code, _, err = run(capsys, "build", "/dev/null", "--index", tmp_path / "i", "--offline")
    assert code == 2 and err.strip() == "recall: not a file or a folder: /dev/null"
    (tmp_path / "empty").mkdir()
    argv = ["--index", real_index.path, "--cache", tmp_path / "cache", "--offline"]
    code, _, err = run(capsys, "build", tmp_path / "empty", *argv)
    assert code == 2 and "nothing published" in err and "Traceback" not in err
    code, out, _ = run(capsys, "stats", "--index", real_index.path, "--json")
    assert json.loads(out)["build_id"] == real_index.report.build_id  # still served


def corrupt(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xde\xad\xbe\xef\xde\xad\xbe\xef"
    path.write_bytes(bytes(data))


@slow
@pytest.mark.parametrize(
    "name", [META, "lexical/title/bm25.data.npy", "lexical/notes/bm25.vocab.json", MANIFEST, DENSE]
)
def test_a_corrupt_index_names_the_file_and_build_full_recovers(
    tmp_path, capsys, real_index, clone_index, name
):
    index = clone_index(real_index.path)
    corrupt(index.resolve() / name)
    readers = [["search", "TPU"], ["related", GAN]]
    if not name.startswith("lexical/"):  # stats and export never open the keyword index
        readers += [["stats"], ["export"]]
    for argv in readers:
        code, out, err = run(capsys, *argv, "--index", index)
        assert code == 2 and out == ""
        assert name.rsplit("/", 1)[-1] in err and FIX in err
        assert err.startswith("recall: ") and err.count("\n") == 1
    argv = ["build", *real_index.sources, "--index", index, "--cache", tmp_path / "cache"]
    code, out, err = run(capsys, *argv, "--offline", "--full", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["embedded"] == REAL_PASSAGES and report["build_id"] != real_index.report.build_id
    data = search_json(capsys, index, "구글 TPU 자료", "-k", "1")
    assert data["results"][0]["url"] == TPU


def test_an_index_built_with_another_model_says_to_rebuild(capsys, fake_build):
    built = fake_build()
    code, out, err = run(capsys, "search", "TPU", "--index", built.path)
    assert code == 2 and out == ""
    assert "built with model 'fake'" in err and FIX in err
    # stats and export need no model
    assert run(capsys, "stats", "--index", built.path)[0] == 0
