"""`recall serve`, the JSON API, as a real server on a free loopback port: answers equal to
the CLI's JSON, JSON errors for bad input, and a rebuild picked up without reloading the
model. The index is the sample corpus built with the real bundled model."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from apprun import free_port, serve_api
from conftest import GAN, LSTM_ARTICLE

from indexer.cli import main
from indexer.export import hit_rows, rows_to_markdown

pytestmark = pytest.mark.slow

KOREAN = "LSTM으로 시계열 예측"
BAYES = "https://example.org/bayesian-optimization"
MORE_LIST = f"""# 추가 자료

## 홍길동 (2020.01.02)

베이지안 최적화로 하이퍼파라미터를 찾는 입문 글입니다.

* [Bayesian Optimization Primer]({BAYES})
"""


def get(base: str, path: str, **params) -> tuple[int, str, str]:
    """(status, content type, body) of GET base+path?params; errors are answers too."""
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


def get_json(base: str, path: str, expect: int = 200, **params) -> dict:
    status, kind, body = get(base, path, **params)
    assert (status, kind) == (expect, "application/json"), body
    assert "Traceback" not in body
    return json.loads(body)


def cli_json(capsys, *argv) -> dict:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def without_timing(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "took_ms"}


@pytest.fixture(scope="module")
def api(real_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("api") / "serve.log"
    with serve_api(real_index.path, log) as url:
        yield url, log


def test_the_server_says_when_it_is_ready(api, real_index):
    url, log = api
    assert f"ready: index {real_index.path} (build {real_index.report.build_id})" in (
        log.read_text()
    )
    health = get_json(url, "/healthz")
    assert health == {
        "status": "ok",
        "build_id": real_index.report.build_id,
        "model": "use-multilingual",
    }
    probe = urllib.request.Request(url + "/healthz", method="HEAD")
    with urllib.request.urlopen(probe, timeout=10) as answer:  # an uptime probe's request
        assert answer.status == 200 and answer.read() == b""


@pytest.mark.parametrize(
    "params",
    [
        {"q": KOREAN},
        {"q": "time series forecasting", "k": 3, "mode": "dense"},
        {"q": "GAN", "mode": "lexical", "contributor": ["김태영"], "since": "2017-01-01"},
        {"q": "딥러닝 강의", "type": ["video", "article"], "domain": ["YouTube.com"]},
    ],
)
def test_search_answers_as_the_cli(api, real_index, capsys, params):
    answer = get_json(api[0], "/search", **params)
    argv = ["search", params["q"], "--index", real_index.path, "--json"]
    for name, value in params.items():
        if name != "q":
            for one in value if isinstance(value, list) else [value]:
                argv += ["-k" if name == "k" else f"--{name}", one]
    assert without_timing(answer) == without_timing(cli_json(capsys, *argv))
    if params["q"] == "딥러닝 강의":  # the lecture's three addresses: one hit naming two
        assert sorted(len(hit["also_at"]) for hit in answer["results"])[-1] == 2


def test_search_as_the_markdown_list_the_app_exports(api, real_searcher):
    status, kind, body = get(api[0], "/search", q=KOREAN, k=5, format="md")
    assert (status, kind) == (200, "text/markdown; charset=utf-8")
    ids = [hit["id"] for hit in get_json(api[0], "/search", q=KOREAN, k=5)["results"]]
    assert body == rows_to_markdown(hit_rows(real_searcher.reader, ids))
    assert f"(<{LSTM_ARTICLE}>)" in body


def test_related_answers_as_the_cli(api, real_index, capsys):
    answer = get_json(api[0], "/related", id=GAN, k=3)
    assert answer == cli_json(capsys, "related", GAN, "-k", 3, "--index", real_index.path, "--json")
    assert len(answer["results"]) == 3


def test_a_resource_by_url_or_id_with_its_page_text(api, real_searcher):
    record = get_json(api[0], "/resource", id=LSTM_ARTICLE)
    assert record["url"] == LSTM_ARTICLE and "page_text" in record
    assert get_json(api[0], "/resource", id=record["id"]) == record


def test_stats_answers_as_the_cli(api, real_index, capsys):
    answer = get_json(api[0], "/stats")
    assert answer == cli_json(capsys, "stats", "--index", real_index.path, "--json")


def test_an_over_long_query_is_cut_and_said(api):
    answer = get_json(api[0], "/search", q="시계열 예측 " * 400)  # 2,800 characters
    assert answer["truncated"] is True
    assert "2000" in answer["message"]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/search", {}, 400, "missing query"),
        ("/search", {"q": "   "}, 400, "missing query"),
        ("/search", {"q": "LSTM", "k": 0}, 400, "k:"),
        ("/search", {"q": "LSTM", "k": 101}, 400, "k:"),
        ("/search", {"q": "LSTM", "k": "ten"}, 400, "k:"),
        ("/search", {"q": "LSTM", "since": "2019-13-40"}, 400, "not a date"),
        ("/search", {"q": "LSTM", "type": "podcast"}, 400, "unknown type"),
        ("/search", {"q": "LSTM", "mode": "fuzzy"}, 400, "mode:"),
        ("/search", {"q": "LSTM", "format": "pdf"}, 400, "format:"),
        ("/related", {}, 400, "missing resource"),
        ("/related", {"id": "https://nowhere.example/"}, 404, "no resource"),
        ("/related", {"id": GAN, "k": 500}, 400, "k:"),
        ("/resource", {"id": "no-such-id"}, 404, "no resource"),
        ("/nothing-here", {}, 404, "Not Found"),
    ],
)
def test_bad_requests_get_a_json_error(api, path, params, status, says):
    answer = get_json(api[0], path, expect=status, **params)
    assert says in answer["error"]


def test_the_openapi_page_needs_no_network(api):
    status, kind, body = get(api[0], "/docs")
    assert status == 200 and kind.startswith("text/html")
    scripts = re.findall(r'src="([^"]+\.js)"', body)
    assert scripts and all(src.startswith("/") for src in scripts)  # served here, not a CDN
    status, kind, _ = get(api[0], scripts[0])
    assert status == 200 and "javascript" in kind
    spec = get_json(api[0], "/openapi.json")
    assert {"/search", "/related", "/resource", "/stats", "/healthz"} <= set(spec["paths"])


# --- a server started before its index, then rebuilt: in-process, to see its model ------------


@pytest.fixture
def in_process_api(tmp_path):
    """create_app on tmp_path/served/index (not there yet) under uvicorn in a thread."""
    import uvicorn

    from indexer.api import create_app
    from indexer.live import LiveIndex

    live = LiveIndex(tmp_path / "served" / "index")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(live), host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            thread.join(0.05)
        yield f"http://127.0.0.1:{port}", live
    finally:
        server.should_exit = True
        thread.join(30)


def test_an_index_built_or_rebuilt_later_is_served_without_reloading_the_model(
    in_process_api, real_index, clone_index, tmp_path
):
    from indexer.build import Builder
    from indexer.config import load_settings

    url, live = in_process_api
    missing = get_json(url, "/healthz", expect=503)
    assert "no index at" in missing["error"] and "recall build" in missing["error"]
    assert "missing query" in get_json(url, "/search", expect=400)["error"]
    assert "no index at" in get_json(url, "/search", expect=503, q="LSTM")["error"]

    served = clone_index(real_index.path, name="served")
    first = get_json(url, "/healthz")["build_id"]
    assert first == real_index.report.build_id
    model = live.searcher().embedder

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "more.md").write_text(MORE_LIST, encoding="utf-8")
    settings = load_settings(env={}, index_dir=served, cache_dir=tmp_path / "cache")
    report = Builder(settings).build([*real_index.sources, extra], offline=True)
    assert get_json(url, "/healthz")["build_id"] == report.build_id != first
    found = get_json(url, "/search", q="베이지안 최적화", k=3)["results"]
    assert found[0]["url"] == BAYES
    assert live.searcher().embedder is model


def test_an_unexpected_error_is_a_json_500_without_a_traceback(in_process_api, monkeypatch):
    url, live = in_process_api

    class Broken:
        def search(self, *args, **kwargs):
            raise ZeroDivisionError("a bug")

    monkeypatch.setattr(live, "searcher", Broken)
    answer = get_json(url, "/search", expect=500, q="LSTM")
    assert answer == {"error": "internal error (ZeroDivisionError); the server log has details"}
