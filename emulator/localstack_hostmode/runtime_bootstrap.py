"""The first code of a host-mode Lambda runtime process; it ends by running awslambdaric's main.

The executor runs ``python -S <this file> [--parent-fd FD] [--source-only DIR] <handler>`` with the
task root as working directory. Before any code of the function runs, this script

* makes ``sys.path[0]`` the task root, as ``python -m awslambdaric`` would: the directory of this file
  (the plugin package, with the rest of the host) never becomes importable for the function;
* resolves ``localhost.localstack.cloud`` and every ``*.localhost.localstack.cloud`` to 127.0.0.1 without
  DNS (S3 virtual-host addresses, API Gateway hosts), as LocalStack's public DNS record does online;
* with ``--parent-fd``, watches the read end of a pipe whose write end only LocalStack holds: end of
  file means LocalStack is gone, even after SIGKILL, and the runtime's process group is killed;
* with ``--source-only``, compiles modules under that directory (hot-reloaded code, the user's source
  tree) from source at every import, without reading or writing ``__pycache__``: a ``.pyc`` of an
  edit in the same second with the same size would otherwise be taken for current.

It runs on every Python the Lambda runtimes use (3.10 and later) and imports only the standard library.
"""

from __future__ import annotations

import os
import runpy
import signal
import socket
import sys
import threading
from collections.abc import Callable

LOCALSTACK_DOMAIN = "localhost.localstack.cloud"
LOOPBACK_ADDRESS = "127.0.0.1"


def is_localstack_name(host: object) -> bool:
    """``localhost.localstack.cloud`` or a name below it (any case, with or without the final dot)."""
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.rstrip(".").lower()
    return name == LOCALSTACK_DOMAIN or name.endswith("." + LOCALSTACK_DOMAIN)


def resolve_localstack_names_locally(resolver: object) -> None:
    """Wrap ``getaddrinfo``/``gethostbyname``/``gethostbyname_ex`` of `resolver` (the socket module)."""
    original_getaddrinfo: Callable = resolver.getaddrinfo
    original_gethostbyname: Callable = resolver.gethostbyname
    original_gethostbyname_ex: Callable = resolver.gethostbyname_ex

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        # The real record has no AAAA: an AF_INET6-only lookup fails as it would online.
        if is_localstack_name(host):
            host = LOOPBACK_ADDRESS
        return original_getaddrinfo(host, port, family, type, proto, flags)

    def gethostbyname(hostname):
        return LOOPBACK_ADDRESS if is_localstack_name(hostname) else original_gethostbyname(hostname)

    def gethostbyname_ex(hostname):
        if is_localstack_name(hostname):
            return hostname, [], [LOOPBACK_ADDRESS]
        return original_gethostbyname_ex(hostname)

    resolver.getaddrinfo = getaddrinfo
    resolver.gethostbyname = gethostbyname
    resolver.gethostbyname_ex = gethostbyname_ex


def exit_when_parent_goes(read_fd: int) -> None:
    """Kill this runtime (its whole process group when it leads one) once `read_fd` reaches EOF."""
    os.set_inheritable(read_fd, False)  # the function's own child processes need not watch

    def watch() -> None:
        try:
            while os.read(read_fd, 1):
                pass
        except OSError:
            pass
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)  # also what the function started
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="hostmode-parent-watch", daemon=True).start()


def compile_from_source_under(root: str) -> None:
    """Import modules below `root` from source every time: no ``__pycache__`` read or written there."""
    from importlib.machinery import (
        BYTECODE_SUFFIXES,
        EXTENSION_SUFFIXES,
        SOURCE_SUFFIXES,
        ExtensionFileLoader,
        FileFinder,
        SourceFileLoader,
        SourcelessFileLoader,
    )

    class SourceOnlyLoader(SourceFileLoader):
        def get_code(self, fullname):
            return self.source_to_code(self.get_data(self.path), self.path)

    # The loaders of Python's default path hook, with source files compiled without a cache.
    source_only_finder = FileFinder.path_hook(
        (ExtensionFileLoader, EXTENSION_SUFFIXES),
        (SourceOnlyLoader, SOURCE_SUFFIXES),
        (SourcelessFileLoader, BYTECODE_SUFFIXES),
    )
    real_root = os.path.realpath(root)

    def hook(path: str):
        real_path = os.path.realpath(path or os.getcwd())
        if real_path != real_root and not real_path.startswith(real_root + os.sep):
            raise ImportError("not below the hot-reloaded directory")  # the next hook takes it
        return source_only_finder(path)

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def main(argv: list[str]) -> None:
    arguments = argv[1:]
    while arguments and arguments[0].startswith("--"):
        option, value, arguments = arguments[0], arguments[1], arguments[2:]
        if option == "--parent-fd":
            exit_when_parent_goes(int(value))
        elif option == "--source-only":
            compile_from_source_under(value)
        else:
            raise SystemExit(f"hostmode bootstrap: unknown option {option}")
    sys.path[0] = os.getcwd()
    resolve_localstack_names_locally(socket)
    sys.argv = [argv[0], *arguments]
    # Exactly `python -m awslambdaric <handler>`: the package's __main__ as __main__, argv[0] its path.
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv)
