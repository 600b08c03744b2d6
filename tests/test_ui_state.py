"""The app's URL state and interface strings, as pure functions."""

from pathlib import Path
from urllib.parse import parse_qs

from indexer.hits import Filters
from search_ui.i18n import _STRINGS, t, type_label, why_text
from search_ui.state import UIState, from_params, resource_href, restrict, to_params
from search_ui.status_page import rebuild_command

FACETS = {
    "contributors": {"이상훈": 3, "이명규": 5},
    "types": {"paper": 3, "book": 1},
    "domains": {"arxiv.org": 3},
    "first_date": "2019-02-22",
    "last_date": "2019-03-14",
}


def test_a_full_url_round_trips():
    params = {
        "q": ["LSTM으로 시계열 예측"],
        "contributor": ["이상훈", "이명규"],
        "since": ["2019-02-25"],
        "until": ["2019-03-14"],
        "type": ["paper"],
        "domain": ["arxiv.org"],
        "mode": ["lexical"],
        "lang": ["en"],
        "view": ["status"],
        "id": ["ef703116353f"],
    }
    state = from_params(params)
    assert state == UIState(
        query="LSTM으로 시계열 예측",
        contributors=("이상훈", "이명규"),
        since="2019-02-25",
        until="2019-03-14",
        types=("paper",),
        domains=("arxiv.org",),
        mode="lexical",
        lang="en",
        view="status",
        resource="ef703116353f",
    )
    assert to_params(state) == params


def test_defaults_stay_out_of_the_url():
    assert to_params(UIState()) == {}
    assert to_params(UIState(query="책", mode="hybrid", lang="ko", view="search")) == {"q": ["책"]}


def test_malformed_values_fall_back_to_defaults():
    state = from_params(
        {
            "q": ["  spaced  "],
            "since": ["2019-13-45"],
            "until": ["yesterday"],
            "mode": ["magic"],
            "lang": ["fr"],
            "view": ["admin"],
            "contributor": ["", "이상훈", "이상훈"],
            "id": [""],
        }
    )
    assert state == UIState(query="spaced", contributors=("이상훈",))


def test_an_overlong_query_is_cut():
    assert len(from_params({"q": ["x" * 10_000]}).query) == 2000


def test_restrict_drops_values_the_index_lacks_and_clamps_dates():
    state = UIState(
        contributors=("이상훈", "nobody"),
        types=("paper", "<script>"),
        domains=("evil.example",),
        since="2000-01-01",
        until="2030-01-01",
    )
    fitted = restrict(state, FACETS)
    assert fitted.contributors == ("이상훈",)
    assert fitted.types == ("paper",)
    assert fitted.domains == ()
    assert (fitted.since, fitted.until) == ("2019-02-22", "2019-03-14")
    assert restrict(UIState(since="2019-03-01"), dict(FACETS, first_date=None)).since is None


def test_state_filters():
    state = UIState(contributors=("이상훈",), since="2019-03-01", types=("paper",))
    assert state.filters() == Filters(
        contributors=("이상훈",), since="2019-03-01", types=("paper",)
    )
    assert not UIState().filters().active()


def test_every_string_exists_in_both_languages():
    for key, (korean, english) in _STRINGS.items():
        assert korean and english, key
    assert t("ko", "nav_status") == "색인 상태"
    assert t("en", "nav_status") == "Index status"
    assert t("en", "results_count", n=3, ms=12.4) == "3 results · 12 ms"


def test_type_labels():
    assert type_label("ko", "paper") == "논문"
    assert type_label("en", "repo") == "repo"
    assert type_label("ko", "podcast") == "podcast"


def test_why_in_korean():
    assert why_text("ko", "posted together by 이상훈; similar topic: LSTM") == (
        "이상훈 님이 함께 공유; 비슷한 주제: LSTM"
    )
    assert why_text("ko", "words: LSTM; similar meaning in the list entry (0.37)") == (
        "일치 단어: LSTM; 목록 항목과 의미가 비슷함 (0.37)"
    )
    assert why_text("ko", "same post; similar content (0.30)") == (
        "같은 글에서 공유됨; 비슷한 내용 (0.30)"
    )
    assert why_text("en", "same post by A") == "same post by A"


def test_rebuild_command_names_the_source_folders_and_quotes_paths():
    command = rebuild_command(
        Path("/srv/my index"), ["data/keras-open-chat.md", "data/other.md", "lists/a.md"]
    )
    assert command == "recall build data lists --index '/srv/my index'"
    assert rebuild_command(Path("idx"), [], full=True) == "recall build data --index idx --full"


def test_a_resource_link_opens_its_page_in_the_same_language():
    ref = "https://example.com/a?b=1&c=한글"
    shown = UIState(lang="en", contributors=("이상훈",), mode="lexical")
    href = resource_href(shown, ref)
    assert href.startswith("?") and "&c=" not in href  # the URL travels as one value
    assert from_params(parse_qs(href[1:])) == UIState(
        lang="en", contributors=("이상훈",), mode="lexical", resource=ref
    )
    assert resource_href(UIState(), "ef703116353f") == "?id=ef703116353f"  # Korean: the default


def test_filters_count_the_kinds_set_a_date_span_once():
    assert Filters().kinds_set() == 0 and not Filters().active()
    span = Filters(since="2019-02-25", until="2019-03-14", types=("paper",))
    assert span.kinds_set() == 2 and span.active()
    three = Filters(contributors=("이상훈",), domains=("arxiv.org",), until="2019-03-01")
    assert three.kinds_set() == 3
