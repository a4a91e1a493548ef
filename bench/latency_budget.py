"""Where an upload's time goes, from the S3 PUT to the SNS notification, stage by stage.

Every timestamp is read from the one clock the machine has (CLOCK_REALTIME, epoch time), by the
process that saw the moment happen:
  the benchmark          PUT sent, notification received (time.time_ns)
  S3 (the emulator)      the event's eventTime: the object is stored, its event made (ms)
  Lambda (the emulator)  the invocation handed to the runtime: its deadline minus the timeout (ms)
  the function           its handler's start and every AWS call and stage in it (the "timings"
                         log line, image_pipeline/timings.py, ns), its REPORT Duration
  SNS (the emulator)     the notification put on the benchmark's queue: SentTimestamp (ms)
So no difference is taken between two clocks that could drift; what is in milliseconds only
(the emulator's own stamps) is a line of its own.

Beside the budget, the same AWS calls are made from this process one at a time, on the same kind
of data: their own service time, the yardstick for the function's REPORT Duration.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import ClientError
from image_pipeline.adapters.dynamodb import MetadataTable, _from_item
from image_pipeline.imaging import Watermark, make_renditions
from image_pipeline.records import image_id, stale_attributes
from image_pipeline.renditions import parse_renditions

from tests.e2e.messaging import subscribe_new_queue

IMAGE_WORK = "image work: decode once, every rendition"
# The function's spans, in the order an upload meets them, and what each is (README: latency budget).
FUNCTION_STAGES = (
    ("dynamodb.PutItem", "idempotency record (DynamoDB PutItem)"),
    ("read", "read the upload (S3 GetObject + body)"),
    ("render", IMAGE_WORK),
    ("store", "store the renditions (S3 PutObject each, at once)"),
    ("record", "row write (DynamoDB UpdateItem, conditional)"),
    ("announce", "notification (SNS Publish)"),
)
REPORT = re.compile(r"REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms")


@dataclass
class Upload:
    key: str
    put_sent_ns: int
    put_done_ns: int = 0
    received_ns: int = 0
    delivered_ms: int = 0  # SNS put it on the queue (SentTimestamp)
    event_ms: int = 0  # S3's eventTime
    timings: dict = field(default_factory=dict)
    report_ms: float = 0.0


class NotificationQueue:
    """A queue subscribed to a topic (the pipeline's by default) for the benchmark's time: a
    context manager that removes it at the end."""

    def __init__(self, pipeline, topic_arn: str | None = None) -> None:
        self._sqs, self._sns = pipeline.session.client("sqs", endpoint_url=pipeline.endpoint), pipeline.sns
        self.url, self._subscription = subscribe_new_queue(
            self._sqs,
            self._sns,
            topic_arn or pipeline.outputs["NotificationsTopicArn"],
            f"bench-notifications-{uuid.uuid4().hex[:8]}",
        )

    def __enter__(self) -> NotificationQueue:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def wait_for(self, image_ids: set[str], timeout: float = 60) -> dict[str, tuple[int, int]]:
        """image ID -> (delivered: SentTimestamp ms, received here: ns) of those announced within
        the timeout (all of them, or the caller counts what is missing)."""
        seen: dict[str, tuple[int, int]] = {}
        deadline = time.monotonic() + timeout
        while not image_ids <= seen.keys() and time.monotonic() < deadline:
            messages = self._sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            received = time.time_ns()
            for message in messages:
                body = json.loads(json.loads(message["Body"])["Message"])
                if body["ImageID"] in image_ids:
                    seen[body["ImageID"]] = (int(message["Attributes"]["SentTimestamp"]), received)
            if messages:
                self._sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[
                        {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                        for number, message in enumerate(messages)
                    ],
                )
        return seen

    def close(self) -> None:
        self._sns.unsubscribe(SubscriptionArn=self._subscription)
        self._sqs.delete_queue(QueueUrl=self.url)


def epoch_ms(timestamp: str) -> int:
    """S3's eventTime (UTC, milliseconds) as epoch milliseconds."""
    return round(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def function_log(pipeline, request_ids_by_key: dict[str, str] | None = None, since_ms: int = 0):
    """The processor's "timings" lines by source key, and REPORT Durations by request id."""
    logs = pipeline.session.client("logs", endpoint_url=pipeline.endpoint)
    group = f"/aws/lambda/{pipeline.outputs['ImageProcessorFunctionName']}"
    timings_by_request, keys_by_request, durations = {}, {}, {}
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms):
        for event in page["events"]:
            message = event["message"].strip()
            if (report := REPORT.match(message)) is not None:
                durations[report[1]] = float(report[2])
            elif message.startswith("{"):
                line = json.loads(message)
                if line.get("message") == "timings":
                    timings_by_request[line["function_request_id"]] = line
                elif line.get("message") == "handled":
                    keys_by_request[line["function_request_id"]] = line["source_key"]
    found: dict[str, tuple[dict, float | None]] = {}
    for request, timings in timings_by_request.items():  # in the order they were logged
        if request in keys_by_request:
            # The first invocation of a key: a redelivery after it would be a no-op's line.
            found.setdefault(keys_by_request[request], (timings, durations.get(request)))
    return found


def measure_uploads(pipeline, data: bytes, count: int) -> list[Upload]:
    """`count` uploads one at a time (after a warm-up), each followed to its notification."""
    since_ms = time.time_ns() // 1_000_000
    timeout_ms = pipeline.function_timeout_ms()
    uploads = []
    with NotificationQueue(pipeline) as queue:
        for number in range(count + 1):
            upload = Upload(key="", put_sent_ns=time.time_ns())
            upload.key = pipeline.upload(f"budget-{number}.jpg", data)
            upload.put_done_ns = time.time_ns()
            announced = queue.wait_for({image_id(pipeline.uploads, upload.key)})
            if not announced:
                raise TimeoutError(f"{upload.key} was not announced within a minute")
            ((delivered, received),) = announced.values()
            upload.delivered_ms, upload.received_ns = delivered, received
            if number:  # the first one warms the function and the clients
                uploads.append(upload)
    for upload in uploads:
        row = pipeline.wait_for_row(upload.key)
        upload.event_ms = epoch_ms(row["SourceEventTime"]["S"])
        # The event is made while the PUT is answered: anything else means the emulator's clock
        # is not epoch time (LocalStack stamps events with local time; host mode runs it in UTC).
        if not upload.put_sent_ns // 1_000_000 - 1 <= upload.event_ms <= upload.put_done_ns // 1_000_000 + 1:
            raise SystemExit(
                f"budget: S3's event time {row['SourceEventTime']['S']} is not within its PUT;"
                " is the emulator running in another time zone than UTC?"
            )
    deadline = time.monotonic() + 30
    while True:  # the emulator stores an invocation's log lines after it ends
        logged = function_log(pipeline, since_ms=since_ms)
        if all(upload.key in logged and logged[upload.key][1] for upload in uploads):
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the function's timings lines did not all reach its log group")
        time.sleep(0.2)
    for upload in uploads:
        upload.timings, upload.report_ms = logged[upload.key]
        upload.timings["submitted_ms"] = upload.timings["deadline_ms"] - timeout_ms
    return uploads


def spans_ms(timings: dict) -> dict[str, list[tuple[float, float]]]:
    """name -> [(start, end)] in ms from the handler's start."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for name, offset_us, duration_us in timings["spans"]:
        spans.setdefault(name, []).append((offset_us / 1000, (offset_us + duration_us) / 1000))
    return spans


def budget_lines(upload: Upload) -> list[tuple[str, float]]:
    """One upload's timeline as consecutive lines that add up to PUT -> notification received."""
    t = upload.timings
    started_ms = t["started_ns"] / 1e6
    put_sent_ms = upload.put_sent_ns / 1e6
    spans = spans_ms(t)
    lines = [
        ("S3 PUT: request -> object stored, event made", upload.event_ms - put_sent_ms),
        ("event -> invocation handed to the runtime", t["submitted_ms"] - upload.event_ms),
        ("runtime -> handler starts (Runtime API, awslambdaric)", started_ms - t["submitted_ms"]),
    ]
    cursor = 0.0
    for name, label in FUNCTION_STAGES:
        start, end = spans[name][0]
        if start > cursor:
            lines.append(("  function code between the calls", start - cursor))
        lines.append((f"  {label}", end - start))
        cursor = end
    published_ms = started_ms + cursor
    lines.append(("SNS -> notification on the queue", upload.delivered_ms - published_ms))
    received_ms = upload.received_ns / 1e6
    lines.append(("queue -> received here (SQS ReceiveMessage)", received_ms - upload.delivered_ms))
    return lines


def merge_between(lines: list[tuple[str, float]]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for label, value in lines:
        merged[label] = merged.get(label, 0.0) + value
    return merged


def after_notification(upload: Upload) -> dict[str, float]:
    """What the invocation still does once the notification is out (not on the latency path)."""
    spans, t = spans_ms(upload.timings), upload.timings
    announced = spans["announce"][0][1]
    completion = [span for span in spans.get("dynamodb.UpdateItem", []) if span[0] >= announced]
    elapsed = t["elapsed_us"] / 1000
    return {
        "idempotency completion (DynamoDB UpdateItem)": sum(end - start for start, end in completion),
        "handler elapsed": elapsed,
        "REPORT Duration": upload.report_ms,
        "runtime overhead (REPORT - handler)": upload.report_ms - elapsed,
    }


def service_times(pipeline, data: bytes, repeat: int) -> dict[str, list[float]]:
    """The function's AWS calls made from here, one at a time, on the same kind of data (ms)."""
    s3, dynamodb = pipeline.s3, pipeline.dynamodb
    specs = parse_renditions(pipeline.outputs["Renditions"])
    renditions = make_renditions(data, specs, Watermark("bench")).renditions
    key = pipeline.upload("service-time.jpg", data)
    row = _from_item(pipeline.wait_for_row(key))
    probe = f"bench-probe-{uuid.uuid4().hex}"
    probe_row = {**row, "ImageID": probe}
    probe_row.pop("Gallery", None)  # never in the gallery
    table, stale = MetadataTable(dynamodb, pipeline.table), stale_attributes(probe_row)
    idempotency = pipeline.outputs["IdempotencyTableName"]
    topic = pipeline.sns.create_topic(Name=f"bench-probe-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = NotificationQueue(pipeline, topic)  # a topic with one queue, like the pipeline's now
    calls = {
        "DynamoDB PutItem (idempotency record)": lambda n: dynamodb.put_item(
            TableName=idempotency,
            Item={"id": {"S": f"{probe}-{n}"}, "status": {"S": "INPROGRESS"}, "expiration": {"N": "1"}},
            ConditionExpression="attribute_not_exists(id)",
        ),
        "S3 GetObject + body (the upload)": lambda n: s3.get_object(Bucket=pipeline.uploads, Key=key)[
            "Body"
        ].read(),
        "S3 PutObject per rendition, at once": lambda n: put_at_once(s3, pipeline, probe, renditions),
        "DynamoDB UpdateItem (the row)": lambda n: table.record(probe_row, remove=stale),
        "SNS Publish (the notification)": lambda n: pipeline.sns.publish(
            TopicArn=topic, Message=json.dumps({"ImageID": probe})
        ),
        "DynamoDB UpdateItem (idempotency completion)": lambda n: dynamodb.update_item(
            TableName=idempotency,
            Key={"id": {"S": f"{probe}-{n}"}},
            UpdateExpression="SET #s = :s, #d = :d",
            ExpressionAttributeNames={"#s": "status", "#d": "data"},
            ExpressionAttributeValues={":s": {"S": "COMPLETED"}, ":d": {"S": json.dumps({"results": []})}},
        ),
    }
    times: dict[str, list[float]] = {}
    try:
        for label, call in calls.items():
            call(-1)  # warm: connection, endpoint
            times[label] = []
            for number in range(repeat):
                started = time.perf_counter()
                call(number)
                times[label].append((time.perf_counter() - started) * 1000)
    finally:
        # Every probe is named by its own uuid: nothing else can be deleted here. Each removal is
        # tried even when one before it fails.
        removals = [
            queue.close,
            lambda: pipeline.sns.delete_topic(TopicArn=topic),
            lambda: dynamodb.delete_item(TableName=pipeline.table, Key={"ImageID": {"S": probe}}),
            *(
                lambda number=number: dynamodb.delete_item(
                    TableName=idempotency, Key={"id": {"S": f"{probe}-{number}"}}
                )
                for number in range(-1, repeat)
            ),
            *(
                lambda rendition=rendition: s3.delete_object(
                    Bucket=pipeline.thumbnails, Key=f"bench-probe/{probe}/{rendition.name}"
                )
                for rendition in renditions
            ),
        ]
        for removal in removals:
            with contextlib.suppress(ClientError):
                removal()
    return times


def put_at_once(s3, pipeline, probe: str, renditions) -> None:
    with ThreadPoolExecutor(max_workers=len(renditions)) as writers:
        for write in [
            writers.submit(
                s3.put_object,
                Bucket=pipeline.thumbnails,
                Key=f"bench-probe/{probe}/{rendition.name}",
                Body=rendition.data,
                ContentType=rendition.content_type,
            )
            for rendition in renditions
        ]:
            write.result()


def median_spread(values: list[float]) -> tuple[float, float, float]:
    low, median, high = statistics.quantiles(values, n=4, method="inclusive")
    return median, low, high


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cell(values: list[float]) -> str:
    median, low, high = median_spread(values)
    return f"{median:6.1f} [{low:.0f}-{high:.0f}]"


@dataclass
class Budget:
    """One configuration's measured budget."""

    uploads: list[Upload]
    service: dict[str, list[float]]  # the same calls from the benchmark

    # Each upload's lines, once per budget (every printed line and the chart read them).
    @functools.cached_property
    def totals(self) -> list[float]:
        return [(upload.received_ns - upload.put_sent_ns) / 1e6 for upload in self.uploads]

    @functools.cached_property
    def lines(self) -> list[dict[str, float]]:
        return [merge_between(budget_lines(upload)) for upload in self.uploads]

    @functools.cached_property
    def after(self) -> list[dict[str, float]]:
        return [after_notification(upload) for upload in self.uploads]

    def median_line(self, line: str) -> float:
        return statistics.median(row.get(line, 0.0) for row in self.lines)

    @property
    def image_ms(self) -> float:
        return self.median_line(f"  {IMAGE_WORK}")

    @property
    def report_ms(self) -> float:
        return statistics.median(values["REPORT Duration"] for values in self.after)

    @property
    def service_ms(self) -> float:
        return sum(statistics.median(values) for values in self.service.values())


def print_budget(budgets: dict[str, Budget]) -> None:
    """The budgets side by side: the path, what follows the notification, the calls' service time."""
    width, column = 52, 18
    first = next(iter(budgets.values()))

    def row(label: str, cells: list[str]) -> None:
        print(f"  {label:{width}}" + "".join(f"{text:>{column}}" for text in cells))

    print(
        f"\nLatency budget: one warm 2 MP JPEG at a time, {len(first.uploads)} uploads, direct mode;"
        " ms, median [IQR]"
    )
    row("", list(budgets))
    row("PUT sent -> notification received", [cell(b.totals) for b in budgets.values()])
    row("  p95", [f"{percentile(b.totals, 0.95):.1f}" for b in budgets.values()])
    for line in first.lines[0]:
        row(line, [cell([r.get(line, 0.0) for r in b.lines]) for b in budgets.values()])
    row(
        "(sum of the medians above)", [f"{sum(map(b.median_line, b.lines[0])):.1f}" for b in budgets.values()]
    )
    print("  after the notification (not on the path above):")
    for line in first.after[0]:
        row(f"  {line}", [cell([values[line] for values in b.after]) for b in budgets.values()])
    print("  the same calls made from the benchmark, one at a time (their service time):")
    for line in first.service:
        row(f"  {line}", [cell(b.service[line]) for b in budgets.values()])
    row("  (sum)", [f"{b.service_ms:.1f}" for b in budgets.values()])


def print_goals(
    budgets: dict[str, Budget], bursts: dict[str, tuple[int, float, tuple[float, float] | None]]
) -> None:
    """Issue 12's goals against what was measured: met, or by how much not."""

    def verdict(value: float, goal: float) -> str:
        return "met" if value <= goal else f"not met ({value / goal:.1f}x the goal)"

    print("\nGoals (2 MP upload -> notification; REPORT against image work + the calls' service time)")
    for label, budget in budgets.items():
        p50, p95 = statistics.median(budget.totals), percentile(budget.totals, 0.95)
        yardstick = budget.image_ms + budget.service_ms
        print(f"  {label}:")
        print(f"    p50 {p50:.0f} ms <= 60: {verdict(p50, 60)}; image work {budget.image_ms:.0f} ms of it")
        print(f"    p95 {p95:.0f} ms <= 90: {verdict(p95, 90)}")
        print(
            f"    REPORT {budget.report_ms:.0f} ms <= 2 x {yardstick:.0f} ms:"
            f" {verdict(budget.report_ms, 2 * yardstick)} ({budget.report_ms / yardstick:.2f}x)"
        )
    for label, (count, elapsed, cpu) in bursts.items():
        rate = count / elapsed
        verdict_text = "met" if rate >= 30 else f"not met ({rate / 30:.2f} of the goal)"
        print(f"  burst of {count} x 1 MP, {label}: {rate:.1f} images/s >= 30: {verdict_text}, 0 lost")
        if cpu is not None:
            # What the cores could do at most if they did nothing else: the burst's ceiling.
            # The burst's ceilings: all cores busy with nothing else; and LocalStack, one Python
            # process (one interpreter lock), using one core at most.
            emulator_ms, functions_ms = (seconds / count * 1000 for seconds in cpu)
            cores = (os.cpu_count() or 1) * 1000 / (emulator_ms + functions_ms)
            one_process = 1000 / emulator_ms
            print(
                f"    CPU per upload: LocalStack {emulator_ms:.0f} ms + functions {functions_ms:.0f} ms:"
                f" at most {cores:.1f} images/s on {os.cpu_count()} cores, {one_process:.1f} images/s"
                f" for LocalStack on one core; {rate / min(cores, one_process):.0%} of the lower reached"
            )
