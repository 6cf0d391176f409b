"""Validation errors of CreateEventSourceMapping / UpdateEventSourceMapping.

Oracle: esm-ground-truth.md section 1.1 (envelope) and 1.2 (V1-V16, exact messages).
Range errors follow the AWS framework form
`1 validation error detected: Value '<n>' at '<lowerCamelMember>' failed to satisfy constraint: ...`.
Every rejected request must change nothing (the set of listed mappings is unchanged).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuidlib

import pytest

from sluice_compat import (
    DDB_STREAM_ARN,
    DLQ_ARN,
    FIFO_QUEUE_ARN,
    MISSING_DDB_STREAM_ARN,
    MISSING_QUEUE_ARN,
    MISSING_STREAM_ARN,
    MSG_NOT_FOUND,
    QUEUE_ARN,
    SQS_KEYS,
    STREAM_ARN,
    STREAM_KEYS,
    config_keys,
    expect_client_error,
    function_arn,
    list_all_uuids,
    status_of,
    strip_volatile,
    unique_name,
    wait_gone,
    wait_state,
)

IPVE = "InvalidParameterValueException"
RCE = "ResourceConflictException"
RNFE = "ResourceNotFoundException"
VE = "ValidationException"

MSG_UNRECOGNIZED = "Unrecognized event source."
MSG_NO_FUNCTION = "Function does not exist"
MSG_DESTINATION = "Unsupported DestinationConfig parameter for given event source mapping type."
MSG_NULL_POSITION = (
    "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
    "Member must not be null."
)
MSG_BAD_POSITION = (
    "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: "
    "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
)
MSG_NO_QUEUE = (
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
    "SQS Error Message: The specified queue does not exist."
)
MSG_WINDOW = "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
MSG_FILTER = "Invalid filter pattern definition."


def _le(value, member, bound):
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have value less than or equal to {bound}"
    )


def _ge(value, member, bound):
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have value greater than or equal to {bound}"
    )


@pytest.fixture
def rejected(lam, lam_raw, esm):
    """rejected(code, status, message, client=lam, **create_kwargs): Create must fail and change nothing."""

    def check(code, status, message=None, client=None, **kwargs):
        before = sorted(list_all_uuids(lam))
        err = expect_client_error(lambda: esm.create(client=client or lam, **kwargs), code, status, message)
        after = sorted(list_all_uuids(lam))
        assert after == before, "a rejected CreateEventSourceMapping changed the mapping list"
        if "FunctionName" in kwargs:
            assert lam.list_event_source_mappings(FunctionName=kwargs["FunctionName"])["EventSourceMappings"] == []
        return err

    return check


def _ready_mapping(lam, esm, fn, source_arn=QUEUE_ARN, **extra):
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn, **extra)
    return wait_state(lam, resp["UUID"], "Enabled")


def _assert_update_rejected(lam, client, uuid, code, status, message, **changes):
    before = lam.get_event_source_mapping(UUID=uuid)
    count_before = sorted(list_all_uuids(lam))
    expect_client_error(lambda: client.update_event_source_mapping(UUID=uuid, **changes), code, status, message)
    after = lam.get_event_source_mapping(UUID=uuid)
    assert after["State"] == before["State"] == "Enabled"
    assert strip_volatile(after) == strip_volatile(before)
    assert after["LastModified"] == before["LastModified"]
    assert sorted(list_all_uuids(lam)) == count_before


# ---------------------------------------------------------------------------
# V1: unknown UUID
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_v1_unknown_uuid(lam, operation):
    uuid = str(uuidlib.uuid4())
    call = {
        "get": lambda: lam.get_event_source_mapping(UUID=uuid),
        "update": lambda: lam.update_event_source_mapping(UUID=uuid, BatchSize=5),
        "delete": lambda: lam.delete_event_source_mapping(UUID=uuid),
    }[operation]
    before = sorted(list_all_uuids(lam))
    err = expect_client_error(call, RNFE, 404, MSG_NOT_FOUND)
    # ground truth 1.1: RNFE body is {"Type":"User","Message":...} (capital Message)
    assert err.get("Type") == "User", err
    assert err.get("Message") == MSG_NOT_FOUND, err
    assert err["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype", "").startswith(RNFE)
    assert sorted(list_all_uuids(lam)) == before


# ---------------------------------------------------------------------------
# V2-V4
# ---------------------------------------------------------------------------


def test_v2_missing_event_source_arn(rejected, fn):
    err = rejected(IPVE, 400, MSG_UNRECOGNIZED, FunctionName=fn)
    # ground truth 1.1: IPVE body is {"Type":"User","message":...} (lower-case message)
    assert err.get("Type") == "User", err
    assert err.get("message") == MSG_UNRECOGNIZED, err
    assert err["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype", "").startswith(IPVE)


def test_v2_missing_event_source_arn_unknown_function(rejected):
    rejected(IPVE, 400, MSG_UNRECOGNIZED, FunctionName=unique_name("missing"))


@pytest.mark.parametrize(
    "source_arn,extra",
    [
        pytest.param(QUEUE_ARN, {}, id="existing-queue"),
        pytest.param(MISSING_QUEUE_ARN, {}, id="missing-queue"),
        pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, id="kinesis"),
        pytest.param(DDB_STREAM_ARN, {"StartingPosition": "LATEST"}, id="dynamodb"),
    ],
)
def test_v3_unknown_function(rejected, source_arn, extra):
    err = rejected(IPVE, 400, MSG_NO_FUNCTION, FunctionName=unique_name("missing"), EventSourceArn=source_arn, **extra)
    assert err.get("message") == MSG_NO_FUNCTION


@pytest.mark.parametrize("function_exists", [False, True], ids=["unknown-function", "existing-function"])
def test_v4_on_success_destination_on_sqs(rejected, make_function, function_exists):
    name = make_function() if function_exists else unique_name("missing")
    rejected(
        IPVE,
        400,
        MSG_DESTINATION,
        FunctionName=name,
        EventSourceArn=QUEUE_ARN,
        DestinationConfig={"OnSuccess": {"Destination": DLQ_ARN}},
    )


# ---------------------------------------------------------------------------
# V5-V7: StartingPosition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("source_arn", [STREAM_ARN, DDB_STREAM_ARN], ids=["kinesis", "dynamodb"])
def test_v5_stream_without_starting_position(rejected, fn, source_arn):
    rejected(IPVE, 400, MSG_NULL_POSITION, FunctionName=fn, EventSourceArn=source_arn)


@pytest.mark.parametrize("source_arn", [STREAM_ARN, DDB_STREAM_ARN], ids=["kinesis", "dynamodb"])
def test_v6_starting_position_not_in_enum(rejected, fn, source_arn):
    err = rejected(VE, 400, MSG_BAD_POSITION, FunctionName=fn, EventSourceArn=source_arn, StartingPosition="invalid")
    assert "Type" not in err, "ValidationException bodies carry no Type field"


def test_v7_at_timestamp_on_dynamodb(rejected, fn):
    rejected(
        IPVE,
        400,
        f"Unsupported starting position for arn type: {DDB_STREAM_ARN}",
        FunctionName=fn,
        EventSourceArn=DDB_STREAM_ARN,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1),
    )


# ---------------------------------------------------------------------------
# V8-V10: source does not exist
# ---------------------------------------------------------------------------


def test_v8_sqs_queue_does_not_exist(rejected, fn):
    rejected(IPVE, 400, MSG_NO_QUEUE, FunctionName=fn, EventSourceArn=MISSING_QUEUE_ARN)


def test_v9_kinesis_stream_does_not_exist(rejected, fn):
    rejected(
        IPVE,
        400,
        f"Stream not found: {MISSING_STREAM_ARN}",
        FunctionName=fn,
        EventSourceArn=MISSING_STREAM_ARN,
        StartingPosition="LATEST",
    )


def test_v10_dynamodb_stream_does_not_exist(rejected, fn):
    rejected(
        IPVE,
        400,
        f"Stream not found: {MISSING_DDB_STREAM_ARN}",
        FunctionName=fn,
        EventSourceArn=MISSING_DDB_STREAM_ARN,
        StartingPosition="LATEST",
    )


# ---------------------------------------------------------------------------
# V11: SQS BatchSize > 10 needs a batching window
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"BatchSize": 11}, id="11-no-window"),
        pytest.param({"BatchSize": 11, "MaximumBatchingWindowInSeconds": 0}, id="11-window-0"),
        pytest.param({"BatchSize": 10000}, id="10000-no-window"),
    ],
)
def test_v11_sqs_batch_size_over_10_without_window(rejected, fn, extra):
    rejected(IPVE, 400, MSG_WINDOW, FunctionName=fn, EventSourceArn=QUEUE_ARN, **extra)


def test_v11_on_update(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn)
    assert ready["MaximumBatchingWindowInSeconds"] == 0
    _assert_update_rejected(lam, lam, ready["UUID"], IPVE, 400, MSG_WINDOW, BatchSize=11)


def test_v11_on_update_window_set_to_zero(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn, BatchSize=20, MaximumBatchingWindowInSeconds=1)
    _assert_update_rejected(lam, lam, ready["UUID"], IPVE, 400, MSG_WINDOW, MaximumBatchingWindowInSeconds=0)


@pytest.mark.parametrize("batch", [11, 10000])
def test_v11_sqs_batch_size_over_10_with_window_accepted(lam, esm, fn, batch):
    resp = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, BatchSize=batch, MaximumBatchingWindowInSeconds=1)
    assert status_of(resp) == 202
    assert resp["BatchSize"] == batch
    assert resp["MaximumBatchingWindowInSeconds"] == 1


def test_v11_update_with_window_accepted(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn)
    resp = lam.update_event_source_mapping(UUID=ready["UUID"], BatchSize=11, MaximumBatchingWindowInSeconds=1)
    assert status_of(resp) == 202
    got = wait_state(lam, ready["UUID"], "Enabled")
    assert got["BatchSize"] == 11
    assert got["MaximumBatchingWindowInSeconds"] == 1


# ---------------------------------------------------------------------------
# V12-V14: duplicates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("source_arn", [QUEUE_ARN, FIFO_QUEUE_ARN], ids=["standard", "fifo"])
def test_v12_duplicate_sqs_mapping(lam, esm, fn, source_arn):
    first = esm.create(FunctionName=fn, EventSourceArn=source_arn)
    message = (
        f'An event source mapping with SQS arn (" {source_arn} ") and function (" {fn} ") already exists. '
        f"Please update or delete the existing mapping with UUID {first['UUID']}"
    )
    err = rejected_dup(lam, esm, RCE, 409, message, FunctionName=fn, EventSourceArn=source_arn)
    assert err.get("Type") == "User"
    assert err.get("message") == message


def test_v12_duplicate_sqs_mapping_when_disabled(lam, esm, fn):
    first = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, Enabled=False)
    message = (
        f'An event source mapping with SQS arn (" {QUEUE_ARN} ") and function (" {fn} ") already exists. '
        f"Please update or delete the existing mapping with UUID {first['UUID']}"
    )
    rejected_dup(lam, esm, RCE, 409, message, FunctionName=fn, EventSourceArn=QUEUE_ARN)


def test_v12_duplicate_via_function_arn(lam, esm, fn):
    esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    rejected_dup(lam, esm, RCE, 409, None, FunctionName=function_arn(fn), EventSourceArn=QUEUE_ARN)


@pytest.mark.parametrize("source_arn", [STREAM_ARN, DDB_STREAM_ARN], ids=["kinesis", "dynamodb"])
def test_v13_duplicate_stream_mapping(lam, esm, fn, source_arn):
    first = esm.create(FunctionName=fn, EventSourceArn=source_arn, StartingPosition="LATEST")
    message = (
        f'The event source arn (" {source_arn} ") and function (" {fn} ") provided mapping already exists. '
        f"Please update or delete the existing mapping with UUID {first['UUID']}"
    )
    rejected_dup(
        lam, esm, RCE, 409, message, FunctionName=fn, EventSourceArn=source_arn, StartingPosition="TRIM_HORIZON"
    )


def rejected_dup(lam, esm, code, status, message, **kwargs):
    before = sorted(list_all_uuids(lam))
    err = expect_client_error(lambda: esm.create(**kwargs), code, status, message)
    assert sorted(list_all_uuids(lam)) == before
    return err


@pytest.mark.parametrize(
    "source_arn,extra,keys",
    [
        pytest.param(QUEUE_ARN, {}, SQS_KEYS, id="sqs"),
        pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, STREAM_KEYS, id="kinesis"),
        pytest.param(DDB_STREAM_ARN, {"StartingPosition": "LATEST"}, STREAM_KEYS, id="dynamodb"),
    ],
)
def test_v14_same_source_different_function_allowed(lam, esm, make_function, source_arn, extra, keys):
    a, b = make_function(), make_function()
    first = esm.create(FunctionName=a, EventSourceArn=source_arn, **extra)
    second = esm.create(FunctionName=b, EventSourceArn=source_arn, **extra)
    assert status_of(first) == status_of(second) == 202
    assert first["UUID"] != second["UUID"]
    assert config_keys(second) == keys
    listed = {m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=source_arn)["EventSourceMappings"]}
    assert {first["UUID"], second["UUID"]} <= listed


def test_duplicate_check_ignores_deleted_mapping(lam, esm, fn):
    first = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    wait_state(lam, first["UUID"], "Enabled")
    lam.delete_event_source_mapping(UUID=first["UUID"])
    wait_gone(lam, first["UUID"])
    again = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    assert status_of(again) == 202
    assert again["UUID"] != first["UUID"]


# ---------------------------------------------------------------------------
# V15-V16: FilterCriteria
# ---------------------------------------------------------------------------

BAD_FILTERS = [
    pytest.param({}, id="pattern-missing"),
    pytest.param({"Pattern": "simple string"}, id="plain-string"),
    pytest.param({"Pattern": json.dumps({"eventSource": "aws:sqs"})}, id="value-not-array"),
    pytest.param({"Pattern": json.dumps({"eventSource": []})}, id="empty-array"),
    pytest.param({"Pattern": '[{"eventName": ["INSERT"=123}]'}, id="malformed-json"),
    pytest.param({"Pattern": '"single-string"'}, id="json-string"),
]


@pytest.mark.parametrize("bad_filter", BAD_FILTERS)
@pytest.mark.parametrize(
    "source_arn,extra",
    [
        pytest.param(QUEUE_ARN, {}, id="sqs"),
        pytest.param(DDB_STREAM_ARN, {"StartingPosition": "LATEST"}, id="dynamodb"),
        pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, id="kinesis"),
    ],
)
def test_v15_invalid_filter_pattern(rejected, fn, bad_filter, source_arn, extra):
    rejected(
        IPVE,
        400,
        MSG_FILTER,
        FunctionName=fn,
        EventSourceArn=source_arn,
        FilterCriteria={"Filters": [bad_filter]},
        **extra,
    )


def test_v15_one_bad_filter_among_good(rejected, fn):
    good = {"Pattern": json.dumps({"body": {"a": ["b"]}})}
    rejected(
        IPVE,
        400,
        MSG_FILTER,
        FunctionName=fn,
        EventSourceArn=QUEUE_ARN,
        FilterCriteria={"Filters": [good, {"Pattern": "simple string"}]},
    )


def test_v15_invalid_filter_on_update(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn)
    _assert_update_rejected(
        lam,
        lam,
        ready["UUID"],
        IPVE,
        400,
        MSG_FILTER,
        FilterCriteria={"Filters": [{"Pattern": "simple string"}]},
    )


@pytest.mark.parametrize(
    "source_arn,extra,keys",
    [
        pytest.param(QUEUE_ARN, {}, SQS_KEYS, id="sqs"),
        pytest.param(DDB_STREAM_ARN, {"StartingPosition": "LATEST"}, STREAM_KEYS, id="dynamodb"),
        pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, STREAM_KEYS, id="kinesis"),
    ],
)
def test_v16_empty_filters_accepted_and_omitted(lam, esm, fn, source_arn, extra, keys):
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn, FilterCriteria={"Filters": []}, **extra)
    assert status_of(resp) == 202
    assert "FilterCriteria" not in resp
    assert config_keys(resp) == keys
    got = wait_state(lam, resp["UUID"], "Enabled")
    assert "FilterCriteria" not in got
    listed = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert "FilterCriteria" not in listed[0]


@pytest.mark.parametrize(
    "pattern",
    [
        {"body": {"kind": ["order"]}},
        {"body": {"amount": [{"numeric": [">", 100]}]}},
        {"body": {"name": [{"prefix": "a"}]}},
        {"messageAttributes": {"x": {"stringValue": ["y"]}}},
        {"body": {"flag": [{"exists": False}]}},
    ],
    ids=["exact", "numeric", "prefix", "nested", "exists"],
)
def test_valid_filter_patterns_accepted(lam, esm, fn, pattern):
    text = json.dumps(pattern)
    resp = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, FilterCriteria={"Filters": [{"Pattern": text}]})
    assert status_of(resp) == 202
    assert resp["FilterCriteria"] == {"Filters": [{"Pattern": text}]}


# ---------------------------------------------------------------------------
# Range errors (AWS framework ValidationException)
# ---------------------------------------------------------------------------

RANGE_CASES = [
    pytest.param("BatchSize", 10001, _le(10001, "batchSize", 10000), id="batch-10001"),
    pytest.param("BatchSize", 0, _ge(0, "batchSize", 1), id="batch-0"),
    pytest.param(
        "MaximumBatchingWindowInSeconds",
        301,
        _le(301, "maximumBatchingWindowInSeconds", 300),
        id="window-301",
    ),
    pytest.param(
        "MaximumBatchingWindowInSeconds", -1, _ge(-1, "maximumBatchingWindowInSeconds", 0), id="window--1"
    ),
    pytest.param("ParallelizationFactor", 11, _le(11, "parallelizationFactor", 10), id="parallelization-11"),
    pytest.param("ParallelizationFactor", 0, _ge(0, "parallelizationFactor", 1), id="parallelization-0"),
    pytest.param("MaximumRetryAttempts", 10001, _le(10001, "maximumRetryAttempts", 10000), id="retries-10001"),
    pytest.param("MaximumRetryAttempts", -2, _ge(-2, "maximumRetryAttempts", -1), id="retries--2"),
    pytest.param("TumblingWindowInSeconds", 901, _le(901, "tumblingWindowInSeconds", 900), id="tumbling-901"),
    pytest.param("TumblingWindowInSeconds", -1, _ge(-1, "tumblingWindowInSeconds", 0), id="tumbling--1"),
    pytest.param(
        "MaximumRecordAgeInSeconds",
        604801,
        _le(604801, "maximumRecordAgeInSeconds", 604800),
        id="record-age-604801",
    ),
    pytest.param("MaximumRecordAgeInSeconds", -2, _ge(-2, "maximumRecordAgeInSeconds", -1), id="record-age--2"),
]


@pytest.mark.parametrize("member,value,message", RANGE_CASES)
def test_range_error_on_create_kinesis(rejected, lam_raw, fn, member, value, message):
    err = rejected(
        VE,
        400,
        message,
        client=lam_raw,
        FunctionName=fn,
        EventSourceArn=STREAM_ARN,
        StartingPosition="LATEST",
        **{member: value},
    )
    assert "Type" not in err


@pytest.mark.parametrize(
    "value,message",
    [
        pytest.param(10001, _le(10001, "batchSize", 10000), id="batch-10001"),
        pytest.param(0, _ge(0, "batchSize", 1), id="batch-0"),
    ],
)
def test_range_error_on_create_sqs(rejected, lam_raw, fn, value, message):
    rejected(
        VE,
        400,
        message,
        client=lam_raw,
        FunctionName=fn,
        EventSourceArn=QUEUE_ARN,
        BatchSize=value,
        MaximumBatchingWindowInSeconds=1,
    )


@pytest.mark.parametrize(
    "member,value,message",
    [
        pytest.param("BatchSize", 10001, _le(10001, "batchSize", 10000), id="batch-10001"),
        pytest.param("BatchSize", 0, _ge(0, "batchSize", 1), id="batch-0"),
        pytest.param("MaximumRetryAttempts", 10001, _le(10001, "maximumRetryAttempts", 10000), id="retries-10001"),
        pytest.param(
            "MaximumBatchingWindowInSeconds",
            301,
            _le(301, "maximumBatchingWindowInSeconds", 300),
            id="window-301",
        ),
    ],
)
def test_range_error_on_update_kinesis(lam, lam_raw, esm, fn, member, value, message):
    ready = _ready_mapping(lam, esm, fn, STREAM_ARN, StartingPosition="LATEST")
    _assert_update_rejected(lam, lam_raw, ready["UUID"], VE, 400, message, **{member: value})


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"BatchSize": 10000}, id="batch-10000"),
        pytest.param({"BatchSize": 1}, id="batch-1"),
        pytest.param({"MaximumBatchingWindowInSeconds": 300}, id="window-300"),
        pytest.param({"ParallelizationFactor": 10}, id="parallelization-10"),
        pytest.param({"MaximumRetryAttempts": 10000}, id="retries-10000"),
        pytest.param({"MaximumRetryAttempts": 0}, id="retries-0"),
        pytest.param({"MaximumRetryAttempts": -1}, id="retries--1"),
        pytest.param({"TumblingWindowInSeconds": 900}, id="tumbling-900"),
        pytest.param({"MaximumRecordAgeInSeconds": 604800}, id="record-age-604800"),
        pytest.param({"MaximumRecordAgeInSeconds": 60}, id="record-age-60"),
        pytest.param({"MaximumRecordAgeInSeconds": -1}, id="record-age--1"),
    ],
)
def test_boundary_values_accepted_kinesis(lam, esm, fn, settings):
    resp = esm.create(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST", **settings)
    assert status_of(resp) == 202
    for key, value in settings.items():
        assert resp[key] == value


# ---------------------------------------------------------------------------
# Cases whose exact AWS text is unknown: code + status only
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("age", [0, 30, 59])
def test_record_age_below_60_rejected(rejected, fn, age):
    rejected(
        IPVE,
        400,
        FunctionName=fn,
        EventSourceArn=STREAM_ARN,
        StartingPosition="LATEST",
        MaximumRecordAgeInSeconds=age,
    )


@pytest.mark.parametrize(
    "extra",
    [pytest.param({}, id="no-window"), pytest.param({"MaximumBatchingWindowInSeconds": 1}, id="window-1")],
)
def test_fifo_batch_size_over_10_rejected(rejected, fn, extra):
    rejected(IPVE, 400, FunctionName=fn, EventSourceArn=FIFO_QUEUE_ARN, BatchSize=11, **extra)


@pytest.mark.parametrize("position", ["LATEST", "TRIM_HORIZON"])
def test_starting_position_on_sqs_rejected(rejected, fn, position):
    rejected(IPVE, 400, FunctionName=fn, EventSourceArn=QUEUE_ARN, StartingPosition=position)


@pytest.mark.parametrize("source_arn", [STREAM_ARN, DDB_STREAM_ARN], ids=["kinesis", "dynamodb"])
def test_scaling_config_on_stream_rejected(rejected, fn, source_arn):
    rejected(
        IPVE,
        400,
        FunctionName=fn,
        EventSourceArn=source_arn,
        StartingPosition="LATEST",
        ScalingConfig={"MaximumConcurrency": 2},
    )


# ---------------------------------------------------------------------------
# Update re-runs the Create validation (ground truth 1.2, "Update validation")
# ---------------------------------------------------------------------------


def test_v3_on_update_unknown_function(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn)
    _assert_update_rejected(
        lam, lam, ready["UUID"], IPVE, 400, MSG_NO_FUNCTION, FunctionName=unique_name("missing")
    )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"MaximumRetryAttempts": 3}, id="retries"),
        pytest.param({"ParallelizationFactor": 2}, id="parallelization"),
        pytest.param({"DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}}}, id="destination"),
    ],
)
def test_stream_only_settings_on_sqs_update_rejected(lam, esm, fn, changes):
    ready = _ready_mapping(lam, esm, fn)
    _assert_update_rejected(lam, lam, ready["UUID"], IPVE, 400, None, **changes)


def test_record_age_below_60_on_update_rejected(lam, esm, fn):
    ready = _ready_mapping(lam, esm, fn, STREAM_ARN, StartingPosition="LATEST")
    _assert_update_rejected(lam, lam, ready["UUID"], IPVE, 400, None, MaximumRecordAgeInSeconds=30)
