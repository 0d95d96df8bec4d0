"""Mask functions for the scrubbers a team would otherwise pick, scored beside ours by `eval pii`.

Each peer runs in its best honest configuration on the spaCy model we use, offline:
- scrubadub 2.0.1: its default detectors (email, phone via phonenumbers, card, URL, credentials,
  driving licence, postcode, Twitter, vehicle plate…, locale en_US) plus scrubadub-spacy's
  SpacyEntityDetector reading PERSON, ORG, GPE, LOC and FAC (its default is PERSON and ORG; places
  can only help it on addresses).
- datafog 4.9.0: `scan(engine="spacy")`, its regex patterns plus spaCy NER (its default model,
  en_core_web_lg, is not installed; GLiNER would need a model download). Telemetry is switched off.
Installed by `pip install -e '.[peers]'`; a peer that is absent gives a reason instead of a function.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import types
from collections.abc import Callable

from app.privacy.pii_eval import MaskFn

PEERS = ("scrubadub", "datafog")
SCRUBADUB_LABELS = ("PERSON", "PER", "ORG", "GPE", "LOC", "FAC")


def _scrubadub(spacy_model: str) -> MaskFn:
    if importlib.util.find_spec("spacy_transformers") is None:
        # scrubadub-spacy imports spacy_transformers only to look for a transformer stage, which a
        # small model has none of; installing it downgrades transformers under sentence-transformers.
        stub = types.ModuleType("spacy_transformers")
        stub.pipeline_component = types.ModuleType("spacy_transformers.pipeline_component")
        stub.pipeline_component.Transformer = object
        sys.modules.setdefault("spacy_transformers", stub)
        sys.modules.setdefault("spacy_transformers.pipeline_component", stub.pipeline_component)
    import scrubadub
    import scrubadub_spacy

    scrubber = scrubadub.Scrubber(locale="en_US")
    scrubber.add_detector(scrubadub_spacy.detectors.SpacyEntityDetector(
        model=spacy_model, named_entities=SCRUBADUB_LABELS, locale="en_US"))
    return lambda text: [(f.beg, f.end) for f in scrubber.iter_filth(text)]


def _datafog(spacy_model: str) -> MaskFn:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from datafog import engine
    from datafog.processing.text_processing.spacy_pii_annotator import SpacyPIIAnnotator

    annotator = SpacyPIIAnnotator.create(spacy_model)
    engine._get_spacy_annotator = lambda: annotator  # its own loader is fixed to en_core_web_lg
    return lambda text: [(e.start, e.end) for e in engine.scan(text, engine="spacy").entities]


BUILDERS: dict[str, Callable[[str], MaskFn]] = {"scrubadub": _scrubadub, "datafog": _datafog}


def peer_mask_fns(spacy_model: str, names: tuple[str, ...] = PEERS) -> dict[str, MaskFn | str]:
    """Return name → mask function, or name → "not installed (…)" for a peer that cannot load."""
    found: dict[str, MaskFn | str] = {}
    for name in names:
        try:
            found[name] = BUILDERS[name](spacy_model)
        except ImportError as error:
            found[name] = f"not installed ({error.name or error}); pip install -e '.[peers]'"
    return found
