"""Private servers (not the session one): restart persistence, crash safety, bad data dir."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from sluice_compat import (
    DDB_STREAM_ARN,
    DLQ_ARN,
    QUEUE_ARN,
    STREAM_ARN,
    create_function,
    expect_client_error,
    function_arn,
    strip_volatile,
    unique_name,
    wait_gone,
    wait_state,
)


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


def _stable_state(client, uuid, state):
    return wait_state(client, uuid, state, timeout=10.0)


def test_restart_after_sigterm_keeps_functions_and_mappings(server_factory, data_dir):
    server = server_factory(data_dir).start()
    lam = server.client()

    fn = unique_name("persist")
    created_fn = create_function(lam, fn, Timeout=7)
    pattern = json.dumps({"data": {"kind": ["a"]}})
    specs = {
        "sqs": dict(FunctionName=fn, EventSourceArn=QUEUE_ARN, BatchSize=5, Tags={"keep": "me"}),
        "kinesis": dict(
            FunctionName=fn,
            EventSourceArn=STREAM_ARN,
            StartingPosition="TRIM_HORIZON",
            BatchSize=25,
            MaximumRetryAttempts=3,
            MaximumRecordAgeInSeconds=600,
            BisectBatchOnFunctionError=True,
            DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
        ),
        "dynamodb-disabled": dict(
            FunctionName=f"{fn}:$LATEST", EventSourceArn=DDB_STREAM_ARN, StartingPosition="LATEST", Enabled=False
        ),
        "url-function": dict(FunctionName="echo", EventSourceArn=QUEUE_ARN, BatchSize=3),
        "to-delete": dict(FunctionName="echo", EventSourceArn=STREAM_ARN, StartingPosition="LATEST"),
    }
    expected_state = {k: "Disabled" if v.get("Enabled") is False else "Enabled" for k, v in specs.items()}
    before = {}
    for key, spec in specs.items():
        resp = lam.create_event_source_mapping(**spec)
        before[key] = _stable_state(lam, resp["UUID"], expected_state[key])
    # an updated mapping must come back with the updated settings
    lam.update_event_source_mapping(UUID=before["sqs"]["UUID"], BatchSize=7)
    before["sqs"] = _stable_state(lam, before["sqs"]["UUID"], "Enabled")
    assert before["sqs"]["BatchSize"] == 7
    # a deleted mapping must stay deleted
    deleted_uuid = before.pop("to-delete")["UUID"]
    expected_state.pop("to-delete")
    lam.delete_event_source_mapping(UUID=deleted_uuid)
    wait_gone(lam, deleted_uuid)

    rc = server.stop(timeout=10.0)
    assert rc == 0, f"exit code {rc}; stderr:\n{server.stderr_text()[-4000:]}"

    server.start()
    lam = server.client()

    got_fn = lam.get_function_configuration(FunctionName=fn)
    for key in ("FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSha256", "CodeSize", "Timeout"):
        assert got_fn[key] == created_fn[key], key

    for key, old in before.items():
        new = _stable_state(lam, old["UUID"], expected_state[key])
        assert new["UUID"] == old["UUID"]
        assert strip_volatile(new) == strip_volatile(old), key
    assert lam.list_tags(Resource=before["sqs"]["EventSourceMappingArn"])["Tags"] == {"keep": "me"}
    assert before["dynamodb-disabled"]["FunctionArn"] == function_arn(fn, "$LATEST")

    expect_client_error(lambda: lam.get_event_source_mapping(UUID=deleted_uuid), "ResourceNotFoundException", 404)
    listed = {m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]}
    assert listed == {old["UUID"] for old in before.values()}

    # the restarted server is fully functional: duplicates are still detected, new mappings work
    expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=QUEUE_ARN),
        "ResourceConflictException",
        409,
    )
    extra = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=DLQ_ARN)
    _stable_state(lam, extra["UUID"], "Enabled")

    rc = server.stop(timeout=10.0)
    assert rc == 0, f"exit code {rc} after the second SIGTERM; stderr:\n{server.stderr_text()[-4000:]}"


def test_mapping_survives_sigkill_after_create(server_factory, data_dir):
    server = server_factory(data_dir).start()
    lam = server.client()
    fn = unique_name("crash")
    create_function(lam, fn)
    resp = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=QUEUE_ARN, BatchSize=4)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    stream = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST", MaximumRetryAttempts=1
    )
    assert stream["ResponseMetadata"]["HTTPStatusCode"] == 202
    server.kill()  # SIGKILL right after the 202s

    server.start()
    lam = server.client()
    got = wait_state(lam, resp["UUID"], "Enabled", timeout=10.0)
    assert got["FunctionArn"] == function_arn(fn)
    assert got["EventSourceArn"] == QUEUE_ARN
    assert got["BatchSize"] == 4
    got = wait_state(lam, stream["UUID"], "Enabled", timeout=10.0)
    assert got["MaximumRetryAttempts"] == 1
    assert got["StartingPosition"] == "LATEST"
    assert lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"] == function_arn(fn)
    assert server.stop() == 0


def test_update_and_delete_survive_sigkill(server_factory, data_dir):
    server = server_factory(data_dir).start()
    lam = server.client()
    fn = unique_name("crash2")
    create_function(lam, fn)
    a = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=QUEUE_ARN)["UUID"]
    b = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")["UUID"]
    wait_state(lam, a, "Enabled")
    wait_state(lam, b, "Enabled")
    upd = lam.update_event_source_mapping(UUID=a, BatchSize=9, Enabled=False)
    assert upd["ResponseMetadata"]["HTTPStatusCode"] == 202
    dele = lam.delete_event_source_mapping(UUID=b)
    assert dele["ResponseMetadata"]["HTTPStatusCode"] == 202
    server.kill()

    server.start()
    lam = server.client()
    got = wait_state(lam, a, "Disabled", timeout=10.0)
    assert got["BatchSize"] == 9
    wait_gone(lam, b, timeout=10.0)


def test_bad_data_dir_is_rejected(server_factory, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    notes = foreign / "notes.txt"
    content = b"my unrelated notes\n\x00binary\xff tail\n"
    notes.write_bytes(content)
    os.utime(notes, (1_600_000_000, 1_600_000_000))
    stat_before = notes.stat()
    listing_before = sorted(p.name for p in foreign.iterdir())

    server = server_factory(foreign)
    proc = server.spawn()
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail("server kept running with a data dir containing an unrelated file")
    assert rc != 0
    assert server.stderr_text().strip(), "expected an error message on stderr"

    assert notes.read_bytes() == content
    stat_after = notes.stat()
    assert stat_after.st_mtime == stat_before.st_mtime
    assert stat_after.st_size == stat_before.st_size
    assert oct(stat_after.st_mode) == oct(stat_before.st_mode)
    assert sorted(p.name for p in foreign.iterdir()) == listing_before


def test_missing_data_dir_is_created(server_factory, tmp_path):
    target = tmp_path / "does" / "not" / "exist"
    server = server_factory(target).start()
    lam = server.client()
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert target.is_dir()
    assert server.stop() == 0


def test_data_dir_in_use_is_refused(server_factory, data_dir):
    first = server_factory(data_dir).start()
    second = server_factory(data_dir)
    proc = second.spawn()
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        second.kill()
        pytest.fail("a second server started on a data dir already in use")
    assert rc != 0
    assert second.stderr_text().strip()
    # the first server is unaffected
    assert first.client().list_event_source_mappings()["EventSourceMappings"] == []
    assert first.stop() == 0
