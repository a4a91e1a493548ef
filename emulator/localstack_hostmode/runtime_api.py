"""The AWS Lambda Runtime API, served for one execution environment.

The runtime process (the AWS Lambda Runtime Interface Client, as in AWS's own Python images) polls
``GET /2018-06-01/runtime/invocation/next`` and posts each result to
``/invocation/{request_id}/response`` or ``/error``; a failed initialisation is posted to
``/init/error``. See https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
import sys
import threading
from concurrent.futures import Future
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger(__name__)

API_PREFIX = "/2018-06-01/runtime"
SHUTDOWN_POLL_INTERVAL_SECONDS = 0.1
_RESULT_PATH = re.compile(rf"^{API_PREFIX}/invocation/(?P<request_id>[^/]+)/(?P<kind>response|error)$")


@dataclasses.dataclass(frozen=True)
class PendingInvocation:
    request_id: str
    payload: bytes
    invoked_function_arn: str
    deadline_epoch_ms: int
    trace_id: str | None = None


@dataclasses.dataclass(frozen=True)
class RuntimeResult:
    payload: bytes
    is_error: bool


class _Shutdown:
    """Put on the queue to release a runtime blocked in ``/next`` when the environment stops."""


class _RuntimeApiHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            # A runtime killed mid-request (timeout, crash, stop) is routine, not worth a traceback.
            LOG.debug("runtime api: %s went away: %s", client_address, error)
            return
        LOG.warning("runtime api: request from %s failed", client_address, exc_info=True)


class RuntimeApiServer:
    """A Runtime API endpoint on 127.0.0.1 with an ephemeral port, one per execution environment."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.init_error: bytes | None = None
        self.init_failed = threading.Event()
        self._invocations: queue.Queue[PendingInvocation | _Shutdown] = queue.Queue()
        self._results: dict[str, Future[RuntimeResult]] = {}
        self._results_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()
        self._closed = False
        self._server = _RuntimeApiHTTPServer(("127.0.0.1", 0), self._make_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # How long shutdown() may wait for the serving loop to notice (socketserver's default: 0.5 s).
            kwargs={"poll_interval": SHUTDOWN_POLL_INTERVAL_SECONDS},
            name="lambda-runtime-api",
            daemon=True,
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        with self._lifecycle_lock:
            if self._closed:
                raise RuntimeError(f"runtime api {self.address} was shut down before it started")
            self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and cancel pending invocations; safe before start() and when repeated."""
        with self._lifecycle_lock:
            already_closed, self._closed = self._closed, True
            started = self._thread.ident is not None
        if already_closed:
            return
        self._invocations.put(_Shutdown())
        if started:
            # socketserver's shutdown() waits for serve_forever() to end: forever if it never ran.
            self._server.shutdown()
        self._server.server_close()
        with self._results_lock:
            for future in self._results.values():
                future.cancel()
            self._results.clear()

    def submit(self, invocation: PendingInvocation) -> Future[RuntimeResult]:
        future: Future[RuntimeResult] = Future()
        with self._results_lock:
            self._results[invocation.request_id] = future
        self._invocations.put(invocation)
        return future

    def forget(self, request_id: str) -> None:
        with self._results_lock:
            self._results.pop(request_id, None)

    # Handlers called from the HTTP server's threads

    def _next_invocation(self) -> PendingInvocation | None:
        self.ready.set()
        item = self._invocations.get()
        if isinstance(item, _Shutdown):
            self._invocations.put(item)  # leave it for any other waiting poller
            return None
        return item

    def _record_result(self, request_id: str, result: RuntimeResult) -> bool:
        with self._results_lock:
            future = self._results.pop(request_id, None)
        if future is None or future.done():
            return False
        future.set_result(result)
        return True

    def _record_init_error(self, payload: bytes) -> None:
        self.init_error = payload
        self.init_failed.set()

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm the body would wait
            # for the client's delayed ACK (about 40 ms per invocation).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if self.path != f"{API_PREFIX}/invocation/next":
                    LOG.warning("runtime api %s: unknown request GET %s", api.address, self.path)
                    self._reply(HTTPStatus.NOT_FOUND)
                    return
                invocation = api._next_invocation()
                if invocation is None:
                    self._reply(HTTPStatus.GONE)
                    return
                headers = {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_epoch_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_function_arn,
                }
                if invocation.trace_id:
                    headers["Lambda-Runtime-Trace-Id"] = invocation.trace_id
                self._reply(HTTPStatus.OK, invocation.payload, headers)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == f"{API_PREFIX}/init/error":
                    api._record_init_error(body)
                    self._reply(HTTPStatus.ACCEPTED)
                    return
                match = _RESULT_PATH.match(self.path)
                if match is None:
                    LOG.warning("runtime api %s: unknown request POST %s", api.address, self.path)
                    self._reply(HTTPStatus.NOT_FOUND)
                    return
                result = RuntimeResult(payload=body, is_error=match["kind"] == "error")
                if api._record_result(match["request_id"], result):
                    self._reply(HTTPStatus.ACCEPTED)
                else:
                    # AWS answers a result for an unknown or finished invocation the same way.
                    LOG.warning(
                        "runtime api %s: result for unknown or finished invocation %s",
                        api.address,
                        match["request_id"],
                    )
                    self._reply(HTTPStatus.BAD_REQUEST)

            def _reply(
                self, status: HTTPStatus, body: bytes = b"", headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError as error:
                    # The runtime process was killed (timeout, stop) while it waited for an answer.
                    LOG.debug("runtime api %s: client went away: %s", api.address, error)

            def log_message(self, format: str, *args: object) -> None:
                LOG.debug("runtime api %s: " + format, api.address, *args)

        return Handler
