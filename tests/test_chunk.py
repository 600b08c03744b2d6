"""Text to passages: sizes, overlap, paragraph and sentence boundaries, profiles."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from indexer.chunk import (
    MAX_WORDS,
    OVERLAP_WORDS,
    PROFILE_NOTE_WORDS,
    TARGET_WORDS,
    Passage,
    page_passages,
    profile_passages,
    split_passages,
)


def words(prefix: str, count: int) -> str:
    """`count` distinct words, so that every word's place in the passages is unambiguous."""
    return " ".join(f"{prefix}{i}" for i in range(count))


def sentences(prefix: str, count: int, length: int, end: str = ".") -> str:
    """`count` sentences of `length` distinct words each, the last word ending in `end`."""
    return " ".join(words(f"{prefix}{s}w", length) + end for s in range(count))


def overlap(before: list[str], after: list[str]) -> int:
    """The longest tail of `before` that `after` starts with."""
    longest = min(len(before), len(after))
    return max(n for n in range(longest + 1) if before[len(before) - n :] == after[:n])


def stitched(passages: list[str]) -> list[str]:
    """The words of the passages with each passage's overlap with the one before removed."""
    result: list[str] = []
    previous: list[str] = []
    for passage in passages:
        current = passage.split()
        result.extend(current[overlap(previous, current) :])
        previous = current
    return result


# --- sizes and overlap -------------------------------------------------------------------


def test_short_text_is_one_passage_and_empty_text_none():
    assert split_passages("one two three") == ["one two three"]
    assert split_passages("") == []
    assert split_passages("  \n\n \t ") == []


def test_paragraphs_are_kept_whole_while_they_fit():
    first, second, third = words("a", 150), words("b", 150), words("c", 150)
    passages = split_passages(f"{first}\n\n{second}\n\n{third}")
    # 150 + 150 reaches the target without passing MAX_WORDS: one passage of both.
    assert passages[0] == f"{first} {second}"
    # The next starts with the last OVERLAP_WORDS words of the one before.
    assert passages[1] == " ".join([*second.split()[-OVERLAP_WORDS:], *third.split()])
    assert len(passages) == 2


def test_a_paragraph_that_does_not_fit_starts_a_new_passage_after_an_overlap():
    first, second = words("a", 180), words("b", 100)
    third = words("c", 250)
    passages = split_passages(f"{first}\n\n{second}\n\n{third}")
    assert passages[0] == f"{first} {second}"
    assert passages[1].split()[:OVERLAP_WORDS] == second.split()[-OVERLAP_WORDS:]
    assert passages[1].split()[OVERLAP_WORDS:] == third.split()


def test_the_overlap_gives_way_to_a_unit_that_would_pass_the_maximum():
    # 180 words, then a 290-word paragraph: 30 words of overlap + 290 would be 320.
    passages = split_passages(f"{words('a', 180)}\n\n{words('b', 290)}")
    assert [len(p.split()) for p in passages] == [180, MAX_WORDS]
    assert passages[1].split()[-290:] == words("b", 290).split()
    assert passages[1].split()[:10] == words("a", 180).split()[-10:]


def test_no_passage_is_only_the_overlap_of_the_one_before():
    text = f"{words('a', 150)}\n\n{words('b', 150)}\n\n{words('c', 290)}"
    passages = split_passages(text)
    assert [len(p.split()) for p in passages] == [300, 300]
    assert stitched(passages) == text.split()


def test_unbroken_text_is_cut_at_the_maximum():
    text = words("w", 700)  # one paragraph, one "sentence"
    passages = split_passages(text)
    assert [len(p.split()) for p in passages] == [300, 300, 130]
    assert stitched(passages) == text.split()


def test_the_tail_after_a_full_passage_becomes_a_passage_with_its_overlap():
    passages = split_passages(f"{words('a', TARGET_WORDS)}\n\nlast words")
    assert passages[0] == words("a", TARGET_WORDS)
    assert passages[1].split() == [
        *words("a", TARGET_WORDS).split()[-OVERLAP_WORDS:],
        "last",
        "words",
    ]


def test_text_ending_at_a_full_passage_adds_no_overlap_only_passage():
    assert split_passages(words("a", TARGET_WORDS)) == [words("a", TARGET_WORDS)]


def test_a_repeated_ending_is_not_mistaken_for_the_overlap():
    # The last paragraph repeats the previous passage's last words: it is new text.
    body = words("a", TARGET_WORDS)
    repeat = " ".join(body.split()[-OVERLAP_WORDS:])
    passages = split_passages(f"{body}\n\n{repeat}")
    assert len(passages) == 2
    assert passages[1].split() == [*repeat.split(), *repeat.split()]


# --- sentence boundaries -----------------------------------------------------------------


def test_a_long_paragraph_is_cut_at_sentence_ends():
    paragraph = sentences("s", 12, 40)  # 480 words in one paragraph
    passages = split_passages(paragraph)
    assert len(passages) >= 2
    for passage in passages:
        assert len(passage.split()) <= MAX_WORDS
        assert passage.endswith(".")
    assert stitched(passages) == paragraph.split()


def test_korean_sentences_end_at_da_even_without_a_space():
    sentence = " ".join(["데이터를"] * 39 + ["학습합니다."])
    paragraph = "".join([sentence] * 10)  # no space between sentences
    passages = split_passages(paragraph)
    assert len(passages) >= 2
    assert all(p.endswith("학습합니다.") for p in passages)
    assert all(len(p.split()) <= MAX_WORDS for p in passages)


# --- properties --------------------------------------------------------------------------

paragraph_lengths = st.lists(st.integers(min_value=1, max_value=420), min_size=1, max_size=8)


@given(lengths=paragraph_lengths, sentence_length=st.integers(min_value=1, max_value=80))
def test_passages_cover_the_text_in_order_within_the_limits(lengths, sentence_length):
    paragraphs = []
    for number, length in enumerate(lengths):
        tokens = words(f"p{number}w", length).split()
        for end in range(sentence_length - 1, length, sentence_length):
            tokens[end] += "."
        paragraphs.append(" ".join(tokens))
    text = "\n\n".join(paragraphs)
    passages = split_passages(text)
    assert passages
    assert all(1 <= len(p.split()) <= MAX_WORDS for p in passages)
    # Every word, in order, once the overlaps are removed; no passage is overlap alone.
    assert stitched(passages) == text.split()
    for before, after in itertools.pairwise(passages):
        shared = overlap(before.split(), after.split())
        assert shared <= OVERLAP_WORDS
        assert shared < len(after.split())


# --- profiles and pages ------------------------------------------------------------------


def test_profile_holds_header_and_notes_and_long_notes_continue_in_note_passages():
    long_note = words("n", PROFILE_NOTE_WORDS + 50)
    passages = profile_passages(
        "doc1",
        ["Deep Learning Book", "book · ex.com", "홍길동"],
        ["짧은 메모", long_note],
        "A summary",
    )
    profile, *notes = passages
    assert profile.kind == "profile" and profile.doc == "doc1"
    lines = profile.text.split("\n")
    assert lines[:3] == ["Deep Learning Book", "book · ex.com", "홍길동"]
    assert lines[-1] == "A summary"
    kept = " ".join(lines[3:-1]).split()
    assert kept[:2] == ["짧은", "메모"]
    assert abs(len(kept) - PROFILE_NOTE_WORDS) <= 1  # notes are joined by newlines
    assert [p.kind for p in notes] == ["note"]
    # The overflow holds the rest of the notes, and its embed text carries the title.
    assert kept + notes[0].text.split() == ["짧은", "메모", *long_note.split()]
    assert notes[0].embed_text == f"Deep Learning Book\n{notes[0].text}"


def test_repeated_notes_appear_once_in_the_profile():
    (profile,) = profile_passages("d", ["Title"], ["같은 메모", "같은 메모", ""])
    assert profile.text == "Title\n같은 메모"


def test_page_passages_carry_the_title_for_the_embedder_only():
    text = f"{words('a', 250)}\n\n{words('b', 250)}"
    passages = page_passages("d", "Page Title", text)
    assert len(passages) >= 2
    assert all(p.kind == "page" and p.doc == "d" for p in passages)
    assert all(p.embed_text == f"Page Title\n{p.text}" for p in passages)
    assert not any("Page Title" in p.text for p in passages)
    assert page_passages("d", "", "plain text")[0].embed_text == "plain text"


def test_passage_hash_follows_the_embedded_text():
    one = Passage("d", "page", "same text", "Title A\nsame text")
    two = Passage("e", "page", "same text", "Title B\nsame text")
    three = Passage("f", "note", "other", "Title A\nsame text")
    assert one.hash != two.hash
    assert one.hash == three.hash
    assert len(one.hash) == 40
