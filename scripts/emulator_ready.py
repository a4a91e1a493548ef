"""Wait until LocalStack is healthy and its init hooks have run, or report its state.

Used by scripts/emulator.sh: ``--timeout`` waits (failing loudly when an init hook failed or the
emulator process died), ``--status`` prints the services and hooks once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

POLL_INTERVAL_SECONDS = 0.25
# The services the pipeline needs; LocalStack reports each as "available" or "running" when usable.
REQUIRED_SERVICES = ("s3", "lambda", "dynamodb", "sns", "sqs", "iam", "sts", "logs", "cloudformation")


def get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


def failed_hooks(init_state: dict) -> list[str]:
    return [script["name"] for script in init_state.get("scripts", []) if script.get("state") == "ERROR"]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def log_tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    # Our own readiness polls would crowd out the lines that explain the failure.
    relevant = [line for line in log.read_text(errors="replace").splitlines() if "/_localstack/" not in line]
    return "\n".join(relevant[-lines:])


def wait_until_ready(endpoint: str, timeout: float, pid: int | None, log: Path | None) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not process_alive(pid):
            print(f"error: the emulator process exited during startup:\n{log_tail(log)}", file=sys.stderr)
            return 1
        init_state = get_json(f"{endpoint}/_localstack/init/ready")
        if init_state is not None:
            if failed := failed_hooks(init_state):
                print(
                    f"error: init hook(s) failed: {', '.join(failed)}\n{log_tail(log)}",
                    file=sys.stderr,
                )
                return 1
            if init_state.get("completed"):
                return 0
        time.sleep(POLL_INTERVAL_SECONDS)
    print(f"error: the emulator was not ready within {timeout:.0f} s\n{log_tail(log)}", file=sys.stderr)
    return 1


def print_status(endpoint: str) -> int:
    health = get_json(f"{endpoint}/_localstack/health")
    if health is None:
        print(f"The emulator does not answer at {endpoint}", file=sys.stderr)
        return 1
    services = health.get("services", {})
    print(f"LocalStack {health.get('version', '?')}")
    for name in REQUIRED_SERVICES:
        print(f"  {name:15} {services.get(name, 'missing')}")
    init_state = get_json(f"{endpoint}/_localstack/init") or {}
    for script in init_state.get("scripts", []):
        print(f"  init hook {script['name']}: {script['state']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--pid", type=int, help="host mode: the LocalStack process to watch")
    parser.add_argument("--log", type=Path, help="log file whose tail explains a failure")
    parser.add_argument("--status", action="store_true", help="print the state once instead of waiting")
    args = parser.parse_args()
    if args.status:
        return print_status(args.endpoint)
    return wait_until_ready(args.endpoint, args.timeout, args.pid, args.log)


if __name__ == "__main__":
    sys.exit(main())
