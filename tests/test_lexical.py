"""The Korean-aware tokenizer, term matching and the BM25 index with its saved form."""

import json
import math
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import morphology
from indexer.hits import clean_query
from indexer.lexical import FieldIndex, LexicalIndex, LexicalIndexError, among, top_k
from indexer.morphology import latin_surfaces, part_of, tokenize, tokenize_many

CORPUS = [
    "LSTM으로 시계열 데이터를 예측하는 튜토리얼",
    "YOLO 객체인식 모델을 직접 구현해 보았습니다",
    "Attention Is All You Need: Transformer 논문 리뷰",
    "강화학습 입문 강의 모음",
    "Deep metric learning for image retrieval",
    "",
]


# --- tokenizer --------------------------------------------------------------------------------


def test_particles_are_stripped_from_nouns():
    assert tokenize("시계열을") == ["시계열"]
    assert tokenize("시계열에서는 예측이") == ["시계열", "예측"]


def test_compound_nouns_are_kept_whole_and_split_into_their_parts():
    assert tokenize("객체인식을") == ["객체인식", "객체", "인식"]
    assert {"자연어", "처리"} <= set(tokenize("자연어처리 책"))
    assert {"강화", "학습"} <= set(tokenize("강화학습을"))


def test_a_word_kiwi_cuts_by_context_still_yields_the_written_word():
    # Kiwi reads 시계열 whole on its own but as 시 + 계열 before 강화학습.
    assert "시계열" in tokenize("시계열 강화학습 모델")
    assert "시계열" in tokenize("시계열")


def test_mixed_korean_and_english():
    tokens = tokenize("LSTM으로 시계열 예측")
    assert {"lstm", "시계열", "예측"} <= set(tokens)
    assert "으로" not in tokens
    assert tokens.index("lstm") < tokens.index("시계열")  # reading order is kept


def test_latin_words_are_lowercased_stems_without_stopwords():
    assert tokenize("The Quick Guides to PyTorch") == ["quick", "guid", "pytorch"]
    # forms of a word meet at one stem, on both sides of a search
    assert tokenize("networks Network distilling distillation") == ["network"] * 2 + ["distil"] * 2


def test_an_acronyms_plural_meets_the_acronym():
    # Snowball keeps "cnns", "gpus" and "lstms" whole: they would never meet CNN, GPU, LSTM
    assert tokenize("CNNs GPUs LSTMs lstms mlps") == ["cnn", "gpu", "lstm", "lstm", "mlp"]
    assert tokenize("Adams classes GANs gans AWS") == tokenize("Adam class GAN gan AWS")


def test_latin_stems_are_safe_to_make_from_many_threads():
    words = [f"learnings{i}" for i in range(2000)] + ["tutorials", "networks"] * 500
    with ThreadPoolExecutor(8) as pool:
        stems = list(pool.map(morphology.latin_token, words))
    assert stems == Stemmer.Stemmer("english").stemWords(words)
    assert stems[-2:] == ["tutori", "network"]


def test_without_a_stemmer_latin_words_stay_whole(monkeypatch):
    monkeypatch.setattr(morphology, "LATIN_STEMMER", None)
    assert tokenize("Quick Guides") == ["quick", "guides"]


def test_latin_words_keep_digits_and_language_suffixes():
    assert tokenize("seq2seq in C++, C# and R") == ["seq2seq", "c++", "c#", "r"]
    assert tokenize("gpt-2 node.js") == ["gpt", "2", "node", "js"]


def test_function_morphemes_and_light_verbs_are_dropped():
    tokens = tokenize("딥러닝을 공부했어요")
    assert {"딥", "러닝", "공부"} <= set(tokens)
    assert not {"을", "하", "었", "어요"} & set(tokens)


def test_verb_and_adjective_stems_are_kept():
    assert {"예쁘", "꽃", "피"} <= set(tokenize("예쁜 꽃이 피었다"))


def test_full_width_latin_and_decomposed_hangul_are_normalized():
    assert tokenize("ＬＳＴＭ") == ["lstm"]
    decomposed = "\u1109\u1175\u1100\u1168\u110b\u1167\u11af"  # 시계열 typed as jamo
    assert tokenize(decomposed) == ["시계열"]


def test_junk_is_not_indexed():
    assert tokenize("ㅋㅋㅋㅋ ㅠㅠ !!! 😀 ... \u200b") == []
    assert tokenize("") == []


def test_control_characters_and_lone_surrogates_separate_words():
    assert tokenize("deep\x00learning\ud800시계열")[:3] == ["deep", "learn", "시계열"]


def test_invisible_format_characters_are_taken_out_as_queries_lose_them():
    """A title copied from the web with zero-width spaces, a soft hyphen or a bidi mark is
    indexed as its words; a query cleaned by clean_query meets it."""
    assert tokenize("G\u200bA\u200bN tutorial") == tokenize("GAN tutorial") == ["gan", "tutori"]
    assert tokenize("recog\u00adnition 한\u200d국어\u200f") == tokenize("recognition 한국어")
    assert clean_query("G\u200bA\u200bN tutorial", 100)[0] == "GAN tutorial"


def test_other_scripts_are_kept_as_words():
    assert tokenize("Привет 漢字") == ["привет", "漢字"]


def test_long_text_is_tokenized_to_the_end():
    text = "케라스로 시계열 예측 모델을 만들었습니다. " * 4200 + "마지막으로 transformer 강화학습"
    assert len(text) > 100_000
    tokens = tokenize(text)
    assert tokens[-4:] == ["transform", "강화학습", "강화", "학습"]
    assert tokens.count("시계열") == 4200


def test_a_long_run_without_spaces_is_tokenized():
    tokens = tokenize("가나다라마바사아자차" * 1000 + " 객체인식")
    assert tokens[-2:] == ["객체", "인식"]


def test_tokenize_many_matches_tokenize():
    assert tokenize_many(CORPUS) == [tokenize(text) for text in CORPUS]


def test_line_breaks_of_any_kind_and_empty_lines_separate_lines_only():
    assert tokenize_many(["", "\n\n", "\r\n"]) == [[], [], []]
    windows = tokenize("시계열 예측\r\n\r\nLSTM 튜토리얼\r\n")
    assert (
        windows == tokenize("시계열 예측\nLSTM 튜토리얼") == ["시계열", "예측", "lstm", "튜토리얼"]
    )


def test_a_line_many_texts_hold_is_analysed_once(monkeypatch):
    heading, note = "시계열 예측 강의", "케라스로 만든 LSTM 예제입니다"
    texts = [f"{heading}\n{note}", f"{heading}\n객체인식 튜토리얼", heading]
    sent = []
    analyse = morphology._MORPHOLOGY.analyse
    monkeypatch.setattr(
        morphology._MORPHOLOGY, "analyse", lambda chunks: sent.extend(chunks) or analyse(chunks)
    )
    tokens = tokenize_many(texts)
    assert sorted(sent) == sorted([heading, note, "객체인식 튜토리얼"])
    assert tokens[0] == tokenize(heading) + tokenize(note)
    assert tokens[2] == tokenize(heading) == ["시계열", "예측", "강의"]


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=300)  # surrogates too
KOREANISH_TEXT = st.text(
    st.sampled_from(list("시계열을 예측 객체인식 LSTM c++ ㅋㅠ가\x00\u200b\ud800😀漢\n.-")),
    max_size=300,
)


@settings(max_examples=300, deadline=None, database=None)  # write nothing outside tmp_path
@given(st.one_of(ANY_TEXT, KOREANISH_TEXT))
def test_tokenize_never_raises_and_yields_clean_tokens(text):
    tokens = tokenize(text)
    assert all(token and not any(char.isspace() for char in token) for token in tokens)


# --- BM25 -------------------------------------------------------------------------------------


def build(texts):
    return LexicalIndex.from_tokens(tokenize_many(texts))


def search(index, tokens, k):
    """The best `k` documents, as the search path reads them (top_k over BM25 scores)."""
    return top_k(index.scores(tokens), k)


@pytest.fixture(scope="module")
def index():
    return build(CORPUS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("시계열 예측", 0),
        ("객체 탐지", 1),
        ("transformer 논문", 2),
        ("강화학습 강의", 3),
        ("metric learning", 4),
        ("lstm", 0),
    ],
)
def test_bm25_ranks_the_right_document_first(index, query, expected):
    ids, scores = search(index, tokenize(query), 3)
    assert ids[0] == expected
    assert ids.dtype == np.int64
    assert scores.dtype == np.float32
    assert ids.shape == scores.shape


def _lucene_bm25(documents, query, b, k1=1.5):
    """BM25 as Lucene scores it, written out per document and term."""
    lengths = [len(doc) for doc in documents]
    mean = sum(lengths) / len(documents)
    scores = []
    for doc in documents:
        total = 0.0
        for term in set(query):
            tf, df = doc.count(term), sum(term in other for other in documents)
            if tf:
                idf = math.log(1 + (len(documents) - df + 0.5) / (df + 0.5))
                total += idf * tf / (tf + k1 * (1 - b + b * len(doc) / mean))
        scores.append(total)
    return scores


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("abcdefg"), max_size=12), min_size=1, max_size=12),
    st.lists(st.sampled_from("abcdefgz"), min_size=1, max_size=4),
    st.sampled_from([0.0, 0.3, 0.75, 1.0]),
)
def test_scores_are_lucenes_bm25(documents, query, b):
    index = LexicalIndex.from_tokens(documents, b)
    expected = _lucene_bm25(documents, query, b)
    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_only_documents_sharing_a_term_are_returned_best_first(index):
    ids, scores = search(index, tokenize("시계열 강화학습 모델"), 10)
    assert set(ids) == {0, 1, 3}
    assert np.all(np.diff(scores) <= 0)
    assert np.all(scores > 0)


def test_k_limits_the_hits(index):
    ids, _ = search(index, tokenize("시계열 강화학습 모델"), 2)
    assert len(ids) == 2
    assert len(search(index, tokenize("시계열"), 0)[0]) == 0


def test_top_k_with_ties_is_the_head_of_the_full_ranking():
    # 30 identical documents tie on every score: the best k must still be the lowest ids,
    # exactly the first k of the complete ranking.
    tied = build(["attention model"] * 30 + ["attention"] * 5)
    full_ids, full_scores = search(tied, tokenize("attention model"), 100)
    for k in (1, 7, 30, 31, 34):
        ids, scores = search(tied, tokenize("attention model"), k)
        np.testing.assert_array_equal(ids, full_ids[:k])
        np.testing.assert_array_equal(scores, full_scores[:k])
    assert list(full_ids[:3]) == [0, 1, 2]


def test_tokens_in_agrees_with_analysing_each_text(index):
    tokens = tokenize("LSTM 시계열 예측 객체 metric 없는단어")
    found = index.tokens_in(tokens, range(len(CORPUS)))
    for row, text in enumerate(CORPUS):
        assert found[row] == set(tokens) & set(tokenize(text)), text
    assert index.tokens_in(tokens, []) == {}
    assert build([]).tokens_in(tokens, [0]) == {0: set()}


def test_doc_tokens_are_each_documents_own_tokens(index, tmp_path):
    for row, text in enumerate(CORPUS):
        assert sorted(index.doc_tokens(row)) == sorted(set(tokenize(text))), text
    index.save(tmp_path / "lexical")
    assert LexicalIndex.load(tmp_path / "lexical").doc_tokens(0) == index.doc_tokens(0)
    assert build([]).doc_tokens(0) == []


@pytest.mark.parametrize("query", ["", "   ", "the of and", "없는단어", "ㅋㅋㅋ"])
def test_queries_without_known_terms_give_empty_arrays(index, query):
    ids, scores = search(index, tokenize(query), 5)
    assert ids.shape == scores.shape == (0,)
    assert ids.dtype == np.int64


def test_save_and_load_give_identical_results(index, tmp_path):
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert len(loaded) == len(CORPUS)
    for query in ["시계열 예측", "객체 탐지", "transformer 논문", "metric learning", "없는단어"]:
        tokens = tokenize(query)
        for got, expected in zip(search(loaded, tokens, 5), search(index, tokens, 5), strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "corpus", [["Deep metric learning"], [], ["", "ㅋㅋㅋ"]], ids=["one", "none", "tokenless"]
)
def test_tiny_indexes_round_trip(tmp_path, corpus):
    build(corpus).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert len(loaded) == len(corpus)
    ids, _ = search(loaded, tokenize("metric"), 10)
    assert list(ids) == ([0] if corpus == ["Deep metric learning"] else [])


@pytest.fixture
def saved(index, tmp_path):
    index.save(tmp_path)
    return tmp_path


def test_a_truncated_file_is_named_in_the_error(saved):
    data = saved / "bm25.data.npy"
    data.write_bytes(data.read_bytes()[:-7])
    with pytest.raises(LexicalIndexError, match=re.escape("bm25.data.npy")):
        LexicalIndex.load(saved)


def test_a_corrupted_file_is_named_in_the_error(saved):
    vocab = saved / "bm25.vocab.json"
    corrupted = vocab.read_text(encoding="utf-8").replace("시계열", "시게열")
    vocab.write_text(corrupted, encoding="utf-8")
    with pytest.raises(LexicalIndexError, match=re.escape("bm25.vocab.json")):
        LexicalIndex.load(saved)


def test_a_missing_file_is_named_in_the_error(saved):
    (saved / "bm25.indptr.npy").unlink()
    with pytest.raises(LexicalIndexError, match=re.escape("bm25.indptr.npy")):
        LexicalIndex.load(saved)


@pytest.mark.parametrize("manifest", ["", "{not json", '{"format": 1}', '{"format": 99}'])
def test_a_bad_manifest_is_named_in_the_error(saved, manifest):
    (saved / "lexical.json").write_text(manifest, encoding="utf-8")
    with pytest.raises(LexicalIndexError, match=re.escape("lexical.json")):
        LexicalIndex.load(saved)


def test_a_manifest_listing_other_files_is_refused(saved):
    manifest = json.loads((saved / "lexical.json").read_text(encoding="utf-8"))
    manifest["files"] = {"../elsewhere.npy": "0" * 64}
    (saved / "lexical.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(LexicalIndexError, match=re.escape("lexical.json")):
        LexicalIndex.load(saved)


def test_loading_an_empty_directory_fails_clearly(tmp_path):
    with pytest.raises(LexicalIndexError, match=re.escape("lexical.json")):
        LexicalIndex.load(tmp_path)


# --- fields -----------------------------------------------------------------------------------


FIELD_DOCS = {
    "title": [["lstm", "time", "series"], ["gan"], [], ["lstm"]],
    "notes": [["forecast"], ["lstm", "gan", "gan"], ["series", "forecast"], []],
}


@pytest.mark.parametrize("tokens", [["lstm"], ["lstm", "series"], ["gan", "forecast"], ["none"]])
def test_field_scores_are_the_weighted_sum_of_each_fields_bm25(tokens):
    index = FieldIndex.from_tokens(FIELD_DOCS)
    weights = {"title": 1.0, "notes": 0.7, "page": 0.0}
    expected = sum(w * index.fields[name].scores(tokens) for name, w in weights.items())
    np.testing.assert_allclose(index.scores(tokens, weights), expected, rtol=1e-6)


def test_holding_all_needs_every_token_in_one_of_the_fields():
    index = FieldIndex.from_tokens(FIELD_DOCS)
    held = index.holding_all(["lstm", "series"], ["title", "notes"])
    assert held.tolist() == [True, False, False, False]
    assert index.holding_all(["series", "forecast"], ["notes"]).tolist() == [
        False,
        False,
        True,
        False,
    ]
    assert not index.holding_all(["lstm"], []).any()


def test_rarity_counts_a_document_holding_a_word_in_two_fields_once_query_after_query():
    index = FieldIndex.from_tokens(FIELD_DOCS)

    def idf(held: int) -> float:
        return math.log(1 + (4 - held + 0.5) / (held + 0.5))

    # lstm: documents 0 (title), 1 (notes) and 3 (title); gan: document 1, in both fields.
    first = index.rarity(["lstm", "gan", "nowhere", "lstm"])
    assert first == pytest.approx({"lstm": idf(3), "gan": idf(1), "nowhere": idf(0)})
    assert index.rarity(["gan", "lstm"]) == {"gan": first["gan"], "lstm": first["lstm"]}
    assert index.rarity(["nowhere"]) == {"nowhere": first["nowhere"]}


def test_holding_all_reuses_the_masks_one_query_already_worked_out():
    index = FieldIndex.from_tokens(FIELD_DOCS)
    known = {}
    both = index.holding_all(["lstm", "series"], index.fields, known)
    assert both.tolist() == index.holding_all(["lstm", "series"], index.fields).tolist()
    assert set(known) == {("lstm", tuple(index.fields)), ("series", tuple(index.fields))}
    assert index.any_holds(["lstm", "series"], known)
    held = known["lstm", tuple(index.fields)].copy()
    index.holding_all(["lstm", "gan"], index.fields, known)  # a later call leaves it as it was
    assert known["lstm", tuple(index.fields)].tolist() == held.tolist()
    planted = {("time", tuple(index.fields)): np.ones(index.num_docs, dtype=bool)}
    assert index.holding_all(["time"], reversed(list(index.fields)), planted).all()  # reused


def test_any_holds_needs_one_document_with_every_token():
    index = FieldIndex.from_tokens(FIELD_DOCS)
    assert index.any_holds(["forecast", "series"])  # both in the third document's notes
    assert index.any_holds(["lstm", "lstm"]) and index.any_holds(["time"])
    assert not index.any_holds(["time", "gan"])  # each held, never together
    assert not index.any_holds(["lstm", "unknown"])


PHRASE_DOCS = {
    # 0: the term; 1: its words apart in a long note; 2: in the other order, one word
    # between (a compound's part); 3: one word in the title, one in the notes
    "title": [["deep", "metric", "learn"], ["bayesian"], [], ["metric"]],
    "notes": [
        [],
        ["metric", "matter", "for", "any", "task", "learn"],
        ["learn", "x", "metric"],
        ["learn"],
    ],
}


def test_a_term_of_several_words_is_held_where_its_words_stand_together():
    """Deep metric learning holds the term "metric learning"; a note about a metric that
    says "learning" five words later does not, nor a title and a note holding one each."""
    index = FieldIndex.from_tokens(PHRASE_DOCS, [("metric", "learn"), ("gan", "loss")])
    assert index.holding_all(["metric", "learn"], index.fields).tolist() == [1, 0, 1, 0]
    assert index.any_holds(["metric", "learn"])
    assert not index.any_holds(["gan", "loss"])  # sought, held nowhere
    present = {"metric", "learn", "matter"}
    assert index.holds(["metric", "learn"], 0, present)
    assert not index.holds(["metric", "learn"], 1, present)
    assert not index.holds(["metric", "learn"], 0, {"metric"})
    # A term not sought when the index was built is held where all its words are.
    assert index.holding_all(["learn", "task"], index.fields).tolist() == [0, 1, 0, 0]
    assert index.holds(["learn", "task"], 1, {"learn", "task"})


def test_a_term_whose_words_stand_together_needs_no_mask_of_each_word():
    """Over every field, the rows holding a term's words together are the rows holding it:
    the words' own masks are not made (and a field left out still needs them)."""
    index = FieldIndex.from_tokens(PHRASE_DOCS, [("metric", "learn")])
    known = {}
    assert index.holding_all(["metric", "learn"], index.fields, known).tolist() == [1, 0, 1, 0]
    assert list(known) == [("metric\0learn", ())]
    assert index.holding_all(["metric", "learn"], ["notes"], known).tolist() == [0, 0, 1, 0]
    assert ("metric", ("notes",)) in known


@pytest.mark.parametrize(
    "tokens", [["metric"], ["metric", "learn"], ["learn", "task"], ["deep", "nowhere"], ["x"]]
)
@pytest.mark.parametrize("rows", [[0, 1, 2, 3], [3, 1], [2], []])
def test_held_at_a_few_rows_is_holding_all_read_at_them(tokens, rows):
    index = FieldIndex.from_tokens(PHRASE_DOCS, [("metric", "learn")])
    rows = np.array(rows, dtype=np.int64)
    expected = index.holding_all(tokens, index.fields)[rows].tolist()
    fresh = {}
    assert index.held_at(tokens, rows, fresh).tolist() == expected
    assert fresh == {}  # no mask over every document was made for a few rows
    known = {}
    index.holding_all(tokens, index.fields, known)
    assert index.held_at(tokens, rows, known).tolist() == expected  # read from the masks
    # A planted mask is what it reads: it does not look the rows up again.
    planted = {key: np.ones(index.num_docs, dtype=bool) for key in known}
    assert index.held_at(tokens, rows, planted).all()


def test_among_finds_which_rows_a_sorted_list_holds():
    wanted = np.array([0, 3, 4, 9, 12], dtype=np.int64)
    rows = np.array([3, 5, 9], dtype=np.int32)
    assert among(rows, wanted).tolist() == [False, True, False, True, False]
    assert among(np.zeros(0, dtype=np.int32), wanted).tolist() == [False] * 5
    assert among(rows, np.zeros(0, dtype=np.int64)).tolist() == []


def test_a_korean_compounds_parts_do_not_stand_between_the_words_of_a_term():
    """Kiwi's parts follow a compound (로지스틱 -> 로지스틱, 로지, 스틱): they are the same
    written word, not words between 로지스틱 and 회귀."""
    written = [
        tokenize("최근 로지스틱 회귀 논문 정리"),
        tokenize("로지스틱 함수를 쓰는 선형 모델의 회귀"),
    ]
    assert written[0][1:5] == ["로지스틱", "로지", "스틱", "회귀"]
    index = FieldIndex.from_tokens({"title": written}, [("로지스틱", "회귀")])
    assert index.holding_all(["로지스틱", "회귀"], index.fields).tolist() == [True, False]


def test_the_terms_where_words_stand_together_are_saved_and_checked(tmp_path):
    index = FieldIndex.from_tokens(PHRASE_DOCS, [("metric", "learn"), ("gan", "loss")])
    index.save(tmp_path)
    loaded = FieldIndex.load(tmp_path)
    assert set(loaded.phrases) == {("metric", "learn"), ("gan", "loss")}
    assert loaded.holding_all(["metric", "learn"], loaded.fields).tolist() == [1, 0, 1, 0]
    rows = tmp_path / "phrases.rows.npy"
    rows.write_bytes(rows.read_bytes()[:-4])
    with pytest.raises(LexicalIndexError, match=re.escape("phrases.rows.npy")):
        FieldIndex.load(tmp_path)


def test_an_index_saved_before_it_recorded_terms_holds_them_where_all_words_are(tmp_path):
    FieldIndex.from_tokens(PHRASE_DOCS, [("metric", "learn")]).save(tmp_path)
    manifest = json.loads((tmp_path / "fields.json").read_text(encoding="utf-8"))
    del manifest["phrases_sha256"]
    (tmp_path / "fields.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("phrases.json", "phrases.rows.npy", "phrases.indptr.npy"):
        (tmp_path / name).unlink()
    loaded = FieldIndex.load(tmp_path)
    assert loaded.phrases == {}
    assert loaded.holding_all(["metric", "learn"], loaded.fields).tolist() == [1, 1, 1, 1]


def test_a_part_of_a_word_is_korean_inside_it_or_a_whole_latin_word_of_it():
    assert part_of("판별", "판별자") and part_of("신경망", "적대적 생성 신경망")
    assert part_of("gan", "GAN 모형") and part_of("Neural", "recurrent neural network")
    assert not part_of("ai", "BAIR") and not part_of("net", "network")
    assert not part_of("판별자", "판별자") and not part_of("GAN", "gan")  # the same word
    assert not part_of("판별자", "판별") and not part_of("딥러닝", "머신러닝")


def test_latin_surfaces_are_the_texts_own_spellings_of_the_tokens():
    text = "Recurrent Neural Networks: a network of networks (LSTM, lstm, LSTM) 순환 신경망"
    tokens = {morphology.latin_token(word) for word in ("network", "lstm")} | {"신경망"}
    assert latin_surfaces(text, tokens) == ["Networks", "network", "networks", "LSTM", "lstm"]
    assert latin_surfaces(text, {"신경망", "순환"}) == []  # no Latin token asked
    assert latin_surfaces(text, set()) == []
    # Snowball's irregular forms keep their first letter too (dying -> die, skies -> sky).
    stems = {morphology.latin_token(word) for word in ("dying", "skies")}
    assert stems == {"die", "sky"} and latin_surfaces("Dying skies", stems) == ["Dying", "skies"]
