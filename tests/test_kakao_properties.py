"""Property test: generated messages, written as each export format, read back the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from kakaogen import READER_FORMAT, render

from indexer.sources.files import decode_source
from indexer.sources.kakao import ChatMessage, detect, read_export

# Words that say nothing to the reader on their own: no line of them is a date, a
# header or a notice, but they hold the characters that could confuse a reader.
WORDS = ["케라스", "논문", "좋아요", "hello", "GAN", "https://keras.io/x?a=1&b=2", "ㅋㅋ", ":)"]
WORDS += [
    "(사진)",
    "a,b",
    '"인용"',
    "C:\\path",
    "100%",
    "[공지]",
    "#태그",
    "- 항목",
    "1.",
    "*강조*",
]
WORDS += ["님", "씨", "오후", "PM", "12:30", "2019.", "…", "😀", "\t", "it's"]

names = (
    st.text(
        alphabet=st.sampled_from(list("김이박최정가나다라 abcXYZ019[]():._-@#*님씨")),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(lambda name: name and " :" not in name and "] [" not in name)
)
lines = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
texts = st.lists(lines, min_size=1, max_size=3).map(lambda ls: "\n".join(ls).strip())


@st.composite
def conversations(draw) -> list[ChatMessage]:
    start = draw(st.datetimes(datetime(2012, 1, 1), datetime(2030, 12, 31))).replace(
        second=0, microsecond=0
    )
    steps = draw(st.lists(st.integers(0, 3000), min_size=1, max_size=25))
    people = draw(st.lists(names, min_size=1, max_size=4))
    messages, when = [], start
    for step in steps:
        when += timedelta(minutes=step)
        messages.append(ChatMessage(when, draw(st.sampled_from(people)), draw(texts), 0))
    return messages


@settings(max_examples=60, deadline=None)
@given(
    messages=conversations(),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_every_format_reads_back_the_messages_it_was_written_from(messages, newline, bom):
    expected = [(m.time, m.sender, m.text) for m in messages]
    for fmt, reader in READER_FORMAT.items():
        data = render(messages, fmt).replace("\n", newline).encode("utf-8")
        text, problem = decode_source(b"\xef\xbb\xbf" + data if bom else data)
        assert problem is None
        assert detect(text) == reader, fmt
        export = read_export(text, "chat.txt", reader)
        assert export.warnings == [], fmt
        assert [(m.time, m.sender, m.text) for m in export.messages] == expected, fmt
