"""Turn text into unit-length vectors with a local sentence-transformers model.

Models come from installed packages or local paths only: the hub is switched offline before
the library is imported, so a missing model fails at once instead of trying the network. Given an
`exports` folder (the server gives one under its instance folder), a model on local disk runs on
ONNX Runtime (app/retrieval/onnx_encoder.py: same vectors, a third of the CPU, no torch in memory),
exported once by the first process that needs it; without one, or if the export fails, on torch. With
precision "int8" (the server's default) it runs the 8-bit copy made beside the export: vectors within
cosine 0.99 of the float ones, which is why `identity` differs and an index is rebuilt for it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from app.retrieval import onnx_encoder
from app.retrieval.model_files import FILES, default_model, folder_for, identity

log = logging.getLogger(__name__)


class ModelError(Exception):
    """The embedding model cannot be loaded from local disk."""


class Embedder:
    """A loaded sentence-transformers model that encodes text to normalised float32 vectors."""

    def __init__(self, model: str = "", threads: int = 1, exports: Path | None = None,
                 precision: str = "float32") -> None:
        self.name = model or default_model()
        if os.sep in self.name and not Path(self.name).is_dir():
            raise ModelError(f"embedding model folder {self.name} does not exist")
        self._model = self._onnx = None
        self.precision = "float32"
        if exports is not None and Path(self.name).is_dir():
            folder = folder_for(exports, self.name)
            if not (folder / FILES["float32"]).exists():
                try:
                    onnx_encoder.export(self._torch_model(threads), folder)
                except onnx_encoder.ExportFailed as error:
                    log.warning("embedding model stays on torch: %s", error)
            if precision == "int8" and (folder / FILES["float32"]).exists():
                if not (folder / FILES["int8"]).exists():
                    try:
                        onnx_encoder.quantize(folder)
                    except onnx_encoder.ExportFailed as error:
                        log.warning("embedding model stays in float32: %s", error)
                if (folder / FILES["int8"]).exists():
                    self.precision = "int8"
            if (folder / FILES["float32"]).exists():
                self._onnx = onnx_encoder.OnnxEncoder(folder, threads, self.precision)
        if self._onnx is None:
            self._torch_model(threads)
        self.dimension = self._onnx.dimension if self._onnx else int(self._model.get_embedding_dimension())

    @property
    def runtime(self) -> str:
        """Say what runs the model: "onnxruntime" or "torch"."""
        return "onnxruntime" if self._onnx else "torch"

    @property
    def identity(self) -> str:
        """Name the vectors this embedder makes: the model, and its precision when not float."""
        return identity(self.name, self.precision)

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
