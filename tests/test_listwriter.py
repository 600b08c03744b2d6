"""The list writer: chats and lists written in the sample list's shape read back the same."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from indexer.cli import main
from indexer.listwriter import Entry, EntryLink, entries_from_records, write_entry, write_list
from indexer.sources.chat import chat_links, tidy_text
from indexer.sources.files import parse_sources
from indexer.sources.markdown import parse_text, says_something

FIXTURES = Path(__file__).parent / "fixtures" / "kakao"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "keras-open-chat.md"
SOURCES = [*sorted(FIXTURES.iterdir()), SAMPLE]


def said(result) -> tuple[list, list]:
    """What a round trip must keep: each mention's URL, contributor, date and note, and
    each link-less note."""
    mentions = sorted(
        (r.url, m.contributor, m.date, m.note) for r in result.resources for m in r.mentions
    )
    notes = sorted((n.contributor, n.date, n.text) for n in result.notes)
    return mentions, notes


def written(result, group_by=None) -> str:
    entries, left_out = entries_from_records(
        [r.to_dict() for r in result.resources], [n.to_dict() for n in result.notes]
    )
    return write_list(entries, group_by, left_out=left_out)


@pytest.mark.parametrize("group_by", [None, "date", "contributor", "topic"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_fixture_reads_back_the_same(source, group_by):
    first = parse_sources([source])
    assert first.resources
    second = parse_text(written(first, group_by), "written.md")
    assert said(second) == said(first)
    assert {r.url for r in second.resources} == {r.url for r in first.resources}
    assert second.warnings == first.warnings == [] or source.name == "broken.txt"


def test_a_chat_becomes_posts_in_the_sample_lists_shape():
    text = written(parse_sources([FIXTURES / "pc_ko.txt"]))
    assert text.startswith("# 공유된 자료\n")
    assert (
        "## 이명규 (2019.02.22)\n\n"
        "이거 한번 보세요\n분류 문제로 풀어도 성능이 잘 나온다는 논문입니다\n\n"
        "구현이 궁금하시면 (이메일 가림) 으로 연락주세요\n\n"
        "* <https://arxiv.org/abs/1811.12649>\n"
    ) in text
    # two links of one message: the second nested under the first
    assert (
        "## Ryan Shin (2019.02.23)\n\n점심 먹으면서 볼 자료\n\n"
        "* <https://github.com/keras-team/keras>\n  * <https://keras.io/>\n"
    ) in text
    assert text.index("## 이명규 (2019.02.22)") < text.index("## Ryan Shin (2019.02.23)")
    reread = parse_text(text, "written.md")
    keras = {r.url: r for r in reread.resources}["https://keras.io/"]
    assert keras.companions == ["https://github.com/keras-team/keras"]
    assert keras.title_is_placeholder  # the page title may still replace a bare address


def test_groups_are_headings_of_their_own():
    result = parse_sources([FIXTURES / "pc_ko.txt", FIXTURES / "mobile_en.txt"])
    by_name = written(result, "contributor").splitlines()
    assert by_name.index("## Lee Myungkyu") < by_name.index("## Lee Myungkyu (2019.02.22)")
    by_month = written(result, "date").splitlines()
    assert by_month.count("## 2019년 2월") == 1
    by_topic = written(result, "topic").splitlines()
    assert "## paper" in by_topic and "## repo" in by_topic


@pytest.mark.parametrize(
    "name",
    [
        "이명규",
        "Ryan Shin",
        "홍길동 씨",
        "김씨 철수",
        "홍길동(학생)",
        "[서울] 박성욱",
        "2019.02.22 봇",
        "a - b",
        "**별**",
        "http://x.com",
        "C#",
        "이름님",
        "&amp;",
        "<b>굵게</b>",
    ],
)
def test_a_post_by_any_name_reads_back(name):
    entry = Entry(name, "2019-02-22", "메모", [EntryLink("https://ex.com/a", "A title here")])
    (resource,) = parse_text(write_entry(entry), "one.md").resources
    (mention,) = resource.mentions
    assert (mention.contributor, mention.date, mention.note) == (name, "2019-02-22", "메모")
    assert resource.title == "A title here"


@pytest.mark.parametrize(("who", "when"), [(None, "2019-02-22"), ("김태영", None), (None, None)])
def test_posts_without_a_name_or_a_date_read_back(who, when):
    entry = Entry(who, when, "메모 한 줄", [EntryLink("https://ex.com/a")])
    listing = SAMPLE.read_text(encoding="utf-8") + "\n" + write_entry(entry)
    (mention,) = parse_text(listing, "added.md").resources[-1].mentions
    assert (mention.contributor, mention.date, mention.note) == (who, when, "메모 한 줄")


def test_one_entry_appended_to_a_list_reads_back():
    """What `recall add` does: a new section at the end of an existing list."""
    entry = Entry(
        "김태영", "2019-03-20", "새로 찾은 자료\n\n두 번째 문단", [EntryLink("https://ex.com/new")]
    )
    listing = SAMPLE.read_text(encoding="utf-8") + "\n" + write_entry(entry)
    result = parse_text(listing, "added.md")
    (new,) = [r for r in result.resources if r.url == "https://ex.com/new"]
    assert (new.contributors, new.dates) == (["김태영"], ["2019-03-20"])
    assert new.mentions[0].note == "새로 찾은 자료\n\n두 번째 문단"
    assert said(parse_sources([SAMPLE]))[0] == sorted(
        m for m in said(result)[0] if m[0] != "https://ex.com/new"
    )


def test_odd_titles_and_notes_render_as_plain_text():
    entry = Entry(
        "홍길동",
        "2019-05-01",
        "# 제목 아님\n- 목록 아님\n1. 번호 아님\n**굵게 아님** <script>x</script> [a](b) &amp; | c",
        [EntryLink("https://ex.com/a", "Use `]` and <https://evil.example> here \\")],
    )
    html = MarkdownIt("commonmark").render(write_entry(entry))
    assert "<script>" not in html and "<strong>" not in html and "<li>목록" not in html
    assert html.count("<a href") == 1 and 'evil.example"' not in html
    (resource,) = parse_text(write_entry(entry), "odd.md").resources
    assert resource.title == "Use `]` and <https://evil.example> here \\"
    assert resource.mentions[0].note == entry.note


def test_links_that_are_not_web_addresses_are_left_out_and_said_so():
    first = parse_text(
        "## 홍길동 (2019.05.01)\n\n* [x](javascript:alert(1))\n* <https://ex.com/ok>\n", "f"
    )
    text = written(first)
    assert "javascript" not in text
    assert "<!-- 1 links that are not web addresses were left out -->" in text
    assert [r.url for r in parse_text(text, "w").resources] == ["https://ex.com/ok"]


notes = (
    st.text(
        alphabet=st.sampled_from([*"가나다 abc123\n\t#*-+.|[]()<>:!`_~\"'\\/&;=%@,^{}", "님"]),
        max_size=120,
    )
    .map(tidy_text)
    .filter(lambda note: not note or says_something(note))  # `recall add` refuses "-" or ":"
)
names = (
    st.text(alphabet=st.sampled_from(list("김이박최 abcAB.()[]-_*#&;:,님씨0123")), max_size=12)
    .map(lambda name: " ".join(name.split()))
    .filter(bool)
)


@settings(max_examples=300, deadline=None)
@given(name=names, note=notes, day=st.dates(date(1990, 1, 1), date(2099, 12, 31)))
def test_any_note_and_name_read_back(name, note, day):
    if chat_links(note):  # a written-out address in a note is a link of its own
        return
    entry = Entry(name, day.isoformat(), note, [EntryLink("https://ex.com/a")])
    result = parse_text(write_entry(entry), "any.md")
    (resource,) = result.resources
    (mention,) = resource.mentions
    assert (mention.contributor, mention.date, mention.note) == (name, day.isoformat(), note)


def test_recall_export_md_of_a_chat_index_reads_back(tmp_path, capsys, fake_build):
    built = fake_build([FIXTURES])
    assert (
        main(["export", "--index", str(built.path), "--format", "md", "--group-by", "topic"]) == 0
    )
    out = capsys.readouterr().out
    assert said(parse_text(out, "exported.md")) == said(parse_sources([FIXTURES]))
