"""Function management and Invoke (aws-semantics.md 3.6, 3.7) and the
"deleting a function keeps its mappings" rule (esm-ground-truth.md 1.5)."""

from __future__ import annotations

import json
import re
import uuid as uuidlib

import pytest

from sluice_compat import (
    QUEUE_ARN,
    ROLE_ARN,
    STREAM_ARN,
    URL_FUNCTION,
    code_sha256,
    create_function,
    expect_client_error,
    function_arn,
    make_zip,
    poll_until,
    status_of,
    strip_volatile,
    unique_name,
    wait_state,
)

LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def _all_functions(lam) -> dict:
    out = {}
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            out[f["FunctionName"]] = f
    return out


# ---------------------------------------------------------------------------
# CreateFunction / GetFunction / GetFunctionConfiguration / ListFunctions / DeleteFunction
# ---------------------------------------------------------------------------


def test_create_function_201_shape(lam):
    name = unique_name("create")
    resp = create_function(lam, name)
    assert status_of(resp) == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == function_arn(name)
    assert resp["Runtime"] == "python3.12"
    assert resp["Role"] == ROLE_ARN
    assert resp["Handler"] == "index.handler"
    assert resp["Version"] == "$LATEST"
    assert resp["Timeout"] == 3
    assert resp["MemorySize"] == 128
    zipped = make_zip()
    assert resp["CodeSize"] == len(zipped)
    assert resp["CodeSha256"] == code_sha256(zipped)
    assert isinstance(resp["LastModified"], str)
    assert LAST_MODIFIED_RE.match(resp["LastModified"]), resp["LastModified"]
    assert resp.get("State") in ("Pending", "Active"), resp.get("State")


def test_create_function_with_settings(lam):
    name = unique_name("settings")
    resp = create_function(
        lam,
        name,
        Timeout=10,
        MemorySize=256,
        Description="compat test",
        Environment={"Variables": {"A": "1"}},
    )
    assert status_of(resp) == 201
    assert resp["Timeout"] == 10
    assert resp["MemorySize"] == 256
    assert resp["Description"] == "compat test"
    assert resp["Environment"] == {"Variables": {"A": "1"}}
    got = lam.get_function_configuration(FunctionName=name)
    assert got["Timeout"] == 10
    assert got["MemorySize"] == 256
    assert got["Environment"] == {"Variables": {"A": "1"}}


def test_get_function_and_configuration(lam):
    name = unique_name("get")
    created = create_function(lam, name)

    got = lam.get_function(FunctionName=name)
    assert status_of(got) == 200
    cfg = got["Configuration"]
    for key in ("FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSha256", "CodeSize", "Version"):
        assert cfg[key] == created[key], key

    conf = lam.get_function_configuration(FunctionName=name)
    assert status_of(conf) == 200
    for key in ("FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSha256", "CodeSize", "Version"):
        assert conf[key] == created[key], key

    by_arn = lam.get_function(FunctionName=function_arn(name))
    assert by_arn["Configuration"]["FunctionArn"] == function_arn(name)


def test_function_becomes_active(lam):
    name = unique_name("active")
    create_function(lam, name)

    def probe():
        state = lam.get_function(FunctionName=name)["Configuration"].get("State")
        return state == "Active", state

    poll_until(probe, what=f"function {name} to become Active")


def test_get_url_function_from_config(lam):
    got = lam.get_function(FunctionName=URL_FUNCTION)
    assert status_of(got) == 200
    assert got["Configuration"]["FunctionName"] == URL_FUNCTION
    assert got["Configuration"]["FunctionArn"] == function_arn(URL_FUNCTION)
    conf = lam.get_function_configuration(FunctionName=URL_FUNCTION)
    assert conf["FunctionArn"] == function_arn(URL_FUNCTION)
    assert conf["Timeout"] == 3


def test_list_functions(lam):
    names = [unique_name("list") for _ in range(3)]
    for name in names:
        create_function(lam, name)
    first = lam.list_functions()
    assert status_of(first) == 200
    listed = _all_functions(lam)
    assert URL_FUNCTION in listed
    for name in names:
        assert name in listed
        assert listed[name]["FunctionArn"] == function_arn(name)
        assert listed[name]["Runtime"] == "python3.12"


def test_list_functions_paging(lam):
    for _ in range(3):
        create_function(lam, unique_name("page"))
    everything = set(_all_functions(lam))
    seen = []
    marker = None
    while True:
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        resp = lam.list_functions(**kwargs)
        assert len(resp["Functions"]) <= 2
        seen.extend(f["FunctionName"] for f in resp["Functions"])
        marker = resp.get("NextMarker")
        if not marker:
            break
        assert len(seen) < 10000
    assert len(seen) == len(set(seen))
    assert set(seen) == everything


def test_delete_function(lam):
    name = unique_name("delete")
    create_function(lam, name)
    resp = lam.delete_function(FunctionName=name)
    assert status_of(resp) in (200, 204)
    expect_client_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)
    expect_client_error(lambda: lam.get_function_configuration(FunctionName=name), "ResourceNotFoundException", 404)
    assert name not in _all_functions(lam)
    expect_client_error(lambda: lam.delete_function(FunctionName=name), "ResourceNotFoundException", 404)


def test_recreate_after_delete(lam):
    name = unique_name("recreate")
    create_function(lam, name)
    lam.delete_function(FunctionName=name)
    again = create_function(lam, name)
    assert status_of(again) == 201


def test_duplicate_create_function_conflict(lam):
    name = unique_name("dup")
    create_function(lam, name)
    err = expect_client_error(lambda: create_function(lam, name), "ResourceConflictException", 409)
    assert err.get("Type") == "User"


def test_get_unknown_function(lam):
    name = unique_name("nope")
    err = expect_client_error(lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException", 404)
    assert err.get("Type") == "User"
    expect_client_error(lambda: lam.get_function_configuration(FunctionName=name), "ResourceNotFoundException", 404)


# ---------------------------------------------------------------------------
# Invoke of the URL function
# ---------------------------------------------------------------------------


def test_invoke_request_response(lam, function_server):
    function_server.script(200, {"result": 42, "echo": "ok"})
    payload = {"hello": "world", "n": 1}
    resp = lam.invoke(FunctionName=URL_FUNCTION, Payload=json.dumps(payload).encode())
    assert resp["StatusCode"] == 200
    assert status_of(resp) == 200
    assert "FunctionError" not in resp
    assert resp.get("ExecutedVersion") == "$LATEST"
    assert json.loads(resp["Payload"].read()) == {"result": 42, "echo": "ok"}
    assert function_server.bodies() == [payload]
    assert function_server.requests[0]["method"] == "POST"


def test_invoke_by_arn_and_explicit_type(lam, function_server):
    function_server.script(200, {"via": "arn"})
    resp = lam.invoke(
        FunctionName=function_arn(URL_FUNCTION), InvocationType="RequestResponse", Payload=b'{"k": "v"}'
    )
    assert resp["StatusCode"] == 200
    assert json.loads(resp["Payload"].read()) == {"via": "arn"}
    assert function_server.bodies() == [{"k": "v"}]


def test_invoke_function_error(lam, function_server):
    error_body = {"errorMessage": "boom", "errorType": "RuntimeError"}
    function_server.script(500, error_body)
    resp = lam.invoke(FunctionName=URL_FUNCTION, Payload=b'{"x": 1}')
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled"
    body = resp["Payload"].read()
    assert body  # the error document is returned to the caller
    assert function_server.bodies() == [{"x": 1}]


def test_invoke_event_202(lam, function_server):
    marker = {"async": str(uuidlib.uuid4())}
    resp = lam.invoke(FunctionName=URL_FUNCTION, InvocationType="Event", Payload=json.dumps(marker).encode())
    assert resp["StatusCode"] == 202
    assert status_of(resp) == 202
    assert resp["Payload"].read() == b""
    function_server.wait_for_body(marker)


def test_invoke_dry_run_204(lam, function_server):
    dry = {"dry": str(uuidlib.uuid4())}
    resp = lam.invoke(FunctionName=URL_FUNCTION, InvocationType="DryRun", Payload=json.dumps(dry).encode())
    assert resp["StatusCode"] == 204
    assert status_of(resp) == 204
    assert resp["Payload"].read() == b""
    # A later synchronous invoke completes; the dry run must not have reached the function.
    lam.invoke(FunctionName=URL_FUNCTION, Payload=b'{"after": "dry-run"}')
    assert dry not in function_server.bodies()
    assert {"after": "dry-run"} in function_server.bodies()


def test_invoke_unknown_function(lam):
    expect_client_error(
        lambda: lam.invoke(FunctionName=unique_name("nope"), Payload=b"{}"), "ResourceNotFoundException", 404
    )


# ---------------------------------------------------------------------------
# Mappings outlive their function
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source_arn,extra",
    [pytest.param(QUEUE_ARN, {}, id="sqs"), pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, id="kinesis")],
)
def test_deleting_function_keeps_mapping(lam, esm, fn, source_arn, extra):
    created = esm.create(FunctionName=fn, EventSourceArn=source_arn, **extra)
    uuid = created["UUID"]
    before = wait_state(lam, uuid, "Enabled")

    lam.delete_function(FunctionName=fn)
    expect_client_error(lambda: lam.get_function(FunctionName=fn), "ResourceNotFoundException", 404)

    after = lam.get_event_source_mapping(UUID=uuid)
    assert status_of(after) == 200
    assert after["State"] == "Enabled"
    assert strip_volatile(after) == strip_volatile(before)
    assert after["FunctionArn"] == function_arn(fn)
    listed = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert status_of(deleted) == 202
    assert deleted["State"] == "Deleting"


def test_invoke_non_json_payload(lam, function_server):
    expect_client_error(
        lambda: lam.invoke(FunctionName=URL_FUNCTION, Payload=b"not json"), "InvalidRequestContentException", 400
    )
    assert function_server.requests == []


def test_list_functions_returns_at_most_50_per_page(lam):
    for _ in range(51):
        create_function(lam, unique_name("bulk"))
    resp = lam.list_functions(MaxItems=1000)
    assert len(resp["Functions"]) == 50
    assert resp.get("NextMarker")
    default = lam.list_functions()
    assert len(default["Functions"]) == 50
    assert default.get("NextMarker")
