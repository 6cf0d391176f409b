"""Fixtures for the Sluice compatibility suite.

* ``sluice``      – session server: ``sluice serve --listen 127.0.0.1:<port> --data-dir <tmp>
                    --config <tmp>/sluice.toml``; healthy when GET /_sluice/health -> 200
                    (polled, 10 s deadline); SIGTERM at the end, must exit 0 within 10 s.
* ``lam``         – boto3 Lambda client (us-east-1, test/test, retries max_attempts=1).
* ``lam_raw``     – same, with client-side parameter validation off (to send out-of-range
                    values such as BatchSize=0 to the server).
* ``aws_cli``     – runs ``python -m awscli lambda ... --endpoint-url ... --region us-east-1 --output json``.
* ``function_server`` – in-test HTTP function (the config's ``echo`` function points at it).
* ``wire``        – client recording raw response bodies (wire-format checks).
* ``esm``         – creates mappings and deletes them (waiting until gone) at teardown.
* ``make_function`` – creates uniquely named functions through CreateFunction.
* ``server_factory`` – private (non-session) servers on their own data dirs.
* ``kin`` / ``kin_raw`` – boto3 Kinesis clients (no retries; ``kin_raw`` without client-side validation).
* ``make_stream`` – creates uniquely named Kinesis streams and deletes them at teardown.
* ``sqs`` / ``sqs_raw`` – boto3 SQS clients (JSON protocol, no retries; ``sqs_raw`` without
                    client-side validation).
* ``make_queue``  – creates uniquely named SQS queues and deletes them at teardown.
* ``kinesis_cli`` – runs ``python -m awscli kinesis ... --endpoint-url ... --region us-east-1 --output json``.

Binary: env ``SLUICE_BIN``, default ``<repo>/target/debug/sluice``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sluice_compat import (
    REGION,
    FunctionServer,
    MappingTracker,
    SluiceServer,
    WireRecorder,
    config_toml,
    create_function,
    kinesis_client,
    lambda_client,
    sqs_client,
    unique_name,
)

REPO = Path(__file__).resolve().parent.parent


def _binary() -> Path:
    return Path(os.environ.get("SLUICE_BIN") or REPO / "target" / "debug" / "sluice")


@pytest.fixture(scope="session")
def sluice_bin() -> Path:
    path = _binary()
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"sluice binary not found or not executable: {path} (set SLUICE_BIN)")
    return path


@pytest.fixture(scope="session")
def fn_server():
    server = FunctionServer().start()
    yield server
    server.stop()


@pytest.fixture
def function_server(fn_server):
    """The session function server, reset (no recorded requests, 200 + default body)."""
    fn_server.reset()
    yield fn_server
    fn_server.reset()


def write_config(path: Path, fn_server: FunctionServer) -> Path:
    path.write_text(config_toml(fn_server.port))
    return path


@pytest.fixture(scope="session")
def sluice(sluice_bin, fn_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("sluice-session")
    data_dir = root / "data"
    data_dir.mkdir()
    config = write_config(root / "sluice.toml", fn_server)
    server = SluiceServer(sluice_bin, data_dir, config, root / "logs")
    server.start(timeout=10.0)
    yield server
    rc = server.stop(timeout=10.0)
    assert rc == 0, f"sluice exited with {rc} after SIGTERM; stderr tail:\n{server.stderr_text()[-4000:]}"


@pytest.fixture(scope="session")
def endpoint(sluice) -> str:
    return sluice.endpoint


@pytest.fixture(scope="session")
def lam(endpoint):
    return lambda_client(endpoint)


@pytest.fixture(scope="session")
def lam_raw(endpoint):
    return lambda_client(endpoint, parameter_validation=False)


@pytest.fixture
def wire(endpoint) -> WireRecorder:
    """A client (no client-side validation) whose raw response bodies are recorded."""
    return WireRecorder(endpoint)


@pytest.fixture
def esm(lam):
    tracker = MappingTracker(lam)
    yield tracker
    tracker.cleanup()


@pytest.fixture
def make_function(lam):
    """make_function(prefix="fn", **CreateFunction extras) -> function name."""

    def factory(prefix: str = "fn", **extra) -> str:
        name = unique_name(prefix)
        resp = create_function(lam, name, **extra)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201, resp
        return name

    return factory


@pytest.fixture
def fn(make_function) -> str:
    """One fresh function for the test."""
    return make_function()


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return f"CliResult(rc={self.returncode}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),
    )
    return env


@pytest.fixture(scope="session")
def aws_cli(endpoint, cli_env):
    """aws_cli("get-event-source-mapping", "--uuid", u) -> CliResult (no exception on failure)."""

    def run(*args: str, timeout: float = 60) -> CliResult:
        cmd = [
            sys.executable,
            "-m",
            "awscli",
            "lambda",
            *args,
            "--endpoint-url",
            endpoint,
            "--region",
            REGION,
            "--output",
            "json",
        ]
        proc = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=timeout)
        return CliResult(proc)

    return run


@pytest.fixture
def server_factory(sluice_bin, fn_server, tmp_path):
    """server_factory(data_dir, extra_args=()) -> unstarted SluiceServer with its own config and logs."""
    servers = []
    config = write_config(tmp_path / "private-sluice.toml", fn_server)

    def factory(data_dir: Path, extra_args=()) -> SluiceServer:
        server = SluiceServer(sluice_bin, data_dir, config, tmp_path / f"logs-{len(servers)}", extra_args)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.kill()


@pytest.fixture(scope="session")
def kin(endpoint):
    return kinesis_client(endpoint)


@pytest.fixture(scope="session")
def kin_raw(endpoint):
    return kinesis_client(endpoint, parameter_validation=False)


@pytest.fixture
def make_stream(kin):
    """make_stream(shards=1, prefix="ks", name=None, **CreateStream extras) -> stream name.

    shards=None omits ShardCount (ON_DEMAND). Streams are deleted (consumers included) at teardown.
    """
    from botocore.exceptions import ClientError

    names = []

    def factory(shards: int | None = 1, prefix: str = "ks", name: str | None = None, **extra) -> str:
        name = name or unique_name(prefix)
        params = dict(StreamName=name, **extra)
        if shards is not None:
            params["ShardCount"] = shards
        kin.create_stream(**params)
        names.append(name)
        return name

    yield factory
    for name in names:
        try:
            kin.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise


@pytest.fixture(scope="session")
def kinesis_cli(endpoint, cli_env):
    """kinesis_cli("describe-stream", "--stream-name", s) -> CliResult (no exception on failure)."""

    def run(*args: str, timeout: float = 60) -> CliResult:
        cmd = [
            sys.executable,
            "-m",
            "awscli",
            "kinesis",
            *args,
            "--endpoint-url",
            endpoint,
            "--region",
            REGION,
            "--output",
            "json",
        ]
        proc = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=timeout)
        return CliResult(proc)

    return run


@pytest.fixture(scope="session")
def sqs(endpoint):
    return sqs_client(endpoint)


@pytest.fixture(scope="session")
def sqs_raw(endpoint):
    return sqs_client(endpoint, parameter_validation=False)


@pytest.fixture
def make_queue(sqs):
    """make_queue(prefix="q", fifo=False, **Attributes) -> queue URL; deleted at teardown."""
    from botocore.exceptions import ClientError

    urls = []

    def factory(prefix: str = "q", fifo: bool = False, tags: dict | None = None, **attributes) -> str:
        name = unique_name(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        params = dict(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})
        if tags:
            params["tags"] = tags
        url = sqs.create_queue(**params)["QueueUrl"]
        urls.append(url)
        return url

    yield factory
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError as e:
            if e.response["Error"]["Code"] != "AWS.SimpleQueueService.NonExistentQueue":
                raise
