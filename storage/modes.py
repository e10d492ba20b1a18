"""Who may read the installation's files: the server's own account only (R-PRIV-1).

The SQLite file holds ID numbers and the examiners' private keys, and the data folder the
photos and scans; on a shared machine no other local account may read them. Files are
created 0600 and folders 0700, whatever the umask; an existing installation's looser modes
are tightened on start, and the log says which path went from which mode to which (nothing
of what the file holds).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("examday.storage")

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def tighten(path: Path, allowed: int) -> bool:
    """Drop every permission bit of ``path`` outside ``allowed``; True if it had any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not mode & ~allowed:
        return False
    os.chmod(path, mode & allowed)
    log.warning("tightened the permissions of %s from %04o to %04o", path, mode, mode & allowed)
    return True


def private_dir(path: Path) -> Path:
    """The folder, made 0700 if missing (its parents as the umask says), tightened if looser."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    tighten(path, PRIVATE_DIR)
    return path


def private_dirs(root: Path, folder: Path) -> None:
    """Every missing folder from ``root`` down to ``folder``, each made 0700 (``mkdir -p``
    would make the intermediate ones with the umask's mode)."""
    missing = []
    for p in [folder, *folder.parents]:
        if p.is_dir() or p == root.parent:
            break
        missing.append(p)
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer made it first
            p.mkdir(mode=PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Create the file empty and 0600 if missing, so whatever writes it next keeps that mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        tighten(path, PRIVATE_FILE)
