"""What each served process holds: the master no language model, the workers the model on ONNX Runtime
and no torch; the exported model gives the same vectors as the original."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.bench import start_server
from app.bench.serving import server_processes
from app.config import ROOT
from app.retrieval.embedder import Embedder
from tests.conftest import call


def _mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    process, base, _ = start_server(tmp_path_factory.mktemp("served"), workers=2)
    status, session = call(base + "/api/v1/sessions", {})
    for _ in range(4):  # both workers answer at least once, most likely
        call(f"{base}/api/v1/conversations/{session['conversation_id']}/messages",
             {"text": "How do I reset my password?"}, session["visitor_token"])
    yield process, base
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_the_master_loads_no_language_model_nor_the_libraries_only_workers_use(served):
    process, _ = served
    (_, master), *workers = server_processes(process.pid)
    assert len(workers) == 2
    mapped = _mapped(master)
    assert "libtorch" not in mapped and "onnxruntime" not in mapped and "thinc" not in mapped
    assert "faiss" not in mapped and "numpy" not in mapped  # the master forks and watches; it searches nothing


def test_workers_run_the_model_on_onnx_runtime_without_torch(served):
    process, _ = served
    workers = [pid for _, pid in server_processes(process.pid)[1:]]
    deadline = time.monotonic() + 120  # the second worker may still be loading its models
    while time.monotonic() < deadline and not all("onnxruntime" in _mapped(pid) for pid in workers):
        time.sleep(0.5)
    for worker in workers:
        mapped = _mapped(worker)
        assert "onnxruntime" in mapped and "libtorch" not in mapped


QUESTIONS = ["How do I reset my password?", "is shipping free to canada", "E12",
             "my lamp keeps blinking blue after i changed the wifi router " * 30]


def test_a_turns_readings_are_tokenized_without_a_thread_pool(model_cache, embedder):
    """Two texts tokenized as one batch start no tokenizer threads (they cost 5x the CPU of tokenizing
    in turn); an operator who sets TOKENIZERS_PARALLELISM keeps their setting."""
    tokenizer = next(model_cache.glob("*/tokenizer.json"))
    script = ("import os, app.retrieval.onnx_encoder\n"
              "from tokenizers import Tokenizer\n"
              f"t = Tokenizer.from_file({str(tokenizer)!r})\n"
              "for _ in range(50): t.encode_batch(['how do I reset my password', 'and how long is the link valid'])\n"
              "print(len(os.listdir('/proc/self/task')))")

    def threads(**env) -> int:
        ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={"PATH": "/usr/bin:/bin", **env})
        return int(ran.stdout.split()[-1])

    assert threads(TOKENIZERS_PARALLELISM="true") > threads()  # numpy's BLAS threads are in both counts


def test_the_exported_model_gives_the_original_vectors(model_cache, torch_embedder):
    exported = Embedder(exports=model_cache)
    assert exported.runtime == "onnxruntime" and torch_embedder.runtime == "torch"
    assert exported.identity == torch_embedder.identity  # the same vectors: an index serves either
    cosines = (exported.encode(QUESTIONS) * torch_embedder.encode(QUESTIONS)).sum(axis=1)
    assert np.all(cosines > 0.9999)


def test_the_8bit_model_stays_close_to_the_original_and_names_its_vectors_apart(embedder, torch_embedder):
    assert embedder.precision == "int8" and embedder.runtime == "onnxruntime"
    cosines = (embedder.encode(QUESTIONS) * torch_embedder.encode(QUESTIONS)).sum(axis=1)
    assert np.all(cosines > 0.99) and not np.all(cosines > 0.9999)  # close, and not the float graph
    assert embedder.identity != torch_embedder.identity  # an index built at one precision is rebuilt for the other


def test_an_8bit_copy_that_drifts_is_not_used_and_leaves_nothing_behind(embedder, model_cache, tmp_path,
                                                                       monkeypatch, caplog):
    from app.retrieval import onnx_encoder
    from app.retrieval.model_files import FILES, folder_for

    exported = folder_for(model_cache, embedder.name)
    exports = tmp_path / "exports"
    folder = folder_for(exports, embedder.name)
    folder.mkdir(parents=True)
    for name in (FILES["float32"], "encoder.json", "tokenizer.json"):
        (folder / name).write_bytes((exported / name).read_bytes())
    monkeypatch.setattr(onnx_encoder, "CLOSE", 0.99999)  # stricter than any 8-bit copy can be
    strict = Embedder(exports=exports, precision="int8")
    assert strict.precision == "float32" and strict.identity == embedder.name
    assert "stays in float32" in caplog.text and "8-bit model's vectors differ" in caplog.text
    assert sorted(p.name for p in folder.iterdir()) == sorted([FILES["float32"], "encoder.json", "tokenizer.json"])
