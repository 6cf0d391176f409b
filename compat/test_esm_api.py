"""Create/Get/List/Update/Delete and Tags for SQS, Kinesis and DynamoDB Streams mappings.

Oracle: esm-ground-truth.md sections 1.4 (shapes), 1.5 (states), 1.6 (List);
aws-semantics.md section 1.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuidlib

import pytest

from sluice_compat import (
    ACCOUNT,
    DDB_STREAM_ARN,
    DLQ_ARN,
    FIFO_QUEUE_ARN,
    MSG_NOT_FOUND,
    QUEUE_ARN,
    REGION,
    SQS_KEYS,
    STREAM_ARN,
    STREAM_KEYS,
    UUID_RE,
    config_keys,
    esm_arn,
    expect_client_error,
    function_arn,
    list_all_uuids,
    status_of,
    strip_volatile,
    unique_name,
    wait_gone,
    wait_state,
)

# (id, EventSourceArn, extra create args, expected key set)
SOURCES = [
    pytest.param(QUEUE_ARN, {}, SQS_KEYS, id="sqs"),
    pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, STREAM_KEYS, id="kinesis"),
    pytest.param(DDB_STREAM_ARN, {"StartingPosition": "TRIM_HORIZON"}, STREAM_KEYS, id="dynamodb"),
]


def _assert_common(resp: dict, fn_name: str, source_arn: str) -> None:
    assert UUID_RE.match(resp["UUID"]), resp["UUID"]
    assert resp["EventSourceMappingArn"] == esm_arn(resp["UUID"])
    assert resp["EventSourceArn"] == source_arn
    assert resp["FunctionArn"] == function_arn(fn_name)
    assert isinstance(resp["LastModified"], dt.datetime), type(resp["LastModified"])
    assert resp["FunctionResponseTypes"] == []
    assert resp["MaximumBatchingWindowInSeconds"] == 0


def _assert_sqs_defaults(resp: dict) -> None:
    assert config_keys(resp) == SQS_KEYS, sorted(config_keys(resp) ^ SQS_KEYS)
    assert resp["BatchSize"] == 10
    assert resp["StateTransitionReason"] == "USER_INITIATED"


def _assert_stream_defaults(resp: dict, starting_position: str) -> None:
    assert config_keys(resp) == STREAM_KEYS, sorted(config_keys(resp) ^ STREAM_KEYS)
    assert resp["BatchSize"] == 100
    assert resp["BisectBatchOnFunctionError"] is False
    assert resp["DestinationConfig"] == {"OnFailure": {}}
    assert resp["LastProcessingResult"] == "No records processed"
    assert resp["MaximumRecordAgeInSeconds"] == -1
    assert resp["MaximumRetryAttempts"] == -1
    assert resp["ParallelizationFactor"] == 1
    assert resp["StartingPosition"] == starting_position
    assert resp["StateTransitionReason"] == "User action"
    assert resp["TumblingWindowInSeconds"] == 0


# ---------------------------------------------------------------------------
# Create / Get: shapes and defaults
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("source_arn", [QUEUE_ARN, FIFO_QUEUE_ARN], ids=["standard", "fifo"])
def test_create_sqs_mapping_default_shape(lam, esm, fn, source_arn):
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn)
    assert status_of(resp) == 202
    assert resp["State"] == "Creating"
    _assert_common(resp, fn, source_arn)
    _assert_sqs_defaults(resp)

    got = wait_state(lam, resp["UUID"], "Enabled")
    assert status_of(got) == 200
    _assert_common(got, fn, source_arn)
    _assert_sqs_defaults(got)
    assert strip_volatile(got) == strip_volatile(resp)


@pytest.mark.parametrize(
    "source_arn,position",
    [
        pytest.param(STREAM_ARN, "LATEST", id="kinesis-latest"),
        pytest.param(STREAM_ARN, "TRIM_HORIZON", id="kinesis-trim-horizon"),
        pytest.param(DDB_STREAM_ARN, "LATEST", id="dynamodb-latest"),
        pytest.param(DDB_STREAM_ARN, "TRIM_HORIZON", id="dynamodb-trim-horizon"),
    ],
)
def test_create_stream_mapping_default_shape(lam, esm, fn, source_arn, position):
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn, StartingPosition=position)
    assert status_of(resp) == 202
    assert resp["State"] == "Creating"
    _assert_common(resp, fn, source_arn)
    _assert_stream_defaults(resp, position)

    got = wait_state(lam, resp["UUID"], "Enabled")
    assert status_of(got) == 200
    _assert_common(got, fn, source_arn)
    _assert_stream_defaults(got, position)
    assert strip_volatile(got) == strip_volatile(resp)


def test_create_sqs_mapping_optional_fields_echoed(lam, esm, fn):
    pattern = json.dumps({"body": {"kind": ["order"]}})
    resp = esm.create(
        FunctionName=fn,
        EventSourceArn=QUEUE_ARN,
        BatchSize=100,
        MaximumBatchingWindowInSeconds=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 2},
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    assert status_of(resp) == 202
    expected_keys = SQS_KEYS | {"ScalingConfig", "FilterCriteria"}
    assert config_keys(resp) == expected_keys, sorted(config_keys(resp) ^ expected_keys)
    assert resp["BatchSize"] == 100
    assert resp["MaximumBatchingWindowInSeconds"] == 5
    assert resp["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert resp["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert resp["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert resp["StateTransitionReason"] == "USER_INITIATED"

    got = wait_state(lam, resp["UUID"], "Enabled")
    assert config_keys(got) == expected_keys
    assert strip_volatile(got) == strip_volatile(resp)


@pytest.mark.parametrize("source_arn", [STREAM_ARN, DDB_STREAM_ARN], ids=["kinesis", "dynamodb"])
def test_create_stream_mapping_all_settings_echoed(lam, esm, fn, source_arn):
    pattern = json.dumps({"eventName": ["INSERT"]})
    settings = dict(
        BatchSize=50,
        MaximumBatchingWindowInSeconds=2,
        ParallelizationFactor=3,
        MaximumRetryAttempts=4,
        MaximumRecordAgeInSeconds=120,
        BisectBatchOnFunctionError=True,
        TumblingWindowInSeconds=30,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn, StartingPosition="TRIM_HORIZON", **settings)
    assert status_of(resp) == 202
    assert resp["State"] == "Creating"
    expected_keys = STREAM_KEYS | {"FilterCriteria"}
    assert config_keys(resp) == expected_keys, sorted(config_keys(resp) ^ expected_keys)
    for key, value in settings.items():
        assert resp[key] == value, key
    assert resp["StartingPosition"] == "TRIM_HORIZON"

    got = wait_state(lam, resp["UUID"], "Enabled")
    assert strip_volatile(got) == strip_volatile(resp)


def test_create_kinesis_at_timestamp_echoes_timestamp(lam, esm, fn):
    ts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)
    resp = esm.create(
        FunctionName=fn,
        EventSourceArn=STREAM_ARN,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=ts,
    )
    assert status_of(resp) == 202
    expected_keys = STREAM_KEYS | {"StartingPositionTimestamp"}
    assert config_keys(resp) == expected_keys, sorted(config_keys(resp) ^ expected_keys)
    assert resp["StartingPosition"] == "AT_TIMESTAMP"
    assert isinstance(resp["StartingPositionTimestamp"], dt.datetime)
    assert resp["StartingPositionTimestamp"].timestamp() == ts.timestamp()
    got = wait_state(lam, resp["UUID"], "Enabled")
    assert got["StartingPositionTimestamp"].timestamp() == ts.timestamp()


def test_create_stream_mapping_without_settings_has_no_optional_keys(esm, fn):
    resp = esm.create(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")
    for key in ("FilterCriteria", "ScalingConfig", "StartingPositionTimestamp", "Tags"):
        assert key not in resp, key


# ---------------------------------------------------------------------------
# FunctionName formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form,qualifier",
    [
        pytest.param("name", None, id="name"),
        pytest.param("name:$LATEST", "$LATEST", id="name-latest"),
        pytest.param("arn", None, id="full-arn"),
        pytest.param("arn:$LATEST", "$LATEST", id="full-arn-latest"),
        pytest.param("partial", None, id="partial-arn"),
        pytest.param("partial:$LATEST", "$LATEST", id="partial-arn-latest"),
    ],
)
@pytest.mark.parametrize(
    "source_arn,extra",
    [
        pytest.param(QUEUE_ARN, {}, id="sqs"),
        pytest.param(STREAM_ARN, {"StartingPosition": "LATEST"}, id="kinesis"),
    ],
)
def test_function_name_formats_keep_qualifier(lam, esm, fn, form, qualifier, source_arn, extra):
    base = {
        "name": fn,
        "arn": function_arn(fn),
        "partial": f"{ACCOUNT}:function:{fn}",
    }[form.split(":")[0]]
    given = f"{base}:{qualifier}" if qualifier else base
    resp = esm.create(FunctionName=given, EventSourceArn=source_arn, **extra)
    assert status_of(resp) == 202
    assert resp["FunctionArn"] == function_arn(fn, qualifier)
    got = wait_state(lam, resp["UUID"], "Enabled")
    assert got["FunctionArn"] == function_arn(fn, qualifier)

    deleted = lam.delete_event_source_mapping(UUID=resp["UUID"])
    assert status_of(deleted) == 202
    assert deleted["State"] == "Deleting"
    assert deleted["FunctionArn"] == function_arn(fn, qualifier)
    wait_gone(lam, resp["UUID"])


def test_function_versions_and_aliases_keep_qualifier(lam, esm, fn):
    version = lam.publish_version(FunctionName=fn)["Version"]
    assert version == "1"
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion=version)
    for given, expected in (
        (f"{fn}:{version}", function_arn(fn, version)),
        (f"{fn}:live", function_arn(fn, "live")),
        (function_arn(fn, "live"), function_arn(fn, "live")),
    ):
        resp = esm.create(FunctionName=given, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")
        assert resp["FunctionArn"] == expected
        wait_state(lam, resp["UUID"], "Enabled")
        lam.delete_event_source_mapping(UUID=resp["UUID"])
        wait_gone(lam, resp["UUID"])


# ---------------------------------------------------------------------------
# State machine
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("source_arn,extra,keys", SOURCES)
def test_create_disabled(lam, esm, fn, source_arn, extra, keys):
    resp = esm.create(FunctionName=fn, EventSourceArn=source_arn, Enabled=False, **extra)
    assert status_of(resp) == 202
    assert resp["State"] == "Disabled"
    assert config_keys(resp) == keys
    got = lam.get_event_source_mapping(UUID=resp["UUID"])
    assert got["State"] == "Disabled"
    assert strip_volatile(got) == strip_volatile(resp)


@pytest.mark.parametrize("source_arn,extra,keys", SOURCES)
def test_update_disable_then_enable(lam, esm, fn, source_arn, extra, keys):
    created = esm.create(FunctionName=fn, EventSourceArn=source_arn, **extra)
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")

    resp = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert status_of(resp) == 202
    assert resp["State"] == "Disabling"
    assert config_keys(resp) == keys
    assert resp["UUID"] == uuid
    disabled = wait_state(lam, uuid, "Disabled")
    assert strip_volatile(disabled) == strip_volatile(created)

    resp = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert status_of(resp) == 202
    assert resp["State"] == "Enabling"
    assert config_keys(resp) == keys
    enabled = wait_state(lam, uuid, "Enabled")
    assert strip_volatile(enabled) == strip_volatile(created)


@pytest.mark.parametrize(
    "source_arn,extra,changes",
    [
        pytest.param(QUEUE_ARN, {}, {"BatchSize": 5}, id="sqs-batchsize"),
        pytest.param(
            QUEUE_ARN,
            {},
            {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 3},
            id="sqs-batchsize-window",
        ),
        pytest.param(
            STREAM_ARN,
            {"StartingPosition": "LATEST"},
            {"BatchSize": 20, "MaximumRetryAttempts": 5},
            id="kinesis-batchsize-retries",
        ),
        pytest.param(
            DDB_STREAM_ARN,
            {"StartingPosition": "LATEST"},
            {"MaximumRecordAgeInSeconds": 3600, "BisectBatchOnFunctionError": True},
            id="dynamodb-age-bisect",
        ),
        pytest.param(
            STREAM_ARN,
            {"StartingPosition": "LATEST"},
            {"DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}}},
            id="kinesis-destination",
        ),
    ],
)
def test_update_field_goes_updating_then_enabled(lam, esm, fn, source_arn, extra, changes):
    created = esm.create(FunctionName=fn, EventSourceArn=source_arn, **extra)
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")

    resp = lam.update_event_source_mapping(UUID=uuid, **changes)
    assert status_of(resp) == 202
    assert resp["State"] == "Updating"
    assert config_keys(resp) == config_keys(created)

    got = wait_state(lam, uuid, "Enabled")
    expected = strip_volatile(created)
    expected.update(changes)
    assert strip_volatile(got) == expected


def test_update_function_name(lam, esm, make_function):
    first, second = make_function(), make_function()
    created = esm.create(FunctionName=first, EventSourceArn=QUEUE_ARN)
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    resp = lam.update_event_source_mapping(UUID=uuid, FunctionName=second)
    assert status_of(resp) == 202
    assert resp["State"] == "Updating"
    got = wait_state(lam, uuid, "Enabled")
    assert got["FunctionArn"] == function_arn(second)
    listed = lam.list_event_source_mappings(FunctionName=second)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert lam.list_event_source_mappings(FunctionName=first)["EventSourceMappings"] == []


def test_update_filter_criteria_replaced(lam, esm, fn):
    p1 = json.dumps({"body": {"a": ["1"]}})
    p2 = json.dumps({"body": {"b": ["2"]}})
    created = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, FilterCriteria={"Filters": [{"Pattern": p1}]})
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, FilterCriteria={"Filters": [{"Pattern": p2}]})
    got = wait_state(lam, uuid, "Enabled")
    assert got["FilterCriteria"] == {"Filters": [{"Pattern": p2}]}


@pytest.mark.parametrize("source_arn,extra,keys", SOURCES)
def test_delete_returns_deleting_then_not_found(lam, esm, fn, source_arn, extra, keys):
    created = esm.create(FunctionName=fn, EventSourceArn=source_arn, **extra)
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")

    resp = lam.delete_event_source_mapping(UUID=uuid)
    assert status_of(resp) == 202
    assert resp["State"] == "Deleting"
    assert config_keys(resp) == keys
    assert strip_volatile(resp) == strip_volatile(created)

    wait_gone(lam, uuid)
    expect_client_error(
        lambda: lam.get_event_source_mapping(UUID=uuid), "ResourceNotFoundException", 404, MSG_NOT_FOUND
    )
    assert uuid not in list_all_uuids(lam)
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []


def test_delete_disabled_mapping(lam, esm, fn):
    created = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, Enabled=False)
    resp = lam.delete_event_source_mapping(UUID=created["UUID"])
    assert status_of(resp) == 202
    assert resp["State"] == "Deleting"
    wait_gone(lam, created["UUID"])


def test_get_unknown_uuid_after_delete_cannot_be_updated(lam, esm, fn):
    created = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    lam.delete_event_source_mapping(UUID=uuid)
    wait_gone(lam, uuid)
    expect_client_error(
        lambda: lam.update_event_source_mapping(UUID=uuid, BatchSize=5),
        "ResourceNotFoundException",
        404,
        MSG_NOT_FOUND,
    )
    expect_client_error(
        lambda: lam.delete_event_source_mapping(UUID=uuid), "ResourceNotFoundException", 404, MSG_NOT_FOUND
    )


# ---------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------


def test_list_filter_by_event_source_arn(lam, esm, fn):
    by_source = {}
    for arn, extra in ((QUEUE_ARN, {}), (STREAM_ARN, {"StartingPosition": "LATEST"}), (DDB_STREAM_ARN, {"StartingPosition": "LATEST"})):
        by_source[arn] = esm.create(FunctionName=fn, EventSourceArn=arn, **extra)["UUID"]
    for arn, uuid in by_source.items():
        resp = lam.list_event_source_mappings(EventSourceArn=arn)
        assert status_of(resp) == 200
        items = resp["EventSourceMappings"]
        assert all(m["EventSourceArn"] == arn for m in items), items
        uuids = [m["UUID"] for m in items]
        assert uuids.count(uuid) == 1
        assert not (set(uuids) & (set(by_source.values()) - {uuid}))

        both = lam.list_event_source_mappings(EventSourceArn=arn, FunctionName=fn)["EventSourceMappings"]
        assert [m["UUID"] for m in both] == [uuid]


def test_list_filter_by_function_name(lam, esm, make_function):
    a, b = make_function(), make_function()
    a1 = esm.create(FunctionName=a, EventSourceArn=QUEUE_ARN)["UUID"]
    a2 = esm.create(FunctionName=a, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")["UUID"]
    b1 = esm.create(FunctionName=b, EventSourceArn=QUEUE_ARN)["UUID"]

    for given in (a, function_arn(a)):
        resp = lam.list_event_source_mappings(FunctionName=given)
        assert status_of(resp) == 200
        assert sorted(m["UUID"] for m in resp["EventSourceMappings"]) == sorted([a1, a2]), given
        assert "NextMarker" not in resp
    assert [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=b)["EventSourceMappings"]] == [b1]
    assert [
        m["UUID"] for m in lam.list_event_source_mappings(FunctionName=a, EventSourceArn=QUEUE_ARN)["EventSourceMappings"]
    ] == [a1]


def test_list_items_have_get_shape(lam, esm, fn):
    sqs = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)["UUID"]
    kin = esm.create(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")["UUID"]
    wait_state(lam, sqs, "Enabled")
    wait_state(lam, kin, "Enabled")
    items = {m["UUID"]: m for m in lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]}
    assert set(items) == {sqs, kin}
    assert set(items[sqs]) == SQS_KEYS
    assert set(items[kin]) == STREAM_KEYS
    for uuid in (sqs, kin):
        got = lam.get_event_source_mapping(UUID=uuid)
        assert items[uuid] == {k: v for k, v in got.items() if k != "ResponseMetadata"}


def test_list_paging_with_marker(lam, esm, make_function):
    ours = set()
    for _ in range(5):
        ours.add(esm.create(FunctionName=make_function(), EventSourceArn=QUEUE_ARN)["UUID"])

    unpaged = lam.list_event_source_mappings()["EventSourceMappings"]
    total = len(unpaged)
    assert ours <= {m["UUID"] for m in unpaged}

    seen = []
    marker = None
    pages = 0
    while True:
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        resp = lam.list_event_source_mappings(**kwargs)
        assert status_of(resp) == 200
        page = resp["EventSourceMappings"]
        pages += 1
        assert len(page) <= 2
        marker = resp.get("NextMarker")
        if marker:
            assert len(page) == 2, "a page followed by NextMarker must be full"
        seen.extend(m["UUID"] for m in page)
        if not marker:
            break
        assert pages < 1000
    assert len(seen) == len(set(seen)), "a mapping appeared on two pages"
    assert len(seen) == total
    assert set(seen) == {m["UUID"] for m in unpaged}
    assert pages == (total + 1) // 2 or (total % 2 == 0 and pages == total // 2 + 1)
    for uuid in ours:
        assert seen.count(uuid) == 1


def test_list_paging_with_filter(lam, esm, fn):
    uuids = {
        esm.create(FunctionName=fn, EventSourceArn=arn, **extra)["UUID"]
        for arn, extra in (
            (QUEUE_ARN, {}),
            (FIFO_QUEUE_ARN, {}),
            (DLQ_ARN, {}),
            (STREAM_ARN, {"StartingPosition": "LATEST"}),
            (DDB_STREAM_ARN, {"StartingPosition": "LATEST"}),
        )
    }
    first = lam.list_event_source_mappings(FunctionName=fn, MaxItems=2)
    assert len(first["EventSourceMappings"]) == 2
    assert first.get("NextMarker")
    seen = [m["UUID"] for m in first["EventSourceMappings"]]
    marker = first["NextMarker"]
    while marker:
        resp = lam.list_event_source_mappings(FunctionName=fn, MaxItems=2, Marker=marker)
        assert len(resp["EventSourceMappings"]) <= 2
        seen.extend(m["UUID"] for m in resp["EventSourceMappings"])
        marker = resp.get("NextMarker")
        assert len(seen) <= 10
    assert sorted(seen) == sorted(uuids)


def test_list_paginator(lam, esm, make_function):
    ours = {esm.create(FunctionName=make_function(), EventSourceArn=QUEUE_ARN)["UUID"] for _ in range(5)}
    expected = list_all_uuids(lam)
    paginator = lam.get_paginator("list_event_source_mappings")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    assert all(len(p["EventSourceMappings"]) <= 2 for p in pages)
    got = [m["UUID"] for p in pages for m in p["EventSourceMappings"]]
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(expected)
    assert ours <= set(got)

    full = paginator.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 3}).build_full_result()
    assert len(full["EventSourceMappings"]) == min(3, len(expected))
    assert "NextToken" in full or len(expected) <= 3


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({"FunctionName": "doesnotexist"}, id="function-name"),
        pytest.param({"FunctionName": function_arn("doesnotexist")}, id="function-arn"),
        pytest.param({"EventSourceArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:doesnotexist"}, id="queue-arn"),
        pytest.param(
            {"EventSourceArn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/doesnotexist"}, id="stream-arn"
        ),
        pytest.param({"FunctionName": "doesnotexist", "EventSourceArn": QUEUE_ARN}, id="both"),
    ],
)
def test_list_unknown_filters_empty(lam, esm, fn, filters):
    esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    resp = lam.list_event_source_mappings(**filters)
    assert status_of(resp) == 200
    assert resp["EventSourceMappings"] == []
    assert "NextMarker" not in resp


def test_list_function_filter_is_not_a_prefix_match(lam, esm, fn):
    esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN)
    other = fn[:-3]
    assert lam.list_event_source_mappings(FunctionName=other)["EventSourceMappings"] == []


# ---------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------


def test_tags_lifecycle(lam, esm, fn):
    resp = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, Tags={"team": "core", "env": "dev"})
    assert status_of(resp) == 202
    assert "Tags" not in resp
    arn = resp["EventSourceMappingArn"]

    listed = lam.list_tags(Resource=arn)
    assert status_of(listed) == 200
    assert listed["Tags"] == {"team": "core", "env": "dev"}

    tagged = lam.tag_resource(Resource=arn, Tags={"owner": "alice", "env": "prod"})
    assert status_of(tagged) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "core", "env": "prod", "owner": "alice"}

    untagged = lam.untag_resource(Resource=arn, TagKeys=["team", "owner"])
    assert status_of(untagged) == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "prod"}

    got = lam.get_event_source_mapping(UUID=resp["UUID"])
    assert "Tags" not in got


def test_tags_on_untagged_mapping(lam, esm, fn):
    resp = esm.create(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST")
    assert lam.list_tags(Resource=resp["EventSourceMappingArn"])["Tags"] == {}


def test_tags_unknown_mapping(lam):
    arn = esm_arn(str(uuidlib.uuid4()))
    expect_client_error(lambda: lam.list_tags(Resource=arn), "ResourceNotFoundException", 404)
    expect_client_error(lambda: lam.tag_resource(Resource=arn, Tags={"a": "b"}), "ResourceNotFoundException", 404)


# ---------------------------------------------------------------------------
# Update: removing optional settings (aws-semantics.md 1.1)
# ---------------------------------------------------------------------------


def test_update_enable_mapping_created_disabled(lam, esm, fn):
    created = esm.create(FunctionName=fn, EventSourceArn=STREAM_ARN, StartingPosition="LATEST", Enabled=False)
    assert created["State"] == "Disabled"
    resp = lam.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
    assert status_of(resp) == 202
    assert resp["State"] == "Enabling"
    got = wait_state(lam, created["UUID"], "Enabled")
    assert strip_volatile(got) == strip_volatile(created)


def test_update_empty_filter_criteria_removes_filtering(lam, esm, fn):
    pattern = json.dumps({"body": {"a": ["1"]}})
    created = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, FilterCriteria={"Filters": [{"Pattern": pattern}]})
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, FilterCriteria={})
    got = wait_state(lam, uuid, "Enabled")
    assert "FilterCriteria" not in got
    assert set(got) - {"ResponseMetadata"} == SQS_KEYS


def test_update_empty_scaling_config_removes_it(lam, esm, fn):
    created = esm.create(FunctionName=fn, EventSourceArn=QUEUE_ARN, ScalingConfig={"MaximumConcurrency": 5})
    uuid = created["UUID"]
    assert created["ScalingConfig"] == {"MaximumConcurrency": 5}
    wait_state(lam, uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, ScalingConfig={})
    got = wait_state(lam, uuid, "Enabled")
    assert "ScalingConfig" not in got
    assert set(got) - {"ResponseMetadata"} == SQS_KEYS


def test_update_empty_destination_removes_it(lam, esm, fn):
    created = esm.create(
        FunctionName=fn,
        EventSourceArn=STREAM_ARN,
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
    )
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, DestinationConfig={"OnFailure": {"Destination": ""}})
    got = wait_state(lam, uuid, "Enabled")
    assert got["DestinationConfig"] == {"OnFailure": {}}


def test_update_omitted_members_keep_values(lam, esm, fn):
    created = esm.create(
        FunctionName=fn,
        EventSourceArn=STREAM_ARN,
        StartingPosition="TRIM_HORIZON",
        BatchSize=42,
        MaximumRetryAttempts=7,
        ParallelizationFactor=4,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    uuid = created["UUID"]
    wait_state(lam, uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=300)
    got = wait_state(lam, uuid, "Enabled")
    expected = strip_volatile(created)
    expected["MaximumRecordAgeInSeconds"] = 300
    assert strip_volatile(got) == expected


@pytest.mark.parametrize(
    "max_items,message",
    [
        (
            0,
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            10001,
            "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: "
            "Member must have value less than or equal to 10000",
        ),
    ],
)
def test_list_max_items_out_of_range(lam_raw, max_items, message):
    expect_client_error(
        lambda: lam_raw.list_event_source_mappings(MaxItems=max_items), "ValidationException", 400, message
    )


def test_list_returns_at_most_100_per_page(lam, esm, make_function):
    sources = [
        (QUEUE_ARN, {}),
        (FIFO_QUEUE_ARN, {}),
        (DLQ_ARN, {}),
        (STREAM_ARN, {"StartingPosition": "LATEST"}),
        (DDB_STREAM_ARN, {"StartingPosition": "LATEST"}),
    ]
    ours = set()
    for _ in range(21):
        name = make_function()
        for arn, extra in sources:
            ours.add(esm.create(FunctionName=name, EventSourceArn=arn, **extra)["UUID"])
    first = lam.list_event_source_mappings(MaxItems=1000)
    assert len(first["EventSourceMappings"]) == 100
    assert first.get("NextMarker")
    default = lam.list_event_source_mappings()
    assert len(default["EventSourceMappings"]) == 100
    assert default.get("NextMarker")
    everything = list_all_uuids(lam)
    assert len(everything) == len(set(everything))
    assert ours <= set(everything)
