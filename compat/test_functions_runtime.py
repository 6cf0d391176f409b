"""`command` functions through boto3's Lambda Invoke: Python handlers run by the unmodified
awslambdaric runtime client (this interpreter's, pinned in requirements.txt) talk to the
Runtime API Sluice serves for each instance.

The server is private to this module: its config declares the handlers of
``compat/functions`` as command functions.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest

from sluice_compat import SluiceServer, lambda_client

FUNCTIONS = Path(__file__).resolve().parent / "functions"


def _function(name: str, handler: str, extra: str = "") -> str:
    command = json.dumps([sys.executable, "-m", "awslambdaric", handler])
    return f"""
[[functions]]
name = "{name}"
command = {command}
workdir = {json.dumps(str(FUNCTIONS))}
{extra}
"""


@pytest.fixture(scope="module")
def rt_server(sluice_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("sluice-runtime")
    config = root / "sluice.toml"
    config.write_text(
        "# written by compat/test_functions_runtime.py\n"
        + _function("py-echo", "handlers.echo", 'env = { GREETING = "bonjour" }\nmemory_size = 256')
        + _function("py-fail", "handlers.fail")
        + _function("py-slow", "handlers.slow", "timeout = 1")
        + _function("py-crash", "handlers.crash")
        + _function("py-logs", "handlers.logs")
        + _function("py-broken", "broken_init.handler")
    )
    data = root / "data"
    data.mkdir()
    server = SluiceServer(sluice_bin, data, config, root / "logs")
    server.start(timeout=10.0)
    yield server
    rc = server.stop(timeout=10.0)
    assert rc == 0, f"sluice exited with {rc} after SIGTERM; stderr tail:\n{server.stderr_text()[-4000:]}"


@pytest.fixture(scope="module")
def rt(rt_server):
    return lambda_client(rt_server.endpoint)


def _invoke(client, name: str, event: dict, **extra) -> tuple[dict, object]:
    resp = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail", **extra)
    body = json.loads(resp["Payload"].read())
    return resp, body


def _log(resp) -> str:
    return base64.b64decode(resp["LogResult"]).decode()


def test_result_context_and_environment(rt, rt_server):
    resp, body = _invoke(rt, "py-echo", {"hello": "world"})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert body["event"] == {"hello": "world"}
    assert body["request_id"] == request_id
    assert body["function_name"] == "py-echo"
    assert body["memory_limit_in_mb"] == "256"
    assert body["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:py-echo"
    assert 0 < body["remaining_ms"] <= 3000
    env = body["env"]
    assert env["GREETING"] == "bonjour"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "py-echo"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_ENDPOINT_URL"] == rt_server.endpoint
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["TZ"] == ":UTC"
    assert Path(env["LAMBDA_TASK_ROOT"]).resolve() == FUNCTIONS
    log = _log(resp)
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
    assert 'echo got {"hello": "world"}\n' in log
    assert f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\t" in log


def test_warm_instance_is_reused(rt):
    _, a = _invoke(rt, "py-echo", {"n": 1})
    _, b = _invoke(rt, "py-echo", {"n": 2})
    assert a["pid"] == b["pid"]


def test_client_context_reaches_the_handler(rt):
    cc = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}, "env": {}, "client": {}}).encode()).decode()
    _, body = _invoke(rt, "py-echo", {}, ClientContext=cc)
    assert body["client_context"] == {"tenant": "t1"}


def test_raised_exception_is_an_unhandled_function_error(rt):
    resp, body = _invoke(rt, "py-fail", {"why": "bad id"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "BadInput"
    assert body["errorMessage"] == "bad input: bad id"
    assert isinstance(body["stackTrace"], list)
    assert "[ERROR] BadInput: bad input: bad id" in _log(resp)


def test_timeout_is_sandbox_timedout(rt):
    resp, body = _invoke(rt, "py-slow", {"seconds": 20})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert body["errorMessage"].endswith(f" {request_id} Task timed out after 1.00 seconds")
    # The next invocation gets a fresh instance and works.
    resp, body = _invoke(rt, "py-slow", {"seconds": 0})
    assert "FunctionError" not in resp
    assert isinstance(body["pid"], int)


def test_crash_is_runtime_exit_error(rt):
    resp, body = _invoke(rt, "py-crash", {"code": 9})
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert resp["FunctionError"] == "Unhandled"
    assert body == {
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 9",
        "errorType": "Runtime.ExitError",
    }
    assert "about to crash\ncrashing now\n" in _log(resp)


def test_init_error_is_the_runtimes_error(rt):
    resp, body = _invoke(rt, "py-broken", {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "cannot start: missing configuration"


def test_log_tail_is_the_last_4kb(rt):
    resp, body = _invoke(rt, "py-logs", {"lines": 300})
    assert body == {"printed": 300}
    log = _log(resp)
    assert len(log.encode()) == 4096
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"line 299 of {request_id}\nEND RequestId: {request_id}\n" in log


def test_event_invocation_is_accepted(rt):
    resp = rt.invoke(FunctionName="py-echo", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202


def test_sigterm_stops_every_instance(sluice_bin, tmp_path):
    config = tmp_path / "sluice.toml"
    config.write_text(_function("py-pid", "handlers.pid"))
    data = tmp_path / "data"
    data.mkdir()
    server = SluiceServer(sluice_bin, data, config, tmp_path / "logs").start(timeout=10.0)
    try:
        _, body = _invoke(lambda_client(server.endpoint), "py-pid", {})
        pid = body["pid"]
        assert Path(f"/proc/{pid}").exists()
    finally:
        rc = server.stop(timeout=10.0)
    assert rc == 0, server.stderr_text()[-4000:]
    stat = Path(f"/proc/{pid}/stat")
    # Gone (or a zombie left for init to reap): not running.
    assert not stat.exists() or stat.read_text().rsplit(") ", 1)[1].startswith(("Z", "X"))
