"""`run.py bench`: measure the served product the way a visitor meets it, and print the figures.

Each benchmark starts real `run.py serve` processes on loopback in a throw-away instance folder, so
figures include gunicorn, SQLCipher and the models — nothing is mocked. Traffic goes to 127.0.0.1 only.
"""
from __future__ import annotations

import click

from app.bench.serving import start_server

__all__ = ["bench_cli", "start_server"]


@click.group("bench")
def bench_cli() -> None:
    """Benchmarks that print figures (never pass/fail)."""


def _register() -> None:
    from app.bench import handoff, http, index, load, soak

    for command in (http.bench_http, load.bench_load, index.bench_index, soak.bench_soak, handoff.bench_handoff):
        bench_cli.add_command(command)


_register()
