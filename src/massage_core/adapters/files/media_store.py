"""A MediaStore on the local file system.

Files live at ``<root>/<last 2 characters of the id>/<id>`` (a fan-out so no
directory grows huge).  A write goes to a temporary file in the same
directory, is flushed to disk and renamed over the target, so a reader sees
the whole file or none of it.  Keys are checked to be medium ids, so a key can
never name a path outside the root.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from massage_core.domain.errors import NotFound
from massage_core.domain.ids import MediumId, medium_id
from massage_core.ports.media import MediaStore


class FilesystemMediaStore(MediaStore):
    """Photos and videos as files under ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Keep files under ``root``."""
        self.root = Path(root)

    def _path(self, key: MediumId) -> Path:
        checked = medium_id(key)
        return self.root / checked[-2:] / checked

    def put(self, key: MediumId, data: bytes) -> None:
        """Write atomically: a temporary file, fsync, then rename over the target."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: MediumId) -> bytes:
        """The file's bytes, or NotFound."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("medium", key) from None

    def delete(self, key: MediumId) -> None:
        """Remove the file if it exists."""
        self._path(key).unlink(missing_ok=True)
