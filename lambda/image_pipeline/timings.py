"""Where an invocation's time goes: every AWS call and every named stage, logged as one line.

The AWS calls are timed through botocore's own events (from the parameters' check to the parsed
response; a streamed body, S3 GetObject's, is read after that: the pipeline's "read" stage holds
both), the stages by the pipeline (`with timings.stage(...)`). The invocation's start is epoch
nanoseconds, so that it lines up with other processes' clocks on the same machine (the S3 event's
time, the Runtime API's deadline, the benchmark's own timestamps); offsets and durations come from
the monotonic clock, which no clock adjustment moves. `make bench` builds its latency budget from
these lines.

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
        self.start()

    def start(self) -> None:
        """A new invocation: forget the previous one's spans."""
        with self._lock:
            self._started_ns, self._started_monotonic_ns = time.time_ns(), time.perf_counter_ns()
            self._spans: list[tuple[str, int, int]] = []

    def add(self, name: str, started_ns: int, ended_ns: int) -> None:
        with self._lock:
            self._spans.append((name, started_ns, ended_ns))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter_ns()
        try:
            yield
        finally:
            self.add(name, started, time.perf_counter_ns())

    def instrument(self, client: Any) -> Any:
        """Time every call the client makes (as `<service>.<Operation>`); returns the client."""
        events = client.meta.events
        events.register(f"{_CALL_STARTS}.*.*", self._call_started)
        for event in _CALL_ENDS:
            events.register(f"{event}.*.*", self._call_ended)
        return client

    def _call_started(self, context: dict, **_: Any) -> None:
        context[_STARTED] = time.perf_counter_ns()

    def _call_ended(self, event_name: str, context: dict, **_: Any) -> None:
        # Named by the event (<event>.<service>.<Operation>): "after-call-error" (no response,
        # e.g. the connection failed) is given no operation model.
        started = context.pop(_STARTED, None)
        if started is not None:
            self.add(event_name.split(".", 1)[1], started, time.perf_counter_ns())

    def summary(self) -> dict[str, Any]:
        """The invocation's start (epoch ns), its length so far and its spans in the order they
        started: [name, offset from the start, duration] in microseconds."""
        with self._lock:
            started, origin = self._started_ns, self._started_monotonic_ns
            spans = sorted(self._spans, key=lambda span: span[1])
        return {
            "started_ns": started,
            "elapsed_us": (time.perf_counter_ns() - origin) // 1000,
            "spans": [[name, (begin - origin) // 1000, (end - begin) // 1000] for name, begin, end in spans],
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
            deadline_ms = None
            try:
                deadline_ms = time.time_ns() // 1_000_000 + context.get_remaining_time_in_millis()
                return handler(event, context)
            finally:
                logger.info("timings", extra={**timings.summary(), "deadline_ms": deadline_ms})

        return run

    return decorate
