"""Benchmarks: the thumbnail and the renditions against their floors, and the pipeline end to end.

    make bench            (the emulator must be up: make up)
    .venv/bin/python bench/benchmark.py --only renditions     (no emulator needed)
    .venv/bin/python bench/benchmark.py --only budget         (the latency budget alone)

1. Thumbnail time per image, one core, for 1, 12 and 24 MP photo-like JPEGs (q90, 4:2:0):
   the pipeline's make_thumbnail, next to the floor (decoding the same JPEG at Pillow's smallest
   DCT scale with draft mode) and a naive baseline (Image.open(...).resize((300, 300))).
2. Upload -> row latency on a warm pipeline, p50/p95, one upload at a time.
3. Throughput for a burst of 200 parallel uploads: seconds until every upload is announced (on
   a queue subscribed to the topic), and the CPU the emulator and the functions spent on it.
4. Load: 300 parallel uploads, one in four invalid: every upload must end as exactly one
   PROCESSED or FAILED row, with one thumbnail per PROCESSED row; lost uploads are counted.
   2-4 run in both workflow modes, side by side: the emulator's stack (STACK_NAME) and its
   companion of the other mode (<STACK_NAME>-<mode>, deployed or brought up to date here, as the
   tests do), with what an upload costs in each: Lambda invocations and, in stepfunctions mode,
   state transitions (counted from an execution's history), the units AWS bills.
6. The latency budget (latency_budget.py): 30 warm 2 MP uploads, stage by stage from the S3 PUT
   to the notification, for the direct-mode stack and a thumbnail-only one
   (<STACK_NAME>-thumbnail-only); the same calls' service time from here; issue 12's goals.
   Charts (charts.py, matplotlib) go to --charts (build/bench; the README's: docs).
5. Renditions (no emulator): make_renditions with the default declaration on 2, 12 and 24 MP
   JPEGs, next to today's single thumbnail (make_thumbnail) and the floor: decoding at the DCT
   scale the largest rendition needs plus encoding each output once with the same settings
   (the outputs' pixels are prepared beforehand, untimed). Median and interquartile range, and
   the peak extra memory of floor and renditions. Memory is the process's peak resident set
   (VmHWM, reset through /proc/self/clear_refs), as Lambda's "Max Memory Used" counts it:
   tracemalloc cannot see it, Pillow allocates pixels with C malloc (it reports 0 MB for a
   48 MB image).
Figures are printed as ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))
sys.path.insert(0, str(ROOT))  # tests.e2e.messaging: how a queue subscribes to a topic

import boto3  # noqa: E402
import charts  # noqa: E402
import latency_budget  # noqa: E402
from botocore.exceptions import ClientError, EndpointConnectionError  # noqa: E402
from image_pipeline.imaging import (  # noqa: E402
    Watermark,
    encode_image,
    fit_within,
    make_renditions,
    make_thumbnail,
)
from image_pipeline.records import image_id  # noqa: E402
from image_pipeline.renditions import DEFAULT_RENDITIONS, parse_renditions  # noqa: E402
from imgpipe.settings import emulator_endpoint, emulator_setting  # noqa: E402
from PIL import Image  # noqa: E402

SIZES = {"1 MP": (1152, 864), "12 MP": (4000, 3000), "24 MP": (6000, 4000)}
RENDITION_SIZES = {"2 MP": (1632, 1224), "12 MP": (4000, 3000), "24 MP": (6000, 4000)}
STACK_NAME = emulator_setting("STACK_NAME")
WORKFLOWS = ("direct", "stepfunctions")
# What `make bench` passes; a run without make talks to the emulator of this checkout.
EMULATOR_ENVIRONMENT = {
    "AWS_ENDPOINT_URL": emulator_endpoint(),
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": emulator_setting("AWS_DEFAULT_REGION"),
}
# The default declaration's thumbnail, alone.
THUMBNAIL_ONLY = DEFAULT_RENDITIONS.split(",")[0]


def photo_like_jpeg(width: int, height: int) -> bytes:
    """Gradients plus sensor-like noise: entropy close to a real photo, so decoding costs as much."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 12)
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, subsampling="4:2:0")
    return buffer.getvalue()


def floor(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (image.width // 8, image.height // 8))
    image.load()


def naive(data: bytes) -> None:
    image = Image.open(io.BytesIO(data)).resize((300, 300))
    image.save(io.BytesIO(), "JPEG")


def pipeline(data: bytes) -> None:
    make_thumbnail(data)


def median_ms(function, data: bytes, repeat: int) -> float:
    return statistics.median(timings_ms(function, data, repeat))


def bench_thumbnails(repeat: int) -> dict[str, tuple[float, float, float]]:
    """Per size: floor, pipeline and naive medians (ms)."""
    figures = {}
    print("Thumbnail time per image (median ms, one core)")
    print(
        f"  {'size':6} {'floor (draft)':>14} {'pipeline':>10} {'vs floor':>9}"
        f" {'naive resize':>13} {'vs pipeline':>12}"
    )
    for label, (width, height) in SIZES.items():
        data = photo_like_jpeg(width, height)
        floor_ms = median_ms(floor, data, repeat)
        pipeline_ms = median_ms(pipeline, data, repeat)
        naive_ms = median_ms(naive, data, max(3, repeat // 3))
        print(
            f"  {label:6} {floor_ms:14.1f} {pipeline_ms:10.1f} {pipeline_ms / floor_ms:8.2f}x"
            f" {naive_ms:13.1f} {naive_ms / pipeline_ms:11.1f}x"
        )
        figures[label] = (floor_ms, pipeline_ms, naive_ms)
    return figures


def machine() -> str:
    """What the figures were measured on."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or model
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    software = f"Python {platform.python_version()}, Pillow {Image.__version__}"
    return f"{model}, {os.cpu_count()} cores, load average {load}; {software}"


def timings_ms(function, data: bytes, repeat: int) -> list[float]:
    function(data)  # warm-up: plugin registration, allocator, caches a warm Lambda has
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(data)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def spread(timings: list[float]) -> str:
    """Median [interquartile range], in ms."""
    low, median, high = statistics.quantiles(timings, n=4, method="inclusive")
    return f"{median:6.1f} [{low:.1f}-{high:.1f}]"


def _status_kb(name: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(name + ":"))


def peak_extra_mb(function, data: bytes, repeat: int = 3) -> float | None:
    """Peak resident memory above the level before the call, median of `repeat`; None off Linux."""
    peaks = []
    for _ in range(repeat):
        release_freed_memory()
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # resets VmHWM to the current resident size
        except OSError:
            return None
        before = _status_kb("VmRSS")
        function(data)
        peaks.append((_status_kb("VmHWM") - before) / 1024)
    return statistics.median(peaks)


def serve_large_allocations_with_mmap() -> None:
    """Freed pixels then leave the resident set, so each measurement sees its own peak (glibc
    would otherwise keep them in its heap and hand them out again, unseen by VmHWM)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: measure as it is
        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD, fixed from now on


def release_freed_memory() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class RenditionsFloor:
    """Decode at the DCT scale the largest rendition needs, and encode each output once."""

    def __init__(self, data: bytes, declaration: str, watermark: Watermark) -> None:
        specs = parse_renditions(declaration)
        rendered = make_renditions(data, specs, watermark)
        with Image.open(io.BytesIO(data)) as source:
            width, height = source.size
        sizes = [fit_within(width, height, spec.width, spec.height) for spec in specs]
        self.largest = max(sizes, key=lambda size: size[0] * size[1])
        # The outputs' pixels, as the engine hands them to the encoders (prepared, untimed).
        self.outputs = []
        for spec, rendition in zip(specs, rendered.renditions, strict=True):
            image = Image.open(io.BytesIO(rendition.data))
            image.load()
            image.info = {}
            self.outputs.append((image, rendition.format, spec.quality))

    def __call__(self, data: bytes) -> None:
        image = Image.open(io.BytesIO(data))
        image.draft(None, self.largest)
        image.load()
        for output, image_format, quality in self.outputs:
            encode_image(output, image_format, quality)


def bench_renditions(repeat: int) -> None:
    watermark = Watermark("© Zoë Müller")
    specs = parse_renditions(DEFAULT_RENDITIONS)
    print(f"Renditions per image, one core ({DEFAULT_RENDITIONS}), median ms [IQR] of {repeat} runs")
    print(
        f"  {'size':6} {'single thumbnail':>22} {'floor':>22} {'renditions':>22}"
        f" {'vs floor':>9} {'vs thumbnail':>13}"
    )
    cases = []
    for label, (width, height) in RENDITION_SIZES.items():
        data = photo_like_jpeg(width, height)
        floor_ = RenditionsFloor(data, DEFAULT_RENDITIONS, watermark)

        def renditions(data: bytes) -> None:
            make_renditions(data, specs, watermark)

        thumbnail_ms = timings_ms(pipeline, data, repeat)
        floor_ms = timings_ms(floor_, data, repeat)
        renditions_ms = timings_ms(renditions, data, repeat)
        cases.append((label, data, floor_, renditions))
        ratio = statistics.median(renditions_ms) / statistics.median(floor_ms)
        versus_thumbnail = statistics.median(renditions_ms) / statistics.median(thumbnail_ms)
        print(
            f"  {label:6} {spread(thumbnail_ms):>22} {spread(floor_ms):>22} {spread(renditions_ms):>22}"
            f" {ratio:8.2f}x {versus_thumbnail:12.2f}x"
        )
    # Last, as it changes how this process allocates (the timings above are as the function's).
    serve_large_allocations_with_mmap()
    print("Peak extra memory (resident MB above the level before the call, median of 3)")
    print(f"  {'size':6} {'floor':>8} {'renditions':>11} {'ratio':>7}")
    for label, data, floor_, renditions in cases:
        floor_mb, renditions_mb = peak_extra_mb(floor_, data), peak_extra_mb(renditions, data)
        if not floor_mb or renditions_mb is None:
            print(f"  {label:6} (not measurable here: needs Linux's /proc/self/clear_refs)")
            continue
        print(f"  {label:6} {floor_mb:8.1f} {renditions_mb:11.1f} {renditions_mb / floor_mb:6.2f}x")


class Pipeline:
    def __init__(self, stack_name: str = STACK_NAME) -> None:
        session = boto3.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            region_name=emulator_setting("AWS_DEFAULT_REGION"),
        )
        self.session, self.endpoint = session, emulator_endpoint()
        self.s3 = session.client("s3", endpoint_url=self.endpoint)
        self.dynamodb = session.client("dynamodb", endpoint_url=self.endpoint)
        self.sns = session.client("sns", endpoint_url=self.endpoint)
        self.stepfunctions = session.client("stepfunctions", endpoint_url=self.endpoint)
        stack = session.client("cloudformation", endpoint_url=self.endpoint).describe_stacks(
            StackName=stack_name
        )
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Stacks"][0]["Outputs"]}
        self.outputs = outputs
        self.stack_name = stack_name
        self.workflow = outputs.get("Workflow", "direct")
        self.uploads, self.table = outputs["UploadsBucketName"], outputs["ImageMetadataTableName"]
        self.thumbnails = outputs["ThumbnailsBucketName"]
        self.prefix = f"bench/{uuid.uuid4().hex[:8]}/"
        self.keys: list[str] = []

    def function_timeout_ms(self) -> int:
        functions = self.session.client("lambda", endpoint_url=self.endpoint)
        configuration = functions.get_function_configuration(
            FunctionName=self.outputs["ImageProcessorFunctionName"]
        )
        return configuration["Timeout"] * 1000

    def upload(self, name: str, data: bytes) -> str:
        key = self.prefix + name
        self.s3.put_object(Bucket=self.uploads, Key=key, Body=data, ContentType="image/jpeg")
        self.keys.append(key)
        return key

    def row(self, key: str) -> dict | None:
        return self.dynamodb.get_item(
            TableName=self.table, Key={"ImageID": {"S": image_id(self.uploads, key)}}, ConsistentRead=True
        ).get("Item")

    def wait_for_row(self, key: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = self.row(key)
            if item and item["Status"]["S"] in ("PROCESSED", "FAILED"):
                return item
            time.sleep(0.005)
        raise TimeoutError(f"no final row for {key} within {timeout} s")

    def row_status(self, key: str) -> str | None:
        item = self.row(key)
        return item["Status"]["S"] if item else None

    def thumbnail_count(self, name_prefix: str) -> int:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.thumbnails, Prefix=f"renditions/thumbnail/{self.prefix}{name_prefix}"
        )
        return sum(len(page.get("Contents", [])) for page in pages)

    def clean_up(self, timeout: float = 180) -> None:
        """Deleting the uploads is enough: the pipeline removes their rows and thumbnails. Waits
        until it has, so that the next measurement does not share the machine with the removals."""
        for key in self.keys:
            self.s3.delete_object(Bucket=self.uploads, Key=key)
        deadline = time.monotonic() + timeout
        for key in self.keys:
            while time.monotonic() < deadline:
                item = self.dynamodb.get_item(
                    TableName=self.table, Key={"ImageID": {"S": image_id(self.uploads, key)}}
                ).get("Item")
                if item is None or item["Status"]["S"] == "DELETED":
                    break
                time.sleep(0.05)


def bench_latency(pipeline_: Pipeline, count: int) -> list[float]:
    """Upload -> row, one upload at a time on a warm pipeline (ms)."""
    data = photo_like_jpeg(*SIZES["1 MP"])
    pipeline_.wait_for_row(pipeline_.upload("warm-up.jpg", data))  # warm functions from here on
    latencies = []
    for number in range(count):
        started = time.perf_counter()
        pipeline_.wait_for_row(pipeline_.upload(f"latency-{number}.jpg", data))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def costs_per_upload(pipeline_: Pipeline) -> tuple[int, int | None]:
    """Lambda invocations and Step Functions state transitions one processed upload takes: direct
    mode, one invocation; stepfunctions mode, counted from the history of the last upload's
    execution (the starter, plus each Lambda task; every state entered is a billed transition)."""
    if pipeline_.workflow == "direct":
        return 1, None
    execution_arn = pipeline_.wait_for_row(pipeline_.keys[-1])["ExecutionArn"]["S"]
    while pipeline_.stepfunctions.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
        time.sleep(0.05)  # the row is written before the notification is published
    history = pipeline_.stepfunctions.get_execution_history(
        executionArn=execution_arn, includeExecutionData=False
    )["events"]
    transitions = sum(1 for event in history if event["type"].endswith("StateEntered"))
    tasks = sum(1 for event in history if event["type"] == "LambdaFunctionScheduled")
    return 1 + tasks, transitions


def upload_in_parallel(pipeline_: Pipeline, name: str, payloads: list[bytes]) -> list[str]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(
            pool.map(
                lambda numbered: pipeline_.upload(f"{name}-{numbered[0]}.jpg", numbered[1]),
                enumerate(payloads),
            )
        )


def emulator_cpu_seconds() -> tuple[float, float] | None:
    """CPU seconds used so far by the host-mode emulator (LocalStack's process) and by its
    descendants (the functions' runtimes), from /proc; None where that cannot be read (Docker
    mode, another OS)."""
    pid_file = ROOT / ".localstack" / "emulator.pid"
    mode_file = ROOT / ".localstack" / "emulator.mode"
    if not (pid_file.is_file() and mode_file.is_file() and mode_file.read_text().strip() == "host"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            # utime, stime and the children's that were waited for (runtimes replaced meanwhile)
            used[pid] = sum(int(value) for value in fields[11:15]) / ticks
    root = int(pid_file.read_text())
    if root not in used:
        return None

    def descends(pid: int) -> bool:
        while pid in parents and pid > 1:
            pid = parents[pid]
            if pid == root:
                return True
        return False

    return used[root], sum(seconds for pid, seconds in used.items() if descends(pid))


def bench_burst(pipeline_: Pipeline, count: int) -> tuple[float, float, tuple[float, float] | None]:
    """Seconds until all of a burst is uploaded, and until every upload is announced (its row
    written: the notification follows the row); and the CPU seconds the emulator and the
    functions spent on it (host mode). Waits on the notifications, not by polling the rows: a
    poll every few ms per upload would cost the emulator more CPU than some of what it measures."""
    data = photo_like_jpeg(*SIZES["1 MP"])
    with latency_budget.NotificationQueue(pipeline_) as notifications:
        cpu_before = emulator_cpu_seconds()
        started = time.perf_counter()
        keys = upload_in_parallel(pipeline_, "burst", [data] * count)
        uploaded = time.perf_counter() - started
        announced = notifications.wait_for({image_id(pipeline_.uploads, key) for key in keys}, timeout=180)
        elapsed = time.perf_counter() - started
        cpu_after = emulator_cpu_seconds()
    if len(announced) != count:
        raise SystemExit(f"burst: {count - len(announced)} of {count} uploads were never announced")
    unsettled = [key for key in keys if pipeline_.row_status(key) != "PROCESSED"]
    if unsettled:
        raise SystemExit(f"burst: {len(unsettled)} announced uploads have no PROCESSED row")
    cpu = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]) if cpu_before and cpu_after else None
    return uploaded, elapsed, cpu


def cpu_per_upload(cpu: tuple[float, float] | None, which: int, count: int) -> str:
    return "n/a" if cpu is None else f"{cpu[which] / count * 1000:.0f} ms"


def print_modes(results: dict[str, dict], latency_uploads: int, burst: int) -> None:
    """The two workflow modes side by side."""
    modes = list(results)
    print(f"\nWorkflow modes, side by side (1 MP JPEG; {latency_uploads} sequential uploads, burst {burst})")
    print(f"  {'':34}" + "".join(f"{mode:>16}" for mode in modes))
    rows = {
        "upload -> row p50": lambda r: f"{statistics.median(r['latency']):.0f} ms",
        "upload -> row p95": lambda r: f"{latency_budget.percentile(r['latency'], 0.95):.0f} ms",
        "upload -> row min / max": lambda r: f"{min(r['latency']):.0f} / {max(r['latency']):.0f}",
        f"burst of {burst}: images/s": lambda r: f"{burst / r['burst'][1]:.1f}",
        "  CPU per upload: LocalStack": lambda r: cpu_per_upload(r["burst"][2], 0, burst),
        "  CPU per upload: functions": lambda r: cpu_per_upload(r["burst"][2], 1, burst),
        "Lambda invocations per upload": lambda r: str(r["invocations"]),
        "state transitions per upload": lambda r: "-" if r["transitions"] is None else str(r["transitions"]),
    }
    for label, cell in rows.items():
        print(f"  {label:34}" + "".join(f"{cell(results[mode]):>16}" for mode in modes))


def bench_mixed_load(pipeline_: Pipeline, count: int) -> None:
    valid = photo_like_jpeg(*SIZES["1 MP"])
    invalid = (b"not an image" * 50, valid[:3000], b"")

    def payload(number: int) -> bytes:
        return invalid[number % 3] if number % 4 == 3 else valid

    with latency_budget.NotificationQueue(pipeline_) as notifications:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            keys = list(
                pool.map(lambda number: pipeline_.upload(f"load-{number}.jpg", payload(number)), range(count))
            )
        notifications.wait_for({image_id(pipeline_.uploads, key) for key in keys}, timeout=180)
        elapsed = time.perf_counter() - started
    # Every upload counted from its row: one missing or not final is lost.
    statuses: dict[str, int] = {}
    for key in keys:
        status = pipeline_.row_status(key) or "no row"
        statuses[status] = statuses.get(status, 0) + 1
    lost = count - statuses.get("PROCESSED", 0) - statuses.get("FAILED", 0)
    expected_failed = sum(1 for number in range(count) if number % 4 == 3)
    thumbnails = pipeline_.thumbnail_count("load-")
    print(f"Load: {count} parallel uploads, {expected_failed} of them invalid")
    print(
        f"  {statuses.get('PROCESSED', 0)} PROCESSED, {statuses.get('FAILED', 0)} FAILED, {lost} lost,"
        f" {thumbnails} thumbnails; all settled after {elapsed:.1f} s: {count / elapsed:.1f} uploads/s"
    )
    if lost or statuses.get("FAILED", 0) != expected_failed or thumbnails != statuses.get("PROCESSED", 0):
        raise SystemExit("load: the outcome does not add up (see above)")


def pipeline_of_workflow(workflow: str, main: Pipeline) -> Pipeline:
    """The emulator's stack in that mode: STACK_NAME's (`main`), or its companion."""
    if workflow == main.workflow:
        return main
    return companion_stack(workflow, {"WORKFLOW": workflow}, f"a {workflow}-mode stack")


def companion_stack(suffix: str, parameters: dict[str, str], what: str) -> Pipeline:
    """<STACK_NAME>-<suffix>, beside STACK_NAME with these template parameters (as environment
    variables, like make's): deployed, or brought up to date with this checkout's code (a stack
    left by an older checkout would measure old code), as the tests do."""
    name = f"{STACK_NAME}-{suffix}"
    print(f"(deploying {name}, {what} beside {STACK_NAME}, to measure it)")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy_stack.py"), "deploy", "--stack-name", name],
        env={**EMULATOR_ENVIRONMENT, **os.environ, **parameters, "HOT_RELOAD": ""},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return Pipeline(name)


def thumbnail_only_stack() -> Pipeline:
    """A direct-mode stack that makes the default thumbnail alone: the pipeline as it was when
    issue 12's goals were set, so its budget shows what is not image work."""
    return companion_stack(
        "thumbnail-only",
        {"WORKFLOW": "direct", "RENDITIONS": THUMBNAIL_ONLY},
        "a stack making only the thumbnail",
    )


def measure_budget(pipeline_: Pipeline, count: int) -> latency_budget.Budget:
    data = photo_like_jpeg(*RENDITION_SIZES["2 MP"])
    try:
        uploads = latency_budget.measure_uploads(pipeline_, data, count)
        service = latency_budget.service_times(pipeline_, data, count)
    finally:
        pipeline_.clean_up()
    return latency_budget.Budget(uploads, service)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per thumbnail measurement")
    parser.add_argument("--latency-uploads", type=int, default=40)
    parser.add_argument("--budget-uploads", type=int, default=30, help="uploads the latency budget follows")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--load", type=int, default=300, help="mixed valid/invalid uploads")
    parser.add_argument("--thumbnails-only", action="store_true", help="skip the end-to-end figures")
    parser.add_argument(
        "--charts",
        type=Path,
        default=ROOT / "build" / "bench",
        help="where the charts go (the README's come from a run with --charts docs)",
    )
    parser.add_argument(
        "--workflows", default=",".join(WORKFLOWS), help="the workflow modes to measure end to end"
    )
    parser.add_argument(
        "--only",
        choices=("thumbnails", "renditions", "budget"),
        help="one section: thumbnails and renditions need no emulator, budget does",
    )
    args = parser.parse_args()

    end_to_end = not args.thumbnails_only and args.only in (None, "budget")
    try:
        # Before minutes of image benchmarks: is there a pipeline to measure end to end?
        pipeline_ = Pipeline() if end_to_end else None
    except (EndpointConnectionError, ClientError) as error:
        print(f"error: the end-to-end benchmarks need the pipeline (`make up`): {error}", file=sys.stderr)
        print("  (bench/benchmark.py --only renditions|thumbnails runs without it)", file=sys.stderr)
        return 1
    measured_on = machine()
    print(f"Machine: {measured_on}")
    drawing = charts.pyplot() is not None
    if drawing:
        args.charts.mkdir(parents=True, exist_ok=True)
    else:
        print("(no charts: matplotlib is not installed; make venv installs it)")
    if args.only in (None, "thumbnails"):
        figures = bench_thumbnails(args.repeat)
        if drawing:
            charts.thumbnail_chart(args.charts / "bench-thumbnails.png", figures, measured_on)
    if args.only in (None, "renditions"):
        bench_renditions(args.repeat)
    if pipeline_ is None:
        return 0
    budgets: dict[str, latency_budget.Budget] = {}
    bursts: dict[str, tuple[int, float, tuple[float, float] | None]] = {}
    if "direct" in args.workflows.split(","):
        direct, thumbnail_only = pipeline_of_workflow("direct", pipeline_), thumbnail_only_stack()
        renditions = len(parse_renditions(direct.outputs["Renditions"]))
        budgets[f"{renditions} renditions"] = measure_budget(direct, args.budget_uploads)
        budgets["thumbnail only"] = measure_budget(thumbnail_only, args.budget_uploads)
        latency_budget.print_budget(budgets)
        if drawing:
            medians = {
                label: {line: budget.median_line(line) for line in budget.lines[0]}
                for label, budget in budgets.items()
            }
            charts.budget_chart(args.charts / "bench-latency-budget.png", medians, measured_on)
        if args.only != "budget":
            try:
                bursts["thumbnail only"] = (args.burst, *bench_burst(thumbnail_only, args.burst)[1:])
            finally:
                thumbnail_only.clean_up()
    if args.only == "budget":
        latency_budget.print_goals(budgets, bursts)
        return 0
    results: dict[str, dict] = {}
    for workflow in args.workflows.split(","):
        measured = pipeline_of_workflow(workflow, pipeline_)
        print(f"\n{workflow} mode: stack {measured.stack_name}")
        try:
            latency = bench_latency(measured, args.latency_uploads)
            invocations, transitions = costs_per_upload(measured)
            burst = bench_burst(measured, args.burst)
            print(
                f"Burst of {args.burst}: all uploaded after {burst[0]:.1f} s,"
                f" all announced after {burst[1]:.1f} s"
            )
            bench_mixed_load(measured, args.load)
        finally:
            measured.clean_up()
        results[workflow] = {
            "latency": latency,
            "burst": burst,
            "invocations": invocations,
            "transitions": transitions,
        }
    print_modes(results, args.latency_uploads, args.burst)
    if "direct" in results:
        bursts = {f"{renditions} renditions": (args.burst, *results["direct"]["burst"][1:]), **bursts}
    latency_budget.print_goals(budgets, bursts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
