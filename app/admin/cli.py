"""Console commands: `run.py admin create` and `run.py audit verify`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.admin import accounts, audit
from app.config import read_secret
from app.db import get_db

admin_cli = AppGroup("admin", help="Support-team accounts.")
audit_cli = AppGroup("audit", help="Audit log commands.")


@admin_cli.command("create")
@click.option("--email", required=True, help="Login email of the new account.")
@click.option("--role", type=click.Choice(accounts.ROLES), default="admin", show_default=True)
@click.option("--alias", default="", help="Name shown to visitors when this account answers them "
              "(default: Agent <id>); never the email.")
def create_command(email: str, role: str, alias: str) -> None:
    """Create a console account; the password is prompted for, or read from standard input."""
    try:
        user = accounts.create_user(get_db(), email, role, read_secret("Password"), alias)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {user.role} account {user.email}")


@audit_cli.command("verify")
@click.option("--expect", metavar="ID:HASH", help="A head recorded elsewhere (the server log's "
              "'audit head ID:HASH' lines); fails if that entry is gone or differs.")
def verify_command(expect: str | None) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken row or a missing head."""
    db = get_db()
    broken = audit.first_broken(db)
    if broken is not None:
        raise click.ClickException(f"audit log broken at row {broken}: edited, deleted or reordered")
    if expect:
        entry_id, _, prefix = expect.partition(":")
        if not entry_id.isdigit() or not audit.has_head(db, int(entry_id), prefix):
            raise click.ClickException(f"audit entry {expect} is not in the log: newer entries were removed")
    count = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    newest = audit.head(db)
    click.echo(f"audit log intact: {count} entries" + (f"; head {newest[0]}:{newest[1][:16]}" if newest else ""))


def init_app(app: Flask) -> None:
    """Register the console's commands."""
    app.cli.add_command(admin_cli)
    app.cli.add_command(audit_cli)
