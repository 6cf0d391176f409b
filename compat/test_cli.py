"""The AWS CLI v1 (awscli==1.45.11, `python -m awscli`) against the server.

awscli v1 exits 0 on success and 255 on service errors (clidriver.main: any exception
-> `return 255`), printing
`An error occurred (<Code>) when calling the <Operation> operation: <Message>` on stderr.
"""

from __future__ import annotations

import json
import uuid as uuidlib

import pytest

from sluice_compat import (
    DLQ_ARN,
    MSG_NOT_FOUND,
    QUEUE_ARN,
    SQS_KEYS,
    STREAM_ARN,
    STREAM_KEYS,
    UUID_RE,
    esm_arn,
    function_arn,
    unique_name,
    wait_gone,
    wait_state,
)


def _ok(result):
    assert result.returncode == 0, result
    return result.json


def test_cli_sqs_create_get_list_delete(lam, esm, fn, aws_cli):
    created = _ok(aws_cli("create-event-source-mapping", "--function-name", fn, "--event-source-arn", QUEUE_ARN))
    uuid = created["UUID"]
    esm.track(uuid)
    assert UUID_RE.match(uuid)
    assert set(created) == SQS_KEYS
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 10
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["FunctionArn"] == function_arn(fn)
    assert created["EventSourceMappingArn"] == esm_arn(uuid)

    wait_state(lam, uuid, "Enabled")
    got = _ok(aws_cli("get-event-source-mapping", "--uuid", uuid))
    assert got["UUID"] == uuid
    assert got["State"] == "Enabled"
    assert set(got) == SQS_KEYS

    listed = _ok(aws_cli("list-event-source-mappings", "--function-name", fn))
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [uuid]
    listed = _ok(aws_cli("list-event-source-mappings", "--event-source-arn", QUEUE_ARN))
    assert uuid in [m["UUID"] for m in listed["EventSourceMappings"]]

    deleted = _ok(aws_cli("delete-event-source-mapping", "--uuid", uuid))
    assert deleted["UUID"] == uuid
    assert deleted["State"] == "Deleting"
    wait_gone(lam, uuid)

    after = aws_cli("get-event-source-mapping", "--uuid", uuid)
    assert after.returncode == 255, after
    assert "ResourceNotFoundException" in after.stderr


def test_cli_kinesis_create_with_options(lam, esm, fn, aws_cli):
    created = _ok(
        aws_cli(
            "create-event-source-mapping",
            "--function-name",
            fn,
            "--event-source-arn",
            STREAM_ARN,
            "--starting-position",
            "TRIM_HORIZON",
            "--batch-size",
            "50",
            "--maximum-retry-attempts",
            "2",
            "--bisect-batch-on-function-error",
            "--destination-config",
            json.dumps({"OnFailure": {"Destination": DLQ_ARN}}),
            "--no-enabled",
        )
    )
    esm.track(created["UUID"])
    assert set(created) == STREAM_KEYS
    assert created["State"] == "Disabled"
    assert created["StartingPosition"] == "TRIM_HORIZON"
    assert created["BatchSize"] == 50
    assert created["MaximumRetryAttempts"] == 2
    assert created["BisectBatchOnFunctionError"] is True
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": DLQ_ARN}}
    assert created["StateTransitionReason"] == "User action"
    assert created["LastProcessingResult"] == "No records processed"

    updated = _ok(aws_cli("update-event-source-mapping", "--uuid", created["UUID"], "--enabled"))
    assert updated["State"] == "Enabling"
    wait_state(lam, created["UUID"], "Enabled")


def test_cli_list_unknown_function_is_empty(aws_cli):
    listed = _ok(aws_cli("list-event-source-mappings", "--function-name", "doesnotexist"))
    assert listed == {"EventSourceMappings": []}


def test_cli_get_unknown_uuid_fails(aws_cli):
    uuid = str(uuidlib.uuid4())
    result = aws_cli("get-event-source-mapping", "--uuid", uuid)
    assert result.returncode == 255, result
    assert result.stdout == ""
    assert (
        "An error occurred (ResourceNotFoundException) when calling the GetEventSourceMapping operation: "
        f"{MSG_NOT_FOUND}"
    ) in result.stderr


def test_cli_delete_unknown_uuid_fails(aws_cli):
    result = aws_cli("delete-event-source-mapping", "--uuid", str(uuidlib.uuid4()))
    assert result.returncode == 255, result
    assert "ResourceNotFoundException" in result.stderr


def test_cli_create_unknown_function_fails(lam, aws_cli):
    name = unique_name("missing")
    result = aws_cli("create-event-source-mapping", "--function-name", name, "--event-source-arn", QUEUE_ARN)
    assert result.returncode == 255, result
    assert (
        "An error occurred (InvalidParameterValueException) when calling the CreateEventSourceMapping "
        "operation: Function does not exist"
    ) in result.stderr
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []


def test_cli_duplicate_fails(esm, fn, aws_cli):
    first = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    result = aws_cli("create-event-source-mapping", "--function-name", fn, "--event-source-arn", QUEUE_ARN)
    assert result.returncode == 255, result
    assert "ResourceConflictException" in result.stderr
    assert first["UUID"] in result.stderr


def test_cli_validation_exception(fn, aws_cli):
    result = aws_cli(
        "create-event-source-mapping",
        "--function-name",
        fn,
        "--event-source-arn",
        STREAM_ARN,
        "--starting-position",
        "invalid",
    )
    assert result.returncode == 255, result
    assert "An error occurred (ValidationException) when calling the CreateEventSourceMapping operation" in (
        result.stderr
    )


@pytest.mark.parametrize("command", ["list-event-source-mappings"])
def test_cli_list_paginates_everything(lam, esm, make_function, aws_cli, command):
    ours = {esm.create(FunctionName=make_function(), EventSourceArn=QUEUE_ARN)["UUID"] for _ in range(3)}
    listed = _ok(aws_cli(command, "--page-size", "1"))
    uuids = [m["UUID"] for m in listed["EventSourceMappings"]]
    assert len(uuids) == len(set(uuids))
    assert ours <= set(uuids)
