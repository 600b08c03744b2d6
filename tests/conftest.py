"""Fixtures shared by the test modules."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from httpserver import LocalServer
from hypothesis import HealthCheck, settings

# Property tests write no example database (tests write only under tmp_path) and run
# RECALL_HYPOTHESIS_EXAMPLES examples each when set (bench/chaos.py runs long versions).
settings.register_profile(
    "recall",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=int(os.environ.get("RECALL_HYPOTHESIS_EXAMPLES", "300")),
)
settings.load_profile("recall")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """The decompressed model weights (indexer/usecache.py) go to a folder of this session,
    for this process and the servers and commands the tests start, not to ~/.cache."""
    folder = tmp_path_factory.mktemp("model-cache")
    previous = os.environ.get("RECALL_MODEL_CACHE")
    os.environ["RECALL_MODEL_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("RECALL_MODEL_CACHE", None)
    else:
        os.environ["RECALL_MODEL_CACHE"] = previous


@pytest.fixture
def local_server():
    """A real HTTP server on 127.0.0.1 serving tests/fixtures/pages/ (see httpserver.py)."""
    with LocalServer() as server:
        yield server


# --------------------------------------------------------------------- engine fixtures
# Index builds for the engine tests (build, store, search, CLI). indexer.build and the
# real model are imported inside the fixtures: importing them here would make every test
# module, even the pure ones, pay for torch.

SAMPLE_LIST = Path(__file__).resolve().parents[1] / "data" / "keras-open-chat.md"

# A second list in the community's style: one lecture posted three times under three
# URL forms, and a section without a link (a note).
VIDEO_LIST = """# 강의 영상 모음

## 박해선 (2019.04.01)

딥러닝 입문 강의 영상 공유합니다. 역전파를 직관적으로 설명해 줍니다.

* [MIT 6.S191 Introduction to Deep Learning](https://youtu.be/njKP3FqW3Sk)

## 김태영님 (2019.04.03)

* [MIT 딥러닝 강의 다시 보기](https://www.youtube.com/watch?v=njKP3FqW3Sk&t=30s)
* [같은 강의 모바일 링크](https://m.youtube.com/watch?feature=youtu.be&v=njKP3FqW3Sk)

## 스터디 공지 (2019.04.05)

이번 주 스터디는 강화학습 기초를 다룹니다. 벨만 방정식과 Q러닝을 함께 읽어요.
"""

# Passages of the sample list: one profile per resource, and the book's review, longer than
# a profile holds (chunk.PROFILE_NOTE_WORDS), continued in one note passage. The real index
# adds VIDEO_LIST's three resources and its note.
SAMPLE_PASSAGES = 12
REAL_PASSAGES = SAMPLE_PASSAGES + 4

# Resources of the sample list and VIDEO_LIST that tests look for.
GAN = "https://tykimos.github.io/2017/12/12/One_Slide_GAN/"
BOOK = "http://www.yes24.com/Product/Goods/69334316"
TPU = "https://drive.google.com/file/d/1yEA4l-IIdTykPy3Flp7F6ZySUEU39Amv/view"
TOTAL_RECALL = "https://www.microsoft.com/en-us/research/wp-content/uploads/2016/02/iccv2007.pdf"
TOTAL_RECALL_2 = "http://cmp.felk.cvut.cz/~chum/papers/chum_cvpr11.pdf"
METRIC = "https://arxiv.org/abs/1811.12649"
LSTM_ARTICLE = (
    "https://www.altumintelligence.com/articles/a/"
    "Time-Series-Prediction-Using-LSTM-Deep-Neural-Networks"
)
LSTM_REPO = "https://github.com/jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction"
LSTM_VIDEO = "https://www.youtube.com/watch?v=2np77NOdnwk"
LECTURE = "https://youtu.be/njKP3FqW3Sk"
LECTURE_AGAIN = "https://www.youtube.com/watch?v=njKP3FqW3Sk&t=30s"
LECTURE_MOBILE = "https://m.youtube.com/watch?feature=youtu.be&v=njKP3FqW3Sk"
LECTURES = {LECTURE, LECTURE_AGAIN, LECTURE_MOBILE}  # one page, shown once in a ranking


def addresses(hits) -> set[str]:
    """Every address the hits (`Hit`s or their JSON dicts) show, their pages' other ones too."""
    rows = [hit if isinstance(hit, dict) else hit.to_dict() for hit in hits]
    return {url for row in rows for url in [row["url"], *row["also_at"]]}


def _no_pages(resources, settings, **options):
    """A build's fetch step that supplies no page: no network, no page cache."""
    from indexer.build import FetchOutcome

    return FetchOutcome({}, {})


@dataclass
class BuiltIndex:
    path: Path  # the served index (a symlink)
    settings: object  # indexer.config.Settings
    report: object  # indexer.build.BuildReport
    sources: list[Path]


@pytest.fixture(scope="session")
def engine_corpus(tmp_path_factory) -> Path:
    """A folder holding a copy of the sample list and VIDEO_LIST."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(SAMPLE_LIST, folder / SAMPLE_LIST.name)
    (folder / "videos.md").write_text(VIDEO_LIST, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, engine_corpus) -> BuiltIndex:
    """engine_corpus built once, offline with an empty page cache, with the real default
    model. Read-only for the tests: copy it with `clone_index` before changing it."""
    from indexer.build import Builder
    from indexer.config import DEFAULT_MODEL, load_settings

    root = tmp_path_factory.mktemp("real")
    settings = load_settings(
        env={},
        data_dir=engine_corpus,
        index_dir=root / "index",
        cache_dir=root / "cache",
        model=DEFAULT_MODEL,
    )
    report = Builder(settings).build([engine_corpus], offline=True)
    return BuiltIndex(settings.index_dir, settings, report, [engine_corpus])


@pytest.fixture(scope="session")
def real_searcher(real_index):
    from indexer.search import Searcher

    searcher = Searcher.open(real_index.path, settings=real_index.settings)
    yield searcher
    searcher.reader.close()


@pytest.fixture
def no_pages():
    return _no_pages


@pytest.fixture
def fake_settings(tmp_path):
    """Settings for a FakeEmbedder build under tmp_path: `fake_settings("name", **overrides)`."""
    from indexer.config import load_settings

    def make(name: str = "index", **overrides):
        values = {
            "data_dir": tmp_path,
            "index_dir": tmp_path / name,
            "cache_dir": tmp_path / "cache",
            "model": FakeEmbedder.name,
            **overrides,
        }
        return load_settings(env={}, **values)

    return make


@pytest.fixture
def fake_build(fake_settings):
    """Build lists with FakeEmbedder and no pages: `fake_build([paths], settings=None,
    embedder=None, **build_options)` returns a BuiltIndex (settings default to
    fake_settings())."""

    def build(sources=(SAMPLE_LIST,), settings=None, embedder=None, **options) -> BuiltIndex:
        from indexer.build import Builder

        settings = settings or fake_settings()
        options.setdefault("fetch", _no_pages)
        report = Builder(settings, embedder or FakeEmbedder()).build(list(sources), **options)
        return BuiltIndex(settings.index_dir, settings, report, list(sources))

    return build


@pytest.fixture
def clone_index(tmp_path):
    """Copy a published index (its symlink and builds folder) under tmp_path; returns the
    new index path, so that a test may corrupt or rebuild it."""

    def clone(index_path: Path, name: str = "cloned") -> Path:
        target = tmp_path / name
        target.mkdir()
        builds = index_path.parent / f"{index_path.name}.builds"
        shutil.copytree(builds, target / "index.builds", symlinks=True)
        link = target / "index"
        link.symlink_to(Path("index.builds") / Path(os.readlink(index_path)).name)
        return link

    return clone
