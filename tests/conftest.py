"""Shared fixtures: one loaded model and one built index per test session; a fresh app,
real SQLCipher file and real migrations per test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import create_app
from app.config import ROOT
from app.retrieval import index as index_store
from app.retrieval.articles import load_articles
from app.retrieval.embedder import Embedder

KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def kb_index(embedder: Embedder) -> index_store.Index:
    return index_store.build(load_articles(KNOWLEDGE), embedder, 900)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance: Path, embedder, kb_index, monkeypatch):
    for name in [k for k in os.environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)
    return create_app({"INSTANCE": str(instance), "TESTING": True, "EMBEDDER": embedder,
                       "INDEX": kb_index})


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

    def say(self, text, conversation_id: str | None = None):
        return self.client.post(f"/api/v1/conversations/{conversation_id or self.conversation_id}/messages",
                                json={"text": text}, headers=self.auth)


@pytest.fixture
def visitor(client) -> Visitor:
    return Visitor(client)
