"""`run.py knowledge import SOURCE`: convert help-centre content into knowledge articles and report."""
from __future__ import annotations

import os
from pathlib import Path

import click

from app import config
from app.retrieval.importer.convert import convert
from app.retrieval.importer.items import SourceError
from app.retrieval.importer.writer import Plan, plan, publish


def report_lines(planned: Plan) -> list[str]:
    """One line per item: what happened to it, its file name, and where it came from or why not."""
    lines = []
    for change in planned.changes:
        if change.action == "skipped":
            lines.append(f"skipped    {change.origin}: {change.reason}")
        else:
            lines.append(f"{change.action:<10} {change.slug}.md  ({change.origin})")
    return lines


@click.group("knowledge")
def knowledge_cli() -> None:
    """Knowledge-base articles: import from a help centre."""


@knowledge_cli.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--into", "into", type=click.Path(path_type=Path, file_okay=False),
              help="Knowledge folder to write to (default: QUIETDESK_KNOWLEDGE_DIR).")
@click.option("--base-url", default="", help="Where the pages are published (https://help.example.com/), "
              "for links to pages that name no canonical address.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def import_command(source: Path, into: Path | None, base_url: str, dry_run: bool) -> None:
    """Import HTML pages (a folder or .zip), a Zendesk or Intercom articles export (JSON), PDFs or Markdown.

    Re-importing updates changed articles; hand-written articles (no `source:` front matter) are never
    touched. Exit status 1 when nothing could be imported.
    """
    try:
        folder = into or Path(config.load(os.environ)["KNOWLEDGE_DIR"])
        planned = plan(convert(source, base_url), folder)
    except (SourceError, config.ConfigError) as error:
        raise click.ClickException(f"cannot import: {error}") from None
    if not dry_run:
        publish(planned)
    for line in report_lines(planned):
        click.echo(line)
    click.echo(f"{planned.summary}{' (dry run: nothing written)' if dry_run else ''} — {folder}")
    if not planned.imported:
        raise click.ClickException("nothing could be imported")
    if not dry_run and (planned.count("added") or planned.count("updated")):
        click.echo("The bot answers from them after the next index build: `python run.py index build`, "
                   "a server restart, or Rebuild index now in the console.")
