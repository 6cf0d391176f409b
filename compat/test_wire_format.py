"""Raw JSON on the wire (esm-ground-truth.md 1.1 error envelope, 1.4/1.5 LastModified)."""

from __future__ import annotations

import math
import uuid as uuidlib

import pytest
from botocore.exceptions import ClientError

from sluice_compat import MSG_NOT_FOUND, QUEUE_ARN, STREAM_ARN, unique_name


def _error_body(wire, call):
    with pytest.raises(ClientError) as ei:
        call()
    return ei.value.response, wire.last_json()


@pytest.mark.parametrize(
    "source_arn,extra",
    [pytest.param(QUEUE_ARN, {}, id="sqs"), pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, id="kinesis")],
)
def test_last_modified_is_epoch_seconds_number(wire, esm, fn, source_arn, extra):
    resp = esm.create(client=wire.client, FunctionName=fn, EventSourceArn=source_arn, **extra)
    raw = wire.last_json()
    assert raw["UUID"] == resp["UUID"]
    assert isinstance(raw["LastModified"], (int, float)) and not isinstance(raw["LastModified"], bool)
    assert int(math.log10(raw["LastModified"])) == 9, raw["LastModified"]
    wire.client.get_event_source_mapping(UUID=resp["UUID"])
    assert int(math.log10(wire.last_json()["LastModified"])) == 9


def test_resource_not_found_body(wire):
    err, body = _error_body(wire, lambda: wire.client.get_event_source_mapping(UUID=str(uuidlib.uuid4())))
    assert body == {"Type": "User", "Message": MSG_NOT_FOUND}
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].split(":")[0] == "ResourceNotFoundException"


def test_invalid_parameter_value_body(wire):
    err, body = _error_body(
        wire, lambda: wire.client.create_event_source_mapping(FunctionName=unique_name("missing"), EventSourceArn=QUEUE_ARN)
    )
    assert body == {"Type": "User", "message": "Function does not exist"}
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].split(":")[0] == "InvalidParameterValueException"


def test_resource_conflict_body(wire, esm, fn):
    first = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    err, body = _error_body(
        wire, lambda: wire.client.create_event_source_mapping(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    )
    assert set(body) == {"Type", "message"}
    assert body["Type"] == "User"
    assert body["message"].endswith(first["UUID"])
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].split(":")[0] == "ResourceConflictException"


def test_validation_exception_body(wire, fn):
    err, body = _error_body(
        wire,
        lambda: wire.client.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST", BatchSize=10001
        ),
    )
    assert body == {
        "message": "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000"
    }
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].split(":")[0] == "ValidationException"
