"""`run.py serve`: the production WSGI server (gunicorn), not Flask's development server.

The master prepares once — migrates the database, purges expired data and builds the index if
articles changed — then forks workers; each worker creates the app and so loads the models once, with torch
limited to TORCH_THREADS so workers do not fight over cores. Workers are gthread workers that buffer
each whole request (bounded by MAX_REQUEST_BYTES and a deadline) before a thread gets it, so slow
clients cannot hold the request threads (see app/buffering.py).
"""
from __future__ import annotations

from typing import Any, Callable

import click
from gunicorn.app.base import BaseApplication

from app.buffering import buffering_worker
from app.logs import ScrubbedGunicornLogger


class _Server(BaseApplication):
    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.factory()


def make_command(create_app: Callable[..., Any], prepare: Callable[[Any], None]) -> click.Command:
    """Build the serve command around the app factory (kept here, beside the server)."""

    @click.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
                  help="Worker processes; each loads the models once.")
    @click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
                  help="Request threads per worker.")
    def serve(host: str, port: int, workers: int, threads: int) -> None:
        """Run Quietdesk with gunicorn on embedded defaults."""
        app = create_app({"LAZY": True})
        prepare(app)
        options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                   "worker_class": buffering_worker(app.config["MAX_REQUEST_BYTES"]),
                   "timeout": 60, "accesslog": None, "errorlog": "-", "preload_app": False,
                   # gunicorn 27 otherwise opens a control socket under $HOME that can stop or reload us.
                   "control_socket_disable": True,
                   "logger_class": ScrubbedGunicornLogger}
        _Server(lambda: create_app({"BACKGROUND_PURGE": True}), options).run()

    return serve
