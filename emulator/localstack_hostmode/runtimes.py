"""Python interpreters and Lambda runtime directories for host mode, and the installer of the latter.

A ``python3.X`` function runs on a Python 3.X of this machine: ``python3.X`` on PATH, a pyenv
version or a uv-managed Python. Its runtime directory (``LAMBDA_RUNTIME_DIR``) is
``$HOSTMODE_LAMBDA_RUNTIME_DIR/python3.X``: awslambdaric (which has a native extension, so one
directory per version) and the boto3/botocore a Lambda Python runtime ships, pinned in
``requirements/lambda-runtime.txt``. Install them all, for every version, with::

    python -m localstack_hostmode.runtimes install --into .localstack/lambda-runtime \\
        --requirements requirements/lambda-runtime.txt

pip fetches wheels for each version and this machine's architecture (``--python-version``,
``--platform``, ``--only-binary=:all:``), so no interpreter of that version is needed to install, and
nothing is downloaded afterwards. A stamp per directory makes a repeated run free.

Importing this module does not import LocalStack (the installer runs without it).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RUNTIME_DIR_VARIABLE = "HOSTMODE_LAMBDA_RUNTIME_DIR"
FALLBACK_VARIABLE = "HOSTMODE_PYTHON_FALLBACK"
# Python versions of the Lambda runtimes AWS supports that awslambdaric has wheels for.
SUPPORTED_PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
INSTALL_STAMP = ".hostmode-installed"
# Lambda names architectures as the API does; the kernel as uname(2) does.
LAMBDA_ARCHITECTURE_OF_MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
# glibc baselines pip may pick wheels for: Lambda's Amazon Linux 2023 has glibc 2.34.
MANYLINUX_TAGS = ("manylinux2014", "manylinux_2_17", "manylinux_2_24", "manylinux_2_28", "manylinux_2_34")
ELF_MAGIC = b"\x7fELF"
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")


class RuntimeUnavailable(Exception):  # noqa: N818 - named as its errorType
    """The function's Python (or its runtime directory) is not on this machine."""

    error_type = "HostMode.RuntimeUnavailable"


class UnsupportedArchitecture(Exception):  # noqa: N818 - named as its errorType
    """The function's architecture differs from the host's and its package contains native code."""

    error_type = "HostMode.UnsupportedArchitecture"


# Interpreters


def python_version_of_runtime(runtime: str) -> str:
    """'python3.12' -> '3.12'."""
    return runtime.removeprefix("python")


def _version_key(name: str) -> tuple[int, ...] | None:
    """'3.12.1' -> (3, 12, 1); None for pyenv names that are not plain CPython releases."""
    return tuple(int(part) for part in name.split(".")) if re.fullmatch(r"\d+\.\d+\.\d+", name) else None


def interpreter_candidates(
    version: str,
    *,
    search_path: str | None,
    pyenv_root: Path,
    uv_python_dir: Path,
) -> Iterator[Path]:
    """Where a Python `version` may be, in order: PATH (without pyenv's shims), pyenv, uv."""
    executable = f"python{version}"
    shims = pyenv_root / "shims"
    for directory in (search_path or "").split(os.pathsep):
        # A pyenv shim exists for every installed version but fails unless that version is selected.
        if directory and Path(directory) != shims:
            candidate = Path(directory) / executable
            if os.access(candidate, os.X_OK) and candidate.is_file():
                yield candidate
    releases = [
        (key, path)
        for path in (pyenv_root / "versions").glob(f"{version}.*")
        if (key := _version_key(path.name)) is not None
    ]
    for _, path in sorted(releases, reverse=True):  # newest patch release first
        yield path / "bin" / executable
    machine = platform.machine().lower()
    for path in sorted(uv_python_dir.glob(f"cpython-{version}.*-linux-{machine}-gnu"), reverse=True):
        yield path / "bin" / executable


def reports_version(executable: Path, version: str) -> bool:
    """Whether `executable` runs and is Python `version` (a shim or broken install is not)."""
    try:
        completed = subprocess.run(
            [str(executable), "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def find_interpreter(
    version: str,
    *,
    search_path: str | None = None,
    pyenv_root: Path | None = None,
    uv_python_dir: Path | None = None,
) -> Path | None:
    """A working Python `version` of this machine, or None; the host's own Python for its version."""
    if version == host_python_version():
        return Path(sys.executable)
    candidates = interpreter_candidates(
        version,
        search_path=os.environ.get("PATH") if search_path is None else search_path,
        pyenv_root=pyenv_root or Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv"),
        uv_python_dir=uv_python_dir or default_uv_python_dir(),
    )
    return next((candidate for candidate in candidates if reports_version(candidate, version)), None)


@functools.cache
def cached_interpreter(version: str) -> Path | None:
    """find_interpreter, once per emulator run (a Python installed meanwhile needs a restart)."""
    return find_interpreter(version)


def default_uv_python_dir() -> Path:
    if configured := os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "uv" / "python"


def host_python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def host_architecture() -> str:
    machine = platform.machine().lower()
    return LAMBDA_ARCHITECTURE_OF_MACHINE.get(machine, machine)


# Runtime directories


def runtime_base_dir() -> Path:
    configured = os.environ.get(RUNTIME_DIR_VARIABLE)
    if not configured:
        raise RuntimeUnavailable(
            f"{RUNTIME_DIR_VARIABLE} is not set: it must name the directory holding the Lambda runtime "
            "of each Python version (the project's `make up` installs and sets it)"
        )
    return Path(configured)


def install_command(base_dir: Path) -> str:
    return (
        f"python -m localstack_hostmode.runtimes install --into {base_dir} "
        "--requirements requirements/lambda-runtime.txt"
    )


def runtime_dir_for(version: str, base_dir: Path | None = None) -> Path:
    """The runtime directory of Python `version`; the unversioned layout still serves the host's."""
    base_dir = base_dir or runtime_base_dir()
    versioned = base_dir / f"python{version}"
    if (versioned / "awslambdaric").is_dir():
        return versioned
    if version == host_python_version() and (base_dir / "awslambdaric").is_dir():
        return base_dir
    raise RuntimeUnavailable(
        f"The Lambda runtime for Python {version} (awslambdaric, boto3) is not installed in {versioned}; "
        f"install it with `{install_command(base_dir)}` (the project's `make up` does)"
    )


def fallback_allowed() -> bool:
    return os.environ.get(FALLBACK_VARIABLE, "") in ("1", "true")


def resolve_python(runtime: str) -> tuple[Path, Path, bool]:
    """(interpreter, runtime directory, whether it is the host fallback) for a ``python3.X`` runtime."""
    version = python_version_of_runtime(runtime)
    interpreter = cached_interpreter(version)
    if interpreter is None:
        if fallback_allowed():
            return Path(sys.executable), runtime_dir_for(host_python_version()), True
        raise RuntimeUnavailable(
            f"Runtime {runtime} needs Python {version}, which host mode did not find (python{version} on "
            f"PATH, pyenv, uv-managed Pythons). Install it, e.g. `pyenv install {version}` or "
            f"`uv python install {version}`, and restart the emulator; or set {FALLBACK_VARIABLE}=1 to run "
            f"it on Python {host_python_version()}"
        )
    return interpreter, runtime_dir_for(version), False


# Native code


def native_code_files(root: Path, limit: int = 5) -> list[Path]:
    """Up to `limit` files under `root` that are native code: ELF files or extension modules.

    By content (the ELF magic, so bundled executables and oddly named libraries count) and by name
    (``.so``, ``.so.1``, ``.pyd``, ``.dylib``, whatever they contain).
    """
    found: list[Path] = []
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            if name.endswith(NATIVE_SUFFIXES) or ".so." in name or _starts_with_elf_magic(path):
                found.append(path)
                if len(found) >= limit:
                    return found
    return found


def _starts_with_elf_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(4) == ELF_MAGIC
    except OSError:
        return False


def check_architecture(architecture: str, code_dir: Path) -> None:
    """Another architecture than the host's runs only when the package is pure Python."""
    host = host_architecture()
    if architecture == host:
        return
    if native := native_code_files(code_dir):
        shown = ", ".join(str(path.relative_to(code_dir)) for path in native)
        raise UnsupportedArchitecture(
            f"The function is built for {architecture} but this machine is {host}, and its package "
            f"contains native code ({shown}); build it for {host} or use EMULATOR=docker"
        )


# Installer


def wheel_platforms(architecture_machine: str) -> list[str]:
    return [f"{tag}_{architecture_machine}" for tag in MANYLINUX_TAGS]


def install_stamp_text(version: str, requirements: str, machine: str) -> str:
    digest = hashlib.sha256(requirements.encode()).hexdigest()
    return f"python{version} {machine} {digest}\n"


def install_runtime(version: str, into: Path, requirements_file: Path) -> bool:
    """Install the runtime directory of `version` unless its stamp is current; True if installed."""
    machine = platform.machine().lower()
    target = into / f"python{version}"
    stamp = install_stamp_text(version, requirements_file.read_text(), machine)
    if (target / INSTALL_STAMP).is_file() and (target / INSTALL_STAMP).read_text() == stamp:
        return False
    into.mkdir(parents=True, exist_ok=True)
    abi = f"cp{version.replace('.', '')}"
    staging = Path(tempfile.mkdtemp(dir=into, prefix=f".python{version}-"))
    try:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--no-compile", "--target", str(staging),
            "--python-version", version, "--implementation", "cp",
            "--abi", abi, "--abi", "abi3", "--abi", "none",
            *(option for tag in wheel_platforms(machine) for option in ("--platform", tag)),
            "-r", str(requirements_file),
        ]  # fmt: skip
        subprocess.run(command, check=True)
        (staging / INSTALL_STAMP).write_text(stamp)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # all or nothing: an interrupted install leaves no stamped directory
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def install_all(
    into: Path, requirements_file: Path, versions: tuple[str, ...] = SUPPORTED_PYTHON_VERSIONS
) -> None:
    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        installed = dict(
            zip(
                versions,
                pool.map(lambda v: install_runtime(v, into, requirements_file), versions),
                strict=True,
            )
        )
    if fresh := [version for version, done in installed.items() if done]:  # quiet when nothing was to do
        print(f"Lambda runtime directories installed for python{', python'.join(fresh)} in {into}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m localstack_hostmode.runtimes", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    install = commands.add_parser(
        "install", help="install the Lambda runtime directory of every Python version"
    )
    install.add_argument(
        "--into", type=Path, required=True, help="parent directory (HOSTMODE_LAMBDA_RUNTIME_DIR)"
    )
    install.add_argument(
        "--requirements", type=Path, required=True, help="pins, e.g. requirements/lambda-runtime.txt"
    )
    install.add_argument(
        "--python-version", action="append", choices=SUPPORTED_PYTHON_VERSIONS, help="default: all"
    )
    find = commands.add_parser("find", help="show which interpreter runs each python3.X runtime")
    find.add_argument("versions", nargs="*", default=list(SUPPORTED_PYTHON_VERSIONS))
    arguments = parser.parse_args(argv)
    if arguments.command == "install":
        versions = tuple(arguments.python_version or SUPPORTED_PYTHON_VERSIONS)
        install_all(arguments.into.resolve(), arguments.requirements.resolve(), versions)
    else:
        for version in arguments.versions:
            print(f"python{version}: {find_interpreter(version) or 'not found'}")


if __name__ == "__main__":
    main()
