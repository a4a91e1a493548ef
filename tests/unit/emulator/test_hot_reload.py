"""Change detection for hot-reloaded code: every file counts, caches and hidden directories do not."""

from __future__ import annotations

import os
import time
from pathlib import Path

from localstack_hostmode.hot_reload import code_fingerprint

REPO_ROOT = Path(__file__).resolve().parents[3]


def write_tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "handler.py").write_text("VALUE = 1\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "template.json").write_text("{}")


def test_an_edit_with_the_same_size_is_a_change(tmp_path):
    write_tree(tmp_path)
    before = code_fingerprint(tmp_path)
    handler = tmp_path / "handler.py"
    handler.write_text("VALUE = 2\n")
    os.utime(handler, ns=(handler.stat().st_atime_ns, handler.stat().st_mtime_ns + 1))
    assert code_fingerprint(tmp_path) != before


def test_added_removed_and_data_files_are_changes(tmp_path):
    write_tree(tmp_path)
    before = code_fingerprint(tmp_path)
    (tmp_path / "pkg" / "new.py").write_text("")
    added = code_fingerprint(tmp_path)
    assert added != before
    (tmp_path / "pkg" / "new.py").unlink()
    assert code_fingerprint(tmp_path) == before
    (tmp_path / "pkg" / "template.json").write_text('{"size": "changed"}')
    assert code_fingerprint(tmp_path) != before


def test_bytecode_caches_and_hidden_directories_are_not_changes(tmp_path):
    write_tree(tmp_path)
    before = code_fingerprint(tmp_path)
    for ignored in ("__pycache__", "pkg/__pycache__", ".git", ".venv/lib"):
        (tmp_path / ignored).mkdir(parents=True)
        (tmp_path / ignored / "file").write_text("x")
    assert code_fingerprint(tmp_path) == before


def test_scanning_the_projects_function_is_cheap():
    source = REPO_ROOT / "lambda"
    files = len(code_fingerprint(source))
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        code_fingerprint(source)
    per_scan_ms = (time.perf_counter() - started) / rounds * 1000
    print(f"fingerprint of {files} files in {source}: {per_scan_ms:.3f} ms")
    assert files > 0
    assert per_scan_ms < 5, f"{per_scan_ms:.3f} ms per scan of {files} files"
