"""`run.py serve`: the production WSGI server (gunicorn), not Flask's development server.

A child process prepares once — checks and migrates the database, purges expired data, builds the index
if articles changed and exports the embedding model for ONNX Runtime — then the master forks workers;
each worker creates the app and so loads the models once, limited to TORCH_THREADS threads so workers
do not fight over cores. The master itself reads only the settings: it imports neither the app nor any
model library (measured: 115 → 34 MB), and its few log lines are scrubbed by patterns. Workers are gthread workers that buffer
each whole request (bounded by MAX_REQUEST_BYTES and a deadline) before a thread gets it, so slow
clients cannot hold the request threads (see app/buffering.py).
"""
from __future__ import annotations

import os
from typing import Any, Callable

import click
from gunicorn.app.base import BaseApplication

from app import config, logs
from app.buffering import buffering_worker
from app.logs import ScrubbedGunicornLogger
from app.privacy.patterns import scrub_patterns
from app.retrieval import model_files


class _Server(BaseApplication):
    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.factory()


def make_command(create_app: Callable[..., Any], prepare: Callable[[], None]) -> click.Command:
    """Build the serve command around the app factory (called in each worker) and the preparation (which
    runs a child process and exits on failure), both kept beside the command line."""

    @click.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
                  help="Worker processes; each loads the models once.")
    @click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
                  help="Request threads per worker.")
    def serve(host: str, port: int, workers: int, threads: int) -> None:
        """Run Quietdesk with gunicorn on embedded defaults."""
        prepare()  # settings are checked there: a bad one has stopped us with one line
        settings = config.load(os.environ)
        logs.FILTER.use(scrub_patterns)  # the master's own lines; each worker installs the full scrubber
        logs.configure(settings["LOG_LEVEL"])
        if model_files.exported(settings):
            model_files.keep_torch_out()
        options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                   "worker_class": buffering_worker(settings["MAX_REQUEST_BYTES"]),
                   "timeout": 60, "accesslog": None, "errorlog": "-", "preload_app": False,
                   # gunicorn 27 otherwise opens a control socket under $HOME that can stop or reload us.
                   "control_socket_disable": True,
                   "logger_class": ScrubbedGunicornLogger}
        _Server(lambda: create_app({"BACKGROUND_PURGE": True, "REUSE_CONNECTIONS": True}), options).run()

    return serve
