"""Shared helpers for the Sluice compatibility suite.

Oracle: /work/shared/reference/esm-ground-truth.md (section 1) and
/work/shared/reference/aws-semantics.md (sections 1, 3.6, 3.7).

Only polling loops with a deadline are used to wait for asynchronous work;
there are no fixed sleeps.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid as _uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# ---------------------------------------------------------------------------
# Constants (server defaults: region us-east-1, account 000000000000)
# ---------------------------------------------------------------------------

REGION = "us-east-1"
ACCOUNT = "000000000000"

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
FIFO_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs.fifo"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
DDB_STREAM_LABEL = "2026-01-01T00:00:00.000"
DDB_STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/users/stream/{DDB_STREAM_LABEL}"

MISSING_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:does-not-exist"
MISSING_STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/does-not-exist"
MISSING_DDB_STREAM_ARN = (
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/does-not-exist/stream/{DDB_STREAM_LABEL}"
)

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
URL_FUNCTION = "echo"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Ground truth 1.4: exact key sets of EventSourceMappingConfiguration per source.
SQS_KEYS = frozenset(
    {
        "BatchSize",
        "EventSourceArn",
        "EventSourceMappingArn",
        "FunctionArn",
        "FunctionResponseTypes",
        "LastModified",
        "MaximumBatchingWindowInSeconds",
        "State",
        "StateTransitionReason",
        "UUID",
    }
)
STREAM_KEYS = frozenset(
    {
        "BatchSize",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
        "EventSourceArn",
        "EventSourceMappingArn",
        "FunctionArn",
        "FunctionResponseTypes",
        "LastModified",
        "LastProcessingResult",
        "MaximumBatchingWindowInSeconds",
        "MaximumRecordAgeInSeconds",
        "MaximumRetryAttempts",
        "ParallelizationFactor",
        "StartingPosition",
        "State",
        "StateTransitionReason",
        "TumblingWindowInSeconds",
        "UUID",
    }
)
STABLE_STATES = ("Enabled", "Disabled")

MSG_NOT_FOUND = "The resource you requested does not exist."

DEFAULT_STATE_TIMEOUT = 5.0
POLL_INTERVAL = 0.05


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def esm_arn(uuid: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{uuid}"


def unique_name(prefix: str = "fn") -> str:
    return f"{prefix}-{_uuid.uuid4().hex[:12]}"


def config_keys(resp: dict) -> set:
    """Keys of an ESM configuration, without botocore's ResponseMetadata."""
    return set(resp) - {"ResponseMetadata"}


def strip_volatile(resp: dict) -> dict:
    """Configuration minus fields that legitimately change between calls."""
    return {k: v for k, v in resp.items() if k not in ("ResponseMetadata", "State", "LastModified")}


def status_of(resp: dict) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------------------
# Polling with a deadline (the only permitted waiting pattern)
# ---------------------------------------------------------------------------


def poll_until(probe, timeout: float = DEFAULT_STATE_TIMEOUT, interval: float = POLL_INTERVAL, what: str = "condition"):
    """Call probe() -> (done, value) until done or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        done, last = probe()
        if done:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last observed: {last!r}")
        time.sleep(interval)


def wait_state(client, uuid: str, state: str, timeout: float = DEFAULT_STATE_TIMEOUT) -> dict:
    def probe():
        resp = client.get_event_source_mapping(UUID=uuid)
        return resp["State"] == state, resp

    return poll_until(probe, timeout, what=f"mapping {uuid} to reach State={state}")


def wait_stable(client, uuid: str, timeout: float = DEFAULT_STATE_TIMEOUT) -> dict | None:
    """Wait for Enabled/Disabled (or gone). Returns the Get response or None if gone."""

    def probe():
        try:
            resp = client.get_event_source_mapping(UUID=uuid)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return True, None
            raise
        return resp["State"] in STABLE_STATES or resp["State"] == "Deleting", resp

    return poll_until(probe, timeout, what=f"mapping {uuid} to reach a stable state")


def wait_gone(client, uuid: str, timeout: float = DEFAULT_STATE_TIMEOUT) -> None:
    def probe():
        try:
            resp = client.get_event_source_mapping(UUID=uuid)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return True, e.response
            raise
        return False, resp.get("State")

    poll_until(probe, timeout, what=f"mapping {uuid} to disappear after Delete")


def list_all_uuids(client, **filters) -> list:
    """All mapping UUIDs via manual Marker paging (no paginator)."""
    out = []
    marker = None
    for _ in range(1000):
        kwargs = dict(filters)
        if marker:
            kwargs["Marker"] = marker
        resp = client.list_event_source_mappings(**kwargs)
        out.extend(m["UUID"] for m in resp["EventSourceMappings"])
        marker = resp.get("NextMarker")
        if not marker:
            return out
    raise AssertionError("ListEventSourceMappings never stopped returning NextMarker")


def expect_client_error(fn, code: str, status: int, message: str | None = None) -> dict:
    """Run fn, require a ClientError with this code / HTTP status (/ exact message)."""
    try:
        result = fn()
    except ClientError as e:
        err = e.response
    else:
        raise AssertionError(f"expected {code} ({status}) but the call succeeded: {result!r}")
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    if message is not None:
        assert err["Error"]["Message"] == message, err
    return err


# ---------------------------------------------------------------------------
# Clients and artefacts
# ---------------------------------------------------------------------------


def lambda_client(endpoint: str, parameter_validation: bool = True):
    cfg = Config(
        region_name=REGION,
        retries={"max_attempts": 1},
        connect_timeout=5,
        read_timeout=30,
        parameter_validation=parameter_validation,
    )
    return boto3.session.Session().client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def make_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def create_function(client, name: str, **extra) -> dict:
    params = dict(
        FunctionName=name,
        Role=ROLE_ARN,
        Runtime="python3.12",
        Handler="index.handler",
        Code={"ZipFile": make_zip()},
    )
    params.update(extra)
    return client.create_function(**params)


def config_toml(function_port: int) -> str:
    return f"""# written by compat/conftest.py
[[functions]]
name = "{URL_FUNCTION}"
url = "http://127.0.0.1:{function_port}/"
timeout = 3

[[streams]]
name = "orders"
shards = 1

[[queues]]
name = "jobs"

[[queues]]
name = "jobs.fifo"

[[queues]]
name = "dlq"

[[topics]]
name = "alerts"

[[tables]]
name = "users"
stream_label = "{DDB_STREAM_LABEL}"
stream_view_type = "NEW_AND_OLD_IMAGES"
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------


class SluiceServer:
    """One `sluice serve` process (restartable on the same data dir)."""

    def __init__(self, binary: Path, data_dir: Path, config_path: Path, log_dir: Path, extra_args=()):
        self.extra_args = list(extra_args)
        self.binary = Path(binary)
        self.data_dir = Path(data_dir)
        self.config_path = Path(config_path)
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._runs = 0
        self._stderr_path: Path | None = None
        self._stdout_path: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list:
        return [
            str(self.binary),
            "serve",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--data-dir",
            str(self.data_dir),
            "--config",
            str(self.config_path),
            *self.extra_args,
        ]

    def spawn(self) -> subprocess.Popen:
        self._runs += 1
        self.port = free_port()
        self._stdout_path = self.log_dir / f"run{self._runs}.stdout"
        self._stderr_path = self.log_dir / f"run{self._runs}.stderr"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
            )
        return self.proc

    def start(self, timeout: float = 10.0) -> "SluiceServer":
        self.spawn()
        self.wait_healthy(timeout)
        return self

    def stderr_text(self) -> str:
        if self._stderr_path and self._stderr_path.exists():
            return self._stderr_path.read_text(errors="replace")
        return ""

    def wait_healthy(self, timeout: float = 10.0) -> None:
        url = f"{self.endpoint}/_sluice/health"
        deadline = time.monotonic() + timeout
        last = None
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    f"sluice exited with {rc} before becoming healthy; stderr:\n{self.stderr_text()[-4000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except (urllib.error.URLError, OSError) as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(
                    f"sluice not healthy within {timeout}s (last: {last}); stderr:\n{self.stderr_text()[-4000:]}"
                )
            time.sleep(POLL_INTERVAL)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code (kills and fails on timeout)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"sluice did not exit within {timeout}s of SIGTERM")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def client(self, parameter_validation: bool = True):
        return lambda_client(self.endpoint, parameter_validation)


# ---------------------------------------------------------------------------
# In-test HTTP function server
# ---------------------------------------------------------------------------


class FunctionServer:
    """Records the JSON bodies POSTed to it and answers a scripted response."""

    DEFAULT_BODY = b'{"ok": true}'

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: list = []
        self._status = 200
        self._body = self.DEFAULT_BODY
        self._headers = {"Content-Type": "application/json"}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self):
                raw = self._read_body()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = None
                with owner._lock:
                    owner._requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "raw": raw,
                            "json": parsed,
                        }
                    )
                    status, body, headers = owner._status, owner._body, dict(owner._headers)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = _handle
            do_PUT = _handle
            do_GET = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="function-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> "FunctionServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._status = 200
            self._body = self.DEFAULT_BODY
            self._headers = {"Content-Type": "application/json"}

    def script(self, status: int = 200, body=DEFAULT_BODY, headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._status = status
            self._body = body
            self._headers = headers if headers is not None else {"Content-Type": "application/json"}

    @property
    def requests(self) -> list:
        with self._lock:
            return list(self._requests)

    def bodies(self) -> list:
        return [r["json"] for r in self.requests]

    def wait_for_body(self, expected, timeout: float = DEFAULT_STATE_TIMEOUT):
        def probe():
            bodies = self.bodies()
            return expected in bodies, bodies

        return poll_until(probe, timeout, what=f"function server to receive {expected!r}")


# ---------------------------------------------------------------------------
# Mapping bookkeeping for cleanup
# ---------------------------------------------------------------------------


class MappingTracker:
    """Creates mappings and deletes them (waiting until gone) at teardown."""

    def __init__(self, client):
        self.client = client
        self.uuids: list = []

    def create(self, client=None, **kwargs) -> dict:
        client = client or self.client
        resp = client.create_event_source_mapping(**kwargs)
        self.track(resp["UUID"])
        return resp

    def track(self, uuid: str) -> None:
        if uuid not in self.uuids:
            self.uuids.append(uuid)

    def cleanup(self) -> None:
        problems = []
        for uuid in self.uuids:
            try:
                resp = wait_stable(self.client, uuid)
                if resp is None:
                    continue
                if resp["State"] != "Deleting":
                    try:
                        self.client.delete_event_source_mapping(UUID=uuid)
                    except ClientError as e:
                        if e.response["Error"]["Code"] != "ResourceNotFoundException":
                            raise
                wait_gone(self.client, uuid)
            except Exception as e:  # collect, report all at the end
                problems.append(f"{uuid}: {e!r}")
        self.uuids.clear()
        if problems:
            raise AssertionError("mapping cleanup failed:\n" + "\n".join(problems))


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class WireRecorder:
    """A Lambda client that also keeps the raw (undecoded) response bodies."""

    def __init__(self, endpoint: str):
        self.client = lambda_client(endpoint, parameter_validation=False)
        self.bodies: list = []
        self.client.meta.events.register("before-parse.lambda.*", self._record)

    def _record(self, response_dict=None, **_):
        body = response_dict.get("body") if response_dict else None
        if isinstance(body, (bytes, bytearray)):
            self.bodies.append(bytes(body))

    def last_json(self):
        assert self.bodies, "no response recorded"
        return json.loads(self.bodies[-1])


# ---------------------------------------------------------------------------
# Embedded Kinesis (JSON 1.1). Oracle: aws-semantics.md section 3.1 and botocore's
# kinesis model (service-2.json, waiters-2.json, paginators-1.json).
# ---------------------------------------------------------------------------

MAX_HASH_KEY = 2**128 - 1
MAX_RECORD_BYTES = 1024 * 1024  # data blob + partition key (UTF-8), per record
SEQUENCE_RE = re.compile(r"^[1-9][0-9]{55}$")  # AWS sequence numbers are 56 decimal digits
SHARD_ID_RE = re.compile(r"^shardId-[0-9]{12}$")


def kinesis_client(endpoint: str, parameter_validation: bool = True, millisecond_timestamps: bool = False):
    """boto3 Kinesis client without retries.

    botocore sends request timestamps (AT_TIMESTAMP, ShardFilter.Timestamp) as whole epoch seconds
    by default; ``millisecond_timestamps=True`` switches its serializer to millisecond precision
    (botocore's own ``enable_millisecond_timestamp_precision`` hook).
    """
    from botocore.handlers import enable_millisecond_timestamp_precision

    cfg = Config(
        region_name=REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        parameter_validation=parameter_validation,
    )
    session = boto3.session.Session()
    if millisecond_timestamps:
        session.events.register("creating-serializer.kinesis", enable_millisecond_timestamp_precision)
    return session.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def sqs_client(endpoint: str, parameter_validation: bool = True):
    """boto3 SQS client (JSON 1.0 protocol) without retries."""
    cfg = Config(
        region_name=REGION,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=40,
        parameter_validation=parameter_validation,
    )
    return boto3.session.Session().client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


def queue_url(endpoint: str, name: str) -> str:
    return f"{endpoint}/{ACCOUNT}/{name}"


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def msg_stream_not_found(name: str) -> str:
    return f"Stream {name} under account {ACCOUNT} not found."


def hash_key_of(partition_key: str) -> int:
    """Kinesis routing: MD5 of the UTF-8 partition key as an unsigned 128-bit big-endian integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def hash_range(shard: dict) -> tuple:
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def is_open(shard: dict) -> bool:
    return "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def shard_for_hash(shards: list, hash_key: int) -> str:
    """ShardId of the one open shard whose HashKeyRange contains hash_key."""
    hits = [s["ShardId"] for s in shards if is_open(s) and hash_range(s)[0] <= hash_key <= hash_range(s)[1]]
    assert len(hits) == 1, f"hash key {hash_key} is in {len(hits)} open shards: {hits}"
    return hits[0]


def assert_covers_hash_space(shards: list) -> None:
    """The shards' hash ranges are contiguous, non-overlapping and cover 0..2^128-1."""
    ranges = sorted(hash_range(s) for s in shards)
    assert ranges, "no shards"
    assert ranges[0][0] == 0, ranges
    assert ranges[-1][1] == MAX_HASH_KEY, ranges
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        assert start == end + 1, ranges


def list_all_shards(client, **kwargs) -> list:
    """ListShards with manual NextToken paging (NextToken excludes StreamName on later pages)."""
    out = []
    resp = client.list_shards(**kwargs)
    for _ in range(1000):
        out.extend(resp["Shards"])
        token = resp.get("NextToken")
        if not token:
            return out
        extra = {k: v for k, v in kwargs.items() if k == "MaxResults"}
        resp = client.list_shards(NextToken=token, **extra)
    raise AssertionError("ListShards never stopped returning NextToken")


def read_shard(client, shard_iterator: str, limit: int | None = None, max_calls: int = 1000) -> tuple:
    """GetRecords from shard_iterator until the end: (records, responses).

    Stops at the end of a closed shard (no NextShardIterator) or, for an open shard, at the first
    response without records whose MillisBehindLatest is 0 (caught up).
    """
    records, responses = [], []
    it = shard_iterator
    for _ in range(max_calls):
        kwargs = {"ShardIterator": it}
        if limit is not None:
            kwargs["Limit"] = limit
        resp = client.get_records(**kwargs)
        responses.append(resp)
        records.extend(resp["Records"])
        it = resp.get("NextShardIterator")
        if not it:
            return records, responses
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            return records, responses
    raise AssertionError(f"shard not read to its end within {max_calls} GetRecords calls")


def read_shard_from(client, stream: str, shard_id: str, iterator_type: str = "TRIM_HORIZON", **extra) -> list:
    it = client.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=iterator_type, **extra)
    return read_shard(client, it["ShardIterator"])[0]


def wait_stream_active(client, name: str, timeout: float = DEFAULT_STATE_TIMEOUT) -> dict:
    """Poll DescribeStreamSummary until ACTIVE (resharding is UPDATING on AWS for a while)."""

    def probe():
        summary = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        return summary["StreamStatus"] == "ACTIVE", summary

    return poll_until(probe, timeout, what=f"stream {name} to be ACTIVE")


def wait_clock_past(instant: _dt.datetime, margin: float) -> None:
    """Wait until the wall clock is at least `margin` seconds past `instant` (a clock wait, not a work wait)."""
    target = instant.timestamp() + margin
    poll_until(lambda: (time.time() >= target, time.time()), timeout=margin + 5.0, interval=0.005,
               what=f"the clock to pass {instant.isoformat()} + {margin}s")
