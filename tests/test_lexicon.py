"""Queries read against the index's own words, without Kiwi (indexer/lexicon.py): the parts
of compounds read back from documents' tokens, particles and endings cut off, and agreement
with Kiwi's analysis of the same query on a real index."""

import re

import pytest

from indexer import lexicon
from indexer.lexical import FieldIndex, LexicalIndexError
from indexer.lexicon import analyse_query, compound_parts
from indexer.morphology import analyse_many, tokenize_many
from indexer.query import DataFileError

KNOWN = {"케라스", "시계열", "예측", "방법", "딥러닝", "러닝", "텐서", "보드", "팀", "코드"}
KNOWN |= {"책", "위하"}
PARTS = {"딥러닝": ("딥", "러닝")}


def tokens(query: str, known=KNOWN, parts=PARTS) -> list[str]:
    return [term.token for term in analyse_query(query, known.__contains__, parts)]


def test_compounds_get_the_parts_kiwi_gave_them_most_often():
    lists = [
        ["딥러닝", "딥", "러닝", "모델"],
        ["모델", "딥러닝", "딥", "러닝"],
        ["딥러닝"],
        ["학습", "학"],  # a word followed by another word's token: once, against twice alone
        ["학습"],
        ["학습"],
        ["lstm", "l"],  # Latin words are never compounds
    ]
    assert compound_parts(lists) == {"딥러닝": ("딥", "러닝")}


def test_a_latin_word_the_index_lacks_is_asked_as_the_plural_or_singular_it_holds():
    # a list's "GPUs" is indexed as gpu (an acronym's plural); "gpus" asked in lower case too
    assert tokens("gpus", {"gpu"}) == ["gpu"] and tokens("GPU", {"gpus"}) == ["gpus"]
    assert tokens("gpus", {"gpus", "gpu"}) == ["gpus"]  # a word the index holds stays
    assert tokens("corpus", set()) == ["corpus"]


def test_particles_and_endings_are_cut_off_known_stems():
    assert tokens("케라스로 시계열을 예측하는 방법") == ["케라스", "시계열", "예측", "방법"]
    assert tokens("팀들의 코드") == ["팀", "코드"]


def test_an_ending_inside_the_last_syllable_is_taken_out():
    assert tokens("예측을 위한 코드") == ["예측", "위하", "코드"]
    assert tokens("예측을 위해") == ["예측", "위하"]  # 위해 = 위하 + 여


def test_words_written_without_spaces_are_cut_at_particles():
    assert tokens("시계열의예측") == ["시계열의예측", "시계열", "예측"]


def test_a_particle_on_a_latin_word_is_no_term():
    assert tokens("LSTM으로 GPU에서") == ["lstm", "gpu"]


def test_function_words_and_light_verbs_are_dropped():
    assert tokens("여러 코드를 직접 하는 방법") == ["코드", "방법"]


def test_a_known_compound_gets_its_parts_but_not_single_syllables():
    assert tokens("딥러닝 책") == ["딥러닝", "러닝", "책"]


def test_an_unknown_compound_is_cut_into_known_words():
    assert tokens("텐서보드로") == ["텐서보드", "텐서", "보드"]
    # an unknown word that cannot be cut whole stays one (unmatched) term
    assert tokens("조향각을") == ["조향각"]


def test_surfaces_are_the_words_as_written():
    terms = analyse_query("케라스로 LSTM", KNOWN.__contains__, PARTS)
    assert [(t.token, t.surface) for t in terms] == [("케라스", "케라스"), ("lstm", "LSTM")]


@pytest.mark.parametrize("query", ["", "   ", "ㅋㅋㅋ", "!!!", "로", "\x00\ud800"])
def test_odd_queries_give_few_or_no_terms(query):
    assert all(term.token for term in analyse_query(query, KNOWN.__contains__, PARTS))


def test_a_malformed_table_is_a_clear_error(tmp_path, monkeypatch):
    table = tmp_path / "words.tsv"
    table.write_text("form\tclass\n로\tpostposition\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "WORDS", table)
    lexicon._table.cache_clear()
    lexicon._is_suffix.cache_clear()
    try:
        with pytest.raises(DataFileError, match="postposition"):
            lexicon._table()
    finally:
        monkeypatch.undo()
        lexicon._table.cache_clear()
        lexicon._is_suffix.cache_clear()


DOCUMENTS = [
    "케라스로 LSTM 시계열 예측 모델을 만드는 튜토리얼",
    "딥러닝 입문자를 위한 합성곱 신경망 강의",
    "자율주행차의 라이다 데이터를 처리하는 방법",
    "텐서플로 모델을 저장하고 다시 불러오기",
    "강화학습으로 게임을 플레이하는 에이전트",
]
QUERIES = [
    "케라스로 시계열 예측하기",
    "딥러닝 신경망 강의",
    "라이다 데이터 처리 방법",
    "텐서플로 모델 저장",
    "강화학습 에이전트",
]


def test_on_a_real_index_queries_match_what_kiwi_would_match(tmp_path):
    index = FieldIndex.from_tokens({"title": tokenize_many(DOCUMENTS)})
    index.save(tmp_path)
    loaded = FieldIndex.load(tmp_path)
    assert loaded.compounds == index.compounds
    for query, kiwi in zip(QUERIES, analyse_many(QUERIES), strict=True):
        # the tokens that can match: known to the index, more than one syllable
        expected = {t.token for t in kiwi if loaded.knows(t.token) and len(t.token) > 1}
        got = {t.token for t in loaded.analyse_query(query)}
        assert expected <= got, query
        assert {t for t in got if loaded.knows(t)} <= expected | {
            part for parts in loaded.compounds.values() for part in parts
        }, query


def test_a_damaged_compounds_file_is_named_in_the_error(tmp_path):
    FieldIndex.from_tokens({"title": tokenize_many(DOCUMENTS)}).save(tmp_path)
    path = tmp_path / "compounds.json"
    path.write_text(path.read_text(encoding="utf-8")[:-3], encoding="utf-8")
    with pytest.raises(LexicalIndexError, match=re.escape("compounds.json")):
        FieldIndex.load(tmp_path)
