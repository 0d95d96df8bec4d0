"""Run the sentence-transformers model on ONNX Runtime: the same vectors at a third of the CPU per query.

`export` turns the whole loaded model (transformer, pooling, normalisation) into one ONNX graph once,
in a folder keyed by the model's files, and keeps it only if it gives the same vectors as the original
on probe sentences (cosine ≥ 0.9999; a long one checks truncation). `OnnxEncoder` then needs neither
torch nor transformers: the Rust `tokenizers` library and `onnxruntime`, with the same truncation.
Measured on one core (HINT3 questions): 13.5 ms → 4.5 ms CPU per single-question encode.

`quantize` then writes an 8-bit copy beside it (ONNX Runtime's own quantizers: each weight matrix in
8-bit blocks of 32 computed in int8, the word-embedding table in int8), kept only if its vectors stay
within cosine 0.99 of the float one on the probes. Measured: 4.3 → 2.8 ms per encode, the session's
memory 126 → 50 MB per process, cosine to the float vectors ≥ 0.997 (mean 0.9992) on 600 HINT3
questions. The folder holds model weights only, never visitor data.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from app.retrieval.model_files import FILES

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported: no device-id file
# A turn's two readings are one batch: spread over the tokenizer's thread pool they cost 170 µs of CPU
# (threads woken for 20 µs of work each), tokenized in turn 34 µs. An operator's own setting wins.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROBES = ("How do I reset my password?", "Is shipping free to Canada?", "E12",
          "my order never arrived and the tracking page says delivered " * 40)  # past 256 tokens
SAME = 0.9999  # an export that moves any probe's vector further than this is not used
CLOSE = 0.99  # nor an 8-bit copy that moves one further than this from the float export


class ExportFailed(Exception):
    """The model could not be exported, or the export does not give the same vectors."""


class OnnxEncoder:
    """An exported model: tokenizer plus ONNX graph; encode() returns unit float32 vectors."""

    def __init__(self, folder: Path, threads: int = 1, precision: str = "float32") -> None:
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
        self.session = onnxruntime.InferenceSession(str(folder / FILES[precision]), options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts as unit vectors. Texts of unlike lengths run apart: a turn (9 tokens) padded to its
        reading joined to the message before (20) cost more than a second run (measured 9.2 vs 8.5 ms a
        pair), and 1,542 questions and article chunks encoded in batches of like lengths take 5.5 s instead
        of 8.8 s. The vectors are the same either way (within 5e-8)."""
        encodings = self.tokenizer.encode_batch(texts)
        lengths = [sum(e.attention_mask) for e in encodings]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in like_lengths(lengths):
            width = max(lengths[i] for i in batch)
            columns = {"input_ids": [encodings[i].ids[:width] for i in batch],
                       "attention_mask": [encodings[i].attention_mask[:width] for i in batch],
                       "token_type_ids": [encodings[i].type_ids[:width] for i in batch]}
            vectors[batch] = self.session.run(None, {name: np.array(columns[name], dtype=np.int64)
                                                     for name in self.names})[0]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors


def like_lengths(lengths: list[int], stretch: float = 1.5) -> list[list[int]]:
    """Group positions, shortest first; no text in a group is longer than stretch × the group's shortest."""
    groups: list[list[int]] = []
    for position in sorted(range(len(lengths)), key=lengths.__getitem__):
        if groups and lengths[position] <= stretch * lengths[groups[-1][0]]:
            groups[-1].append(position)
        else:
            groups.append([position])
    return groups


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


def quantize(folder: Path) -> Path:
    """Write the 8-bit copy of folder's float graph (whole or not at all) and check its vectors."""
    target = folder / FILES["int8"]
    staging = Path(tempfile.mkdtemp(prefix=".quantize-", dir=folder))
    # The quantizers' per-node notes and advice are not ours to read, and one of them calls basicConfig on
    # import: whatever it adds to the root logger (a handler without our scrubbing filter) is taken back.
    quiet, handlers, level = logging.root.manager.disable, list(logging.root.handlers), logging.root.level
    logging.disable(logging.WARNING)
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        # The embedding table (Gather) in int8 with one scale; each MatMul's weights in 8-bit blocks of 32
        # along the input, multiplied in int8 with the activations quantized per block (accuracy level 4).
        quantize_dynamic(str(folder / FILES["float32"]), str(staging / "gather.onnx"),
                         weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"])
        quantizer = MatMulNBitsQuantizer(onnx.load(str(staging / "gather.onnx")), bits=8, block_size=32,
                                         is_symmetric=True, accuracy_level=4)
        quantizer.process()
        quantizer.model.save_model_to_file(str(staging / FILES["int8"]), use_external_data_format=False)
        shutil.copy(folder / "encoder.json", staging), shutil.copy(folder / "tokenizer.json", staging)
        expected = OnnxEncoder(folder).encode(list(PROBES))
        got = OnnxEncoder(staging, precision="int8").encode(list(PROBES))
        closeness = float((expected * got).sum(axis=1).min())
        if closeness < CLOSE:
            raise ExportFailed(f"the 8-bit model's vectors differ (cosine {closeness:.4f})")
        os.replace(staging / FILES["int8"], target)
    except Exception as error:
        if target.exists():  # another process quantized it meanwhile
            return target
        raise error if isinstance(error, ExportFailed) else ExportFailed(str(error)) from error
    finally:
        logging.disable(quiet)
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)
        shutil.rmtree(staging, ignore_errors=True)
    return target
