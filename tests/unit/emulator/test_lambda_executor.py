"""Pure parts of the host-process executor: Lambda's wording of platform errors."""

from __future__ import annotations

import json
import signal

from localstack_hostmode.lambda_executor import lambda_error, runtime_exit_message, timeout_message


def test_exit_by_status_and_by_signal_are_worded_like_lambda():
    assert runtime_exit_message(3) == "Runtime exited with error: exit status 3"
    assert runtime_exit_message(-signal.SIGKILL) == "Runtime exited with error: signal: killed"
    assert runtime_exit_message(-signal.SIGSEGV) == "Runtime exited with error: signal: segmentation fault"


def test_timeout_message_has_two_decimals():
    assert timeout_message(3) == "Task timed out after 3.00 seconds"


def test_platform_error_payload_shape():
    payload = json.loads(lambda_error("Sandbox.Timedout", "req-1", timeout_message(1)))
    assert payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-1 Error: Task timed out after 1.00 seconds",
    }
