"""Run the sentence-transformers model on ONNX Runtime: the same vectors at a third of the CPU per query.

`export` turns the whole loaded model (transformer, pooling, normalisation) into one ONNX graph once,
in a folder keyed by the model's files, and keeps it only if it gives the same vectors as the original
on probe sentences (cosine ≥ 0.9999; a long one checks truncation). `OnnxEncoder` then needs neither
torch nor transformers: the Rust `tokenizers` library and `onnxruntime`, with the same truncation.
Measured on one core (HINT3 questions): 13.5 ms → 4.5 ms CPU per single-question encode.
The folder holds model weights only, never visitor data.
"""
from __future__ import annotations

import hashlib
import importlib.abc
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported: no device-id file

PROBES = ("How do I reset my password?", "Is shipping free to Canada?", "E12",
          "my order never arrived and the tracking page says delivered " * 40)  # past 256 tokens
SAME = 0.9999  # an export that moves any probe's vector further than this is not used


class ExportFailed(Exception):
    """The model could not be exported, or the export does not give the same vectors."""


def folder_for(root: Path, model_dir: str) -> Path:
    """Return the export folder for a model: keyed by its files' names, sizes and times."""
    files = sorted(p for p in Path(model_dir).rglob("*") if p.is_file())
    key = hashlib.sha256("\n".join(f"{p.relative_to(model_dir)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                   for p in files).encode()).hexdigest()[:16]
    return root / key


class OnnxEncoder:
    """An exported model: tokenizer plus ONNX graph; encode() returns unit float32 vectors."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((folder / "encoder.json").read_text())
        self.names, self.dimension = meta["inputs"], meta["dimension"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(meta["max_length"])
        self.tokenizer.enable_padding(pad_id=meta["pad_id"], pad_token=meta["pad_token"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = max(1, threads)
        options.log_severity_level = 3  # warnings about unused initializers are not ours to read
        self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        columns = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        vectors = self.session.run(None, {name: np.array(columns[name], dtype=np.int64) for name in self.names})[0]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def export(model, folder: Path) -> Path:
    """Export a loaded SentenceTransformer to folder (written whole or not at all) and check its vectors."""
    import torch

    transformer = model[0]
    tokenizer = transformer.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ExportFailed("the model has no fast (tokenizer.json) tokenizer")
    sample = tokenizer(["hello world"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(dict(zip(names, inputs)))["sentence_embedding"]

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        # Tracing warns that pooling's mask-size check becomes a constant: it is, for this model.
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Graph().eval(), tuple(sample[n] for n in names), str(staging / "model.onnx"),
                              input_names=names, output_names=["sentence_embedding"],
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                            "sentence_embedding": {0: "batch"}},
                              opset_version=17, dynamo=False)
        tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        meta = {"inputs": names, "dimension": int(model.get_embedding_dimension()),
                "max_length": int(model.max_seq_length), "pad_id": int(tokenizer.pad_token_id),
                "pad_token": str(tokenizer.pad_token)}
        (staging / "encoder.json").write_text(json.dumps(meta))
        expected = model.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)
        got = OnnxEncoder(staging).encode(list(PROBES))
        closeness = float((expected * got).sum(axis=1).min())
        if closeness < SAME:
            raise ExportFailed(f"the exported model's vectors differ (cosine {closeness:.5f})")
        os.replace(staging, folder)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        if folder.is_dir():  # another process exported it meanwhile
            return folder
        raise error if isinstance(error, ExportFailed) else ExportFailed(str(error)) from error
    return folder


class _NoTorch(importlib.abc.MetaPathFinder):
    """Say torch is not installed. (A None in sys.modules would break scipy, which looks torch up there.)"""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of this process)", name=name)
        return None


def keep_torch_out() -> None:
    """Make `import torch` fail in this process and in any it forks (the server's master and workers).

    Once the embedding model runs on ONNX Runtime nothing a worker does needs torch, but thinc (spaCy)
    and transformers (Presidio) import it only to offer it: measured, ~290 MB and ~3 s per process.
    """
    if not any(isinstance(finder, _NoTorch) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NoTorch())
