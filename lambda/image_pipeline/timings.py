"""Where an invocation's time goes: every AWS call and every named stage, logged as one line.

The AWS calls are timed through botocore's own events (from the parameters' check to the parsed
response: what the call costs the function), the stages by the pipeline (`with timings.stage(...)`).
Times are epoch nanoseconds at the invocation's start plus offsets, so that they line up with
other processes' clocks on the same machine (the S3 event's time, the Runtime API's deadline, the
benchmark's own timestamps): `make bench` builds its latency budget from these lines.

No boto3 here: a client is instrumented by its botocore event system, whatever created it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# botocore's events, from the start of a call to its parsed response (or its failure).
_CALL_STARTS = "before-parameter-build"
_CALL_ENDS = ("after-call", "after-call-error")
_STARTED = "timings_started_ns"
Handler = Callable[[Any, Any], Any]


class Timings:
    """The spans of one invocation at a time (an execution environment runs one at a time);
    spans may come from several threads of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started_ns = time.time_ns()
        self._spans: list[tuple[str, int, int]] = []

    def start(self) -> None:
        """A new invocation: forget the previous one's spans."""
        with self._lock:
            self._started_ns = time.time_ns()
            self._spans = []

    def add(self, name: str, started_ns: int, ended_ns: int) -> None:
        with self._lock:
            self._spans.append((name, started_ns, ended_ns))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.time_ns()
        try:
            yield
        finally:
            self.add(name, started, time.time_ns())

    def instrument(self, client: Any) -> Any:
        """Time every call the client makes (as `<service>.<Operation>`); returns the client."""
        events = client.meta.events
        events.register(f"{_CALL_STARTS}.*.*", self._call_started)
        for event in _CALL_ENDS:
            events.register(f"{event}.*.*", self._call_ended)
        return client

    def _call_started(self, context: dict, **_: Any) -> None:
        context[_STARTED] = time.time_ns()

    def _call_ended(self, event_name: str, context: dict, **_: Any) -> None:
        # The event's name ends in <service>.<Operation>; "after-call-error" (no response: the
        # connection failed) has no operation model to name it by.
        started = context.pop(_STARTED, None)
        if started is not None:
            self.add(event_name.split(".", 1)[1], started, time.time_ns())

    def summary(self) -> dict[str, Any]:
        """The invocation's start (epoch ns), its length so far and its spans in the order they
        started: [name, offset from the start, duration] in microseconds."""
        with self._lock:
            started, spans = self._started_ns, sorted(self._spans, key=lambda span: span[1])
        return {
            "started_ns": started,
            "elapsed_us": (time.time_ns() - started) // 1000,
            "spans": [[name, (begin - started) // 1000, (end - begin) // 1000] for name, begin, end in spans],
        }


# One per execution environment, like Powertools' Logger.
timings = Timings()


def timed(logger: Any) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler (outermost): time each invocation and log its spans, with the
    invocation's deadline (epoch ms; minus the function's timeout, when Lambda handed it over)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            timings.start()
            deadline_ms = time.time_ns() // 1_000_000 + context.get_remaining_time_in_millis()
            try:
                return handler(event, context)
            finally:
                logger.info("timings", extra={**timings.summary(), "deadline_ms": deadline_ms})

        return run

    return decorate
