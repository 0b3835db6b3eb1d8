"""``massage keys``: generate the key ring, rotate it and re-encrypt every field."""

from __future__ import annotations

from pathlib import Path

import click

from massage_cli.context import CliContext
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.domain.errors import Conflict


@click.group()
def keys() -> None:
    """Field-encryption keys."""


@keys.command("generate")
@click.option("--force", is_flag=True, help="Overwrite an existing key file (data under it becomes unreadable!).")
@click.pass_obj
def generate(obj: CliContext, force: bool) -> None:
    """Write a new key ring file (mode 0600)."""
    path = Path(obj.key_file)
    if path.exists() and not force:
        raise Conflict(f"{path} exists; use `massage keys rotate` to add a key", code="keys.exists")
    ring = KeyRing.generate()
    ring.save(str(path))
    click.echo(f"key ring written to {path} (primary key {ring.primary}); keep it secret and backed up")


@keys.command("rotate")
@click.option("--resume", is_flag=True, help="Do not add a key; finish re-encrypting under the current primary.")
@click.option("--batch-size", default=500, show_default=True)
@click.pass_obj
def rotate(obj: CliContext, resume: bool, batch_size: int) -> None:
    """Add a new primary key, then re-encrypt every field under it (resumable; reads keep working)."""
    if obj.token is None:
        raise Conflict("rotation needs a superadmin session (--token)", code="auth.required")
    actor = obj.actor()
    if not resume:
        ring = obj.keyring().rotated()
        ring.save(obj.key_file)
        click.echo(f"new primary key {ring.primary} written to {obj.key_file}")
        obj.reset_platform()
    platform = obj.platform()
    pending = platform.keys.pending(actor)
    with click.progressbar(length=pending, label="re-encrypting", show_pos=True) as bar:
        total = platform.keys.reencrypt(actor, batch_size=batch_size, progress=bar.update)
    click.echo(f"{total} fields re-encrypted under {platform.deps.cipher.primary_key_id}")
