"""Change detection for hot-reloaded code (``S3Bucket: hot-reload``, ``S3Key: <absolute path>``).

Before each invocation the executor compares a fingerprint of the code directory with the one taken
when its runtime started, and starts a new runtime when they differ. The fingerprint covers every
file, not only ``.py``: a handler may read templates or JSON at init, and a deleted or added module
changes imports too. ``__pycache__`` and hidden directories (``.git``, ``.venv``, tool caches) are
left out: they change without the code changing. Dependencies reached through the function's
``PYTHONPATH`` are not watched.
"""

from __future__ import annotations

import os

# Relative path -> (modification time in ns, size) of every file.
Fingerprint = dict[str, tuple[int, int]]
IGNORED_DIRECTORIES = ("__pycache__",)


def code_fingerprint(root: str | os.PathLike[str]) -> Fingerprint:
    fingerprint: Fingerprint = {}
    pending = [os.fspath(root)]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue  # removed meanwhile: its files are missing from the fingerprint, a change
        for entry in entries:
            if entry.name.startswith(".") or entry.name in IGNORED_DIRECTORIES:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                    continue
                stat = entry.stat()
            except OSError:
                continue
            fingerprint[os.path.relpath(entry.path, root)] = (stat.st_mtime_ns, stat.st_size)
    return fingerprint
