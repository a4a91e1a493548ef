"""The packaging step of scripts/build_function.py on real files."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from scripts.build_function import zip_directory


def make_tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")


def test_zip_is_byte_identical_whatever_the_file_times_and_creation_order(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    make_tree(first, ["b.py", "pkg/a.py", "pkg/sub/c.txt"])
    make_tree(second, ["pkg/sub/c.txt", "b.py", "pkg/a.py"])
    os.utime(second / "b.py", (1_000_000_000, 1_000_000_000))
    zip_directory(first, tmp_path / "first.zip")
    zip_directory(second, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()


def test_zip_keeps_paths_and_the_executable_bit(tmp_path):
    make_tree(tmp_path / "src", ["lib/native.so", "handler.py"])
    (tmp_path / "src" / "lib" / "native.so").chmod(0o755)
    zip_directory(tmp_path / "src", tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.namelist() == ["handler.py", "lib/native.so"]
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        assert modes == {"handler.py": 0o644, "lib/native.so": 0o755}
        assert archive.read("handler.py") == b"content of handler.py\n"
