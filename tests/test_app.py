"""The Streamlit app in-process (AppTest) against an index of the sample list built with the
real bundled model."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs

import pytest
from apprun import APP, HOSTILE, SAMPLE, build_index
from conftest import LECTURES, SAMPLE_PASSAGES, VIDEO_LIST
from streamlit.testing.v1 import AppTest

from indexer.config import DEFAULT_MODEL
from indexer.embed import load_embedder
from search_ui import engine as eng

pytestmark = pytest.mark.slow

TIMEOUT = 180  # the first run loads the model and the Korean tokenizer
LSTM_ARTICLE = "Time Series Prediction Using LSTM Deep Neural Networks"
LSTM_URL = "https://www.altumintelligence.com/articles/a/Time-Series-Prediction-Using-LSTM-Deep-Neural-Networks"
NLP_BOOK = "텐서플로와 머신러닝으로 시작하는 자연어 처리"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    index = build_index(
        [SAMPLE], root / "index", root / "cache", embedder=load_embedder(DEFAULT_MODEL)
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECALL_INDEX", str(index))
        patch.setenv("RECALL_CACHE", str(root / "cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield index


def run_app(params: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params.update(params or {})
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def bodies(app: AppTest, css_class: str) -> list[str]:
    """The HTML of every st.html element whose outer element has this class."""
    return [
        e.proto.body
        for e in app.get("html")
        if e.proto.body.startswith(f'<div class="{css_class}"')
    ]


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def titles(app: AppTest, css_class: str = "rc-card") -> list[str]:
    return [
        text_of(re.search(r'<div class="rc-(?:sub)?title">(.*?)</div>', body)[1])
        for body in bodies(app, css_class)
    ]


def test_korean_question_ranks_the_lstm_article_first(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    assert titles(app)[0] == LSTM_ARTICLE
    first = bodies(app, "rc-card")[0]
    assert f'href="{LSTM_URL}" target="_blank"' in first
    assert "<mark>LSTM</mark>" in first  # the matched word is highlighted
    assert "글" in text_of(first) and "이상훈" in first and "2019-03-14" in first
    assert "찾은 이유" in first
    assert any(c.value.startswith("결과 10건") for c in app.caption)


def test_english_question_finds_the_korean_book(index):
    app = run_app({"q": "Korean NLP book", "lang": "en"})
    assert titles(app)[0] == NLP_BOOK
    card = bodies(app, "rc-card")[0]
    assert "rc-type-book" in card and "yes24.com" in card and "Ryan Shin" in card
    assert "한국인이 쓴 첫 번째 딥러닝 자연어처리 책" in card  # the note excerpt


def test_korean_question_for_the_book(index):
    app = run_app({"q": "자연어 처리 책"})
    assert titles(app)[0] == NLP_BOOK
    assert "<mark>" in bodies(app, "rc-card")[0]


def test_contributor_filter_narrows_the_results(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    everyone = titles(app)
    app.multiselect(key="contributor").select("이상훈").run()
    narrowed = titles(app)
    assert narrowed and len(narrowed) < len(everyone)
    assert all("이상훈" in body for body in bodies(app, "rc-card"))
    assert set(narrowed) <= set(everyone)
    assert app.query_params["contributor"] == "이상훈"


def filter_button(app: AppTest) -> str:
    """The label of the button the filters sit behind (beside the question box)."""
    (button,) = [block.proto.popover.label for block in app.get("popover")]
    return button


def test_the_filters_sit_behind_a_button_that_counts_the_kinds_set(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    assert filter_button(app) == "필터"
    app = run_app({"q": "LSTM", "mode": "lexical"})  # another retrieval mode counts too
    assert filter_button(app) == "필터 · 1"
    app = run_app({"q": "LSTM", "contributor": "이상훈", "type": "paper", "since": "2019-03-01"})
    assert filter_button(app) == "필터 · 3"
    next(b for b in app.button if b.label == "필터 지우기").click().run()
    assert filter_button(app) == "필터"
    assert app.query_params == {"q": "LSTM"}


def test_more_results(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    assert len(titles(app)) == 10
    next(b for b in app.button if b.label == "결과 더 보기").click().run()
    assert len(titles(app)) == 11  # every resource of the sample list
    assert not [b for b in app.button if b.label == "결과 더 보기"]


def test_related_opens_under_a_result(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    assert bodies(app, "rc-related") == []
    toggle = next(b for b in app.button if b.key and b.key.startswith("toggle-"))
    toggle.click().run()
    related = bodies(app, "rc-related")
    assert related
    assert "함께 공유" in text_of(related[0])  # the companions come first, and say why


def test_resource_page_is_linkable_by_url(index):
    app = run_app({"id": LSTM_URL})
    header = next(e.proto.body for e in app.get("html") if "rc-page-title" in e.proto.body)
    assert LSTM_ARTICLE in header
    mentions = bodies(app, "rc-mention")
    assert len(mentions) == 1 and "이상훈" in mentions[0] and "keras-open-chat.md" in mentions[0]
    related = [text_of(b) for b in bodies(app, "rc-related")]
    assert any("LSTM-Neural-Network-for-Time-Series-Prediction" in r for r in related)
    assert any("이상훈 님이 함께 공유" in r for r in related)
    # built offline: no page text, so no "(0 characters)" box
    assert not any(e.label.startswith("추출된 페이지 본문") for e in app.expander)


def test_details_button_opens_the_resource_page_and_back_returns(index):
    app = run_app({"q": "자연어 처리 책"})
    next(b for b in app.button if b.key and b.key.startswith("open-")).click().run()
    assert app.query_params["id"]
    assert NLP_BOOK in next(
        e.proto.body for e in app.get("html") if "rc-page-title" in e.proto.body
    )
    next(b for b in app.button if b.label.startswith("←")).click().run()
    assert "id" not in app.query_params
    assert titles(app)[0] == NLP_BOOK


def test_switching_the_language_keeps_the_search(index):
    app = run_app({"q": "자연어 처리 책"})
    assert app.button_group(key="lang").value == "ko"
    assert "찾은 이유" in bodies(app, "rc-card")[0]
    app.button_group(key="lang").set_value("en").run()
    assert app.text_input(key="q").value == "자연어 처리 책"
    assert titles(app)[0] == NLP_BOOK
    assert "Why" in bodies(app, "rc-card")[0] and "찾은 이유" not in bodies(app, "rc-card")[0]
    assert app.query_params == {"q": "자연어 처리 책", "lang": "en"}


def test_a_page_under_several_addresses_is_one_card_naming_the_others(tmp_path, monkeypatch):
    videos = tmp_path / "videos.md"
    videos.write_text(VIDEO_LIST, encoding="utf-8")
    index = build_index(
        [SAMPLE, videos], tmp_path / "index", tmp_path / "cache", load_embedder(DEFAULT_MODEL)
    )
    monkeypatch.setenv("RECALL_INDEX", str(index))
    app = run_app({"q": "MIT 딥러닝 강의 영상", "lang": "en"})
    cards = [body for body in bodies(app, "rc-card") if "njKP3FqW3Sk" in body]
    assert len(cards) == 1  # three addresses, one card
    assert "Also posted as" in cards[0]
    assert all(f'href="{html.escape(url)}"' in cards[0] for url in LECTURES)


def test_an_unknown_resource_says_so(index):
    app = run_app({"id": "no-such-resource", "lang": "en"})
    assert app.warning[0].value == "No resource no-such-resource in this index."


def test_url_parameters_seed_the_widgets(index):
    app = run_app(
        {
            "q": "자연어 처리 책",
            "contributor": ["Ryan Shin", "nobody"],
            "type": "book",
            "since": "2019-02-01",
            "mode": "lexical",
            "lang": "en",
        }
    )
    assert app.text_input(key="q").value == "자연어 처리 책"
    assert app.multiselect(key="contributor").value == ["Ryan Shin"]
    assert app.multiselect(key="type").value == ["book"]
    assert app.toggle(key="dates").value is True  # the date pickers are drawn
    assert str(app.date_input(key="since").value) == "2019-02-22"  # clamped to the index
    assert app.toggle(key="advanced").value is True
    assert app.radio(key="mode").value == "lexical"
    assert app.session_state["lang"] == "en"
    assert app.text_input(key="q").placeholder.startswith("What are you looking for")
    assert titles(app) == [NLP_BOOK]


def test_widget_changes_are_written_to_the_url(index):
    app = run_app({"q": "자연어 처리 책", "contributor": "Ryan Shin"})
    app.multiselect(key="contributor").unselect("Ryan Shin")
    app.multiselect(key="type").select("paper")
    app.text_input(key="q").set_value("metric learning")
    app.toggle(key="advanced").set_value(True).run()
    app.radio(key="mode").set_value("dense").run()
    assert app.query_params == {"q": "metric learning", "type": "paper", "mode": "dense"}
    assert all("rc-type-paper" in body for body in bodies(app, "rc-card"))


def test_the_date_filter_is_drawn_on_request_and_off_when_switched_off(index):
    app = run_app({"q": "LSTM"})
    everything = titles(app)
    assert not app.date_input  # not drawn (nor loaded by the browser) until asked for
    app.toggle(key="dates").set_value(True).run()
    app.date_input(key="since").set_value(dt.date(2019, 3, 1)).run()
    assert app.query_params["since"] == "2019-03-01"
    narrowed = titles(app)
    assert narrowed and set(narrowed) < set(everything)
    app.toggle(key="dates").set_value(False).run()
    assert not app.date_input and "since" not in app.query_params
    assert titles(app) == everything


def test_front_page_without_a_question(index):
    app = run_app()
    (block,) = bodies(app, "rc-newest")
    newest = [text_of(m) for m in re.findall(r'<div class="rc-subtitle">(.*?)</div>', block)]
    assert newest[:2] == [LSTM_ARTICLE, "LSTM-Neural-Network-for-Time-Series-Prediction"]
    assert len(newest) == 8
    # each entry links to its page in the app; the link opens it as a shared link does
    pages = [html.unescape(h) for h in re.findall(r'class="rc-open" href="([^"]*)"', block)]
    assert len(pages) == 8 and all(page.startswith("?id=") for page in pages)
    opened = run_app({name: values[-1] for name, values in parse_qs(pages[0][1:]).items()})
    header = next(e.proto.body for e in opened.get("html") if "rc-page-title" in e.proto.body)
    assert LSTM_ARTICLE in header
    # ... and keeps the page's filters
    filtered = run_app({"contributor": "이상훈"})
    (block,) = bodies(filtered, "rc-newest")
    assert "contributor=%EC%9D%B4%EC%83%81%ED%9B%88" in block
    bars = next(body for body in bodies(app, "rc-bars") if "이명규" in body)
    assert re.search(r'rc-bar-label">이명규</div>.*?rc-bar-count">5<', bars)
    assert app.text_input(key="q").placeholder.startswith("무엇을 찾고")
    assert any(c.value.startswith("자료 11건") for c in app.caption)


def test_less_related_hits_are_under_a_fold_after_the_close_ones(index):
    app = run_app({"q": "LSTM으로 시계열 예측"})
    fold = next(e for e in app.expander if e.label.startswith("덜 관련된 결과"))
    weak = int(re.search(r"\((\d+)\)", fold.label)[1])
    folded = [
        text_of(re.search(r'<div class="rc-title">(.*?)</div>', e.proto.body)[1])
        for e in fold.get("html")
        if e.proto.body.startswith('<div class="rc-card"')
    ]
    assert 0 < weak == len(folded) < 10
    assert titles(app)[0] == LSTM_ARTICLE and LSTM_ARTICLE not in folded
    assert titles(app)[-weak:] == folded  # the close hits first, then the fold
    assert not any(e.value.startswith("가까운 자료가 없습니다") for e in app.info)


def test_a_question_nothing_answers_says_no_close_match(index):
    app = run_app({"q": "김치찌개 맛있게 끓이는 법"})
    assert any(e.value.startswith("가까운 자료가 없습니다") for e in app.info)
    fold = next(e for e in app.expander if e.label.startswith("덜 관련된 결과"))
    assert len(titles(app)) == int(re.search(r"\((\d+)\)", fold.label)[1])  # all folded
    assert not any("말이 나오지 않습니다" in e.value for e in app.caption)  # no ML term


def test_a_question_about_a_term_the_list_never_mentions_says_so(index):
    app = run_app({"q": "연합 학습 튜토리얼"})  # federated learning: in the glossary, not the list
    said = "이 모음의 자료에는 '연합 학습'(이)라는 말이 나오지 않습니다."
    assert said in [e.value for e in app.caption]
    assert any(e.value.startswith("가까운 자료가 없습니다") for e in app.info)


def test_export_offers_markdown_and_csv(index):
    app = run_app({"q": "자연어 처리 책"})
    assert not app.code  # made only when asked for
    app.toggle(key="export_copy").set_value(True).run()
    markdown = app.code[0].value
    assert markdown.startswith(f"* [{NLP_BOOK}](<http://www.yes24.com/Product/Goods/69334316>)")
    assert "Ryan Shin (2019-02-28)" in markdown
    assert len(app.get("download_button")) == 2


def test_status_view(index):
    app = run_app({"view": "status"})
    assert [m.value for m in app.metric][:3] == ["11", "0", str(SAMPLE_PASSAGES)]
    assert "use-multilingual" in "".join(b.proto.body for b in app.get("html"))
    assert app.code[0].value == f"recall build {SAMPLE.parent} --index {index}"
    files = app.dataframe[0].value  # one row per list or chat export
    assert len(files) == 1 and files.iloc[0, 1] == "markdown" and files.iloc[0, 3] == 11
    unavailable = app.dataframe[2].value
    assert len(unavailable) == 11 and set(unavailable.iloc[:, 2]) == {"offline"}
    assert set(unavailable.iloc[:, 3]) == {"unchecked"}  # never fetched is not dead


def test_no_index_page(index, tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_INDEX", str(tmp_path / "missing"))
    app = run_app({"lang": "en"})
    assert app.header[0].value == "There is no index yet"
    assert app.code[0].value == f"recall build data --index {tmp_path / 'missing'}"


def test_model_and_index_load_once_and_a_rebuild_is_picked_up(index, tmp_path):
    embedder = load_embedder(DEFAULT_MODEL)
    path = build_index([SAMPLE], tmp_path / "index", tmp_path / "cache", embedder=embedder)
    first = eng.open_engine(path)
    assert eng.open_engine(path).searcher is first.searcher  # warm: nothing reloaded
    build_index([SAMPLE, HOSTILE], path, tmp_path / "cache", embedder=embedder)
    rebuilt = eng.open_engine(path)
    assert rebuilt.build_id != first.build_id
    assert len(rebuilt.searcher.docs) > len(first.searcher.docs)
    assert rebuilt.searcher.embedder is first.searcher.embedder is embedder
