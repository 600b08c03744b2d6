"""Property tests: arbitrary text never crashes the parser and planted links survive."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from indexer.resources import normalize_url
from indexer.sources.markdown import parse_text

markdown_noise = st.text(
    alphabet=st.sampled_from([*list("abc 가나다\n\t#*-+1.|[]()<>:!`_~\"'\\/"), "\u200b", "…"]),
    max_size=200,
)
link_text = st.text(
    alphabet=st.characters(blacklist_characters="[]\n\r\\", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip())
url_path = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/.~%", max_size=30)
hosts = st.sampled_from(["example.com", "arxiv.org", "www.github.com", "ko.wikipedia.org"])


@given(st.text(max_size=2000))
def test_arbitrary_text_never_crashes(text):
    result = parse_text(text, "random.md")
    for resource in result.resources:
        assert resource.url_status in {"ok", "invalid"}
        assert resource.mentions


@given(
    before=markdown_noise,
    after=markdown_noise,
    text=link_text,
    scheme=st.sampled_from(["http", "https"]),
    host=hosts,
    path=url_path,
)
# A form feed and U+0085 end a line for str.splitlines, not for markdown (found by this test).
@example(before="", after="", text="0\x0c\x85", scheme="http", host="example.com", path="_")
def test_planted_link_comes_out_as_resource(before, after, text, scheme, host, path):
    url = f"{scheme}://{host}/{path}"
    # A planted link starts a line or follows whitespace: "x[a](u)" inside an
    # unclosed "[" is not a link in markdown either.
    document = f"{before}\n[{text}]({url})\n{after}"
    result = parse_text(document, "planted.md")
    assert normalize_url(url) in {r.url for r in result.resources}


@given(st.text(max_size=300))
def test_normalize_url_is_idempotent_on_any_text(text):
    once = normalize_url(text)
    assert normalize_url(once) == once


@given(
    scheme=st.sampled_from(["http", "HTTP", "https"]),
    host=hosts,
    path=url_path,
    query=st.lists(
        st.tuples(
            st.sampled_from(["a", "id", "utm_source", "fbclid", "q"]),
            st.text(alphabet="xyz12", max_size=4),
        ),
        max_size=4,
    ),
)
def test_normalize_url_drops_only_tracking_parameters(scheme, host, path, query):
    raw = f"{scheme}://{host.upper()}/{path}?" + "&".join(f"{k}={v}" for k, v in query)
    normalized = normalize_url(raw + "#fragment")
    assert normalize_url(normalized) == normalized
    assert "#" not in normalized
    kept = [f"{k}={v}" for k, v in query if k not in {"utm_source", "fbclid"}]
    assert normalized.partition("?")[2] == "&".join(kept)
    assert normalized.startswith(scheme.lower() + "://" + host.lower())
