"""The embedded Kinesis (JSON 1.1) through boto3.

Oracle: aws-semantics.md section 3.1 (Kinesis Data Streams, API 2013-12-02), botocore's kinesis
model in the venv (service-2.json, waiters-2.json, paginators-1.json), and, for error texts not in
the model, the messages AWS returns (mirrored by mhart/kinesalite, whose suite ran against AWS).

Not covered: CBOR (application/x-amz-cbor-1.1) - boto3 only speaks JSON; iterator expiry (5 min).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re

import pytest
from botocore.exceptions import ClientError

from sluice_compat import (
    ACCOUNT,
    MAX_HASH_KEY,
    MAX_RECORD_BYTES,
    REGION,
    SEQUENCE_RE,
    SHARD_ID_RE,
    assert_covers_hash_space,
    expect_client_error,
    function_arn,
    hash_key_of,
    hash_range,
    is_open,
    kinesis_client,
    list_all_shards,
    msg_stream_not_found,
    poll_until,
    read_shard,
    read_shard_from,
    shard_for_hash,
    status_of,
    stream_arn,
    unique_name,
    utc_now,
    wait_clock_past,
    wait_state,
    wait_stream_active,
)

SHARD0 = "shardId-000000000000"
QUARTER = 2**126  # a quarter of the hash space


def shard_id(n: int) -> str:
    return f"shardId-{n:012d}"


def ids(shards: list) -> list:
    return [s["ShardId"] for s in shards]


def seqs_of(records: list) -> list:
    return [int(r["SequenceNumber"]) for r in records]


def assert_strictly_increasing(values: list) -> None:
    assert all(a < b for a, b in zip(values, values[1:])), values


def assert_recent(ts, slack: float = 120.0) -> None:
    assert isinstance(ts, dt.datetime), type(ts)
    assert ts.tzinfo is not None
    assert abs((utc_now() - ts).total_seconds()) < slack, ts


def expect_error_in(fn, codes: tuple, status: int = 400) -> dict:
    """Like expect_client_error, for cases where AWS's exact code is not pinned down by the references."""
    try:
        result = fn()
    except ClientError as e:
        err = e.response
    else:
        raise AssertionError(f"expected one of {codes} but the call succeeded: {result!r}")
    assert err["Error"]["Code"] in codes, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    return err


def open_shards(kin, name: str) -> list:
    return list_all_shards(kin, StreamName=name, ShardFilter={"Type": "AT_LATEST"})


# ---------------------------------------------------------------------------
# Streams: create / describe / list / waiters
# ---------------------------------------------------------------------------


def test_create_stream_is_active_and_described(kin, make_stream):
    name = make_stream(shards=4)
    d = kin.describe_stream(StreamName=name)["StreamDescription"]
    assert d["StreamName"] == name
    assert d["StreamARN"] == stream_arn(name) == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"
    assert d["StreamStatus"] == "ACTIVE"
    assert d["HasMoreShards"] is False
    assert d["RetentionPeriodHours"] == 24
    assert d["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    assert d.get("EncryptionType", "NONE") == "NONE"
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert_recent(d["StreamCreationTimestamp"])

    shards = d["Shards"]
    assert ids(shards) == [shard_id(i) for i in range(4)]
    # ShardCount=4 splits the hash space evenly
    assert [hash_range(s) for s in shards] == [(i * QUARTER, (i + 1) * QUARTER - 1) for i in range(4)]
    for s in shards:
        assert SHARD_ID_RE.match(s["ShardId"])
        assert SEQUENCE_RE.match(s["SequenceNumberRange"]["StartingSequenceNumber"]), s
        assert is_open(s)
        assert "ParentShardId" not in s and "AdjacentParentShardId" not in s

    summary = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamName"] == name
    assert summary["StreamARN"] == stream_arn(name)
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["RetentionPeriodHours"] == 24
    assert summary["OpenShardCount"] == 4
    assert summary.get("ConsumerCount", 0) == 0
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summary["StreamCreationTimestamp"] == d["StreamCreationTimestamp"]
    assert summary["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]


def test_uneven_shard_count_covers_hash_space(kin, make_stream):
    name = make_stream(shards=3)
    shards = kin.list_shards(StreamName=name)["Shards"]
    assert ids(shards) == [shard_id(i) for i in range(3)]
    assert_covers_hash_space(shards)


def test_create_on_demand_stream(kin, make_stream):
    name = make_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] >= 1
    assert_covers_hash_space(kin.list_shards(StreamName=name)["Shards"])
    put = kin.put_record(StreamName=name, Data=b"on-demand", PartitionKey="p")
    assert SEQUENCE_RE.match(put["SequenceNumber"])


def test_describe_stream_shard_paging(kin, make_stream):
    name = make_stream(shards=5)
    seen = []
    start = None
    for _ in range(10):
        kwargs = {"StreamName": name, "Limit": 2}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        d = kin.describe_stream(**kwargs)["StreamDescription"]
        assert len(d["Shards"]) <= 2
        seen.extend(ids(d["Shards"]))
        if not d["HasMoreShards"]:
            break
        start = d["Shards"][-1]["ShardId"]
    assert seen == [shard_id(i) for i in range(5)]

    # botocore's paginator (input ExclusiveStartShardId, more_results HasMoreShards)
    pages = list(kin.get_paginator("describe_stream").paginate(StreamName=name, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [s["ShardId"] for p in pages for s in p["StreamDescription"]["Shards"]] == seen


def test_list_streams_paging(kin, make_stream):
    base = unique_name("lsp")
    ours = [make_stream(name=f"{base}-{suffix}") for suffix in ("a", "b", "c")]

    names, token, pages = [], None, 0
    for _ in range(1000):
        kwargs = {"Limit": 1}
        if token:
            kwargs["NextToken"] = token
        resp = kin.list_streams(**kwargs)
        pages += 1
        assert len(resp["StreamNames"]) <= 1
        assert [s["StreamName"] for s in resp["StreamSummaries"]] == resp["StreamNames"]
        for summary in resp["StreamSummaries"]:
            assert summary["StreamARN"] == stream_arn(summary["StreamName"])
            assert summary["StreamStatus"] in ("CREATING", "ACTIVE", "UPDATING", "DELETING")
        names.extend(resp["StreamNames"])
        if not resp["HasMoreStreams"]:
            assert "NextToken" not in resp, resp
            break
        token = resp["NextToken"]
        assert token
    else:
        raise AssertionError("ListStreams never reported HasMoreStreams=false")
    assert len(names) == len(set(names)), names
    assert set(ours) <= set(names)
    assert pages == len(names) or pages == len(names) + 1
    assert names == sorted(names), "ListStreams lists streams in name order"

    # one page with everything (default Limit 100 is plenty here) agrees
    everything = kin.list_streams(Limit=100)
    assert everything["HasMoreStreams"] is False
    assert everything["StreamNames"] == names

    # ExclusiveStartStreamName starts strictly after the given name
    after = kin.list_streams(ExclusiveStartStreamName=ours[0], Limit=2)
    assert after["StreamNames"] == ours[1:]

    # botocore's paginator (NextToken / HasMoreStreams)
    paged = [n for p in kin.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}) for n in p["StreamNames"]]
    assert paged == names


def test_stream_waiters(kin, make_stream):
    name = make_stream(shards=1)
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert kin.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] == "ACTIVE"
    resp = kin.delete_stream(StreamName=name)
    assert status_of(resp) == 200
    kin.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert name not in kin.list_streams(Limit=100)["StreamNames"]
    expect_client_error(
        lambda: kin.describe_stream(StreamName=name), "ResourceNotFoundException", 400, msg_stream_not_found(name)
    )


# ---------------------------------------------------------------------------
# Records: put / get with every iterator type
# ---------------------------------------------------------------------------

PAYLOADS = [
    (b"hello", "plain"),
    (bytes(range(256)), "all-bytes"),
    ("ünïcødé ✓ 日本".encode("utf-8"), "κλειδί-ключ"),
    (b"\x00" * 17 + b"\xff" * 17, "z" * 256),
    (b'{"id": 7, "ok": true}', "json"),
    (b"x", "1"),
]


def test_put_get_trim_horizon_roundtrip(kin, make_stream):
    name = make_stream(shards=1)
    puts = []
    for data, key in PAYLOADS:
        resp = kin.put_record(StreamName=name, Data=data, PartitionKey=key)
        assert status_of(resp) == 200
        assert resp["ShardId"] == SHARD0
        assert SEQUENCE_RE.match(resp["SequenceNumber"]), resp["SequenceNumber"]
        assert resp.get("EncryptionType", "NONE") == "NONE"
        puts.append(resp["SequenceNumber"])
    assert_strictly_increasing([int(s) for s in puts])

    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert 1 <= len(it) <= 512
    resp = kin.get_records(ShardIterator=it)
    records = resp["Records"]
    assert [r["SequenceNumber"] for r in records] == puts
    assert [bytes(r["Data"]) for r in records] == [d for d, _ in PAYLOADS]
    assert [r["PartitionKey"] for r in records] == [k for _, k in PAYLOADS]
    arrivals = [r["ApproximateArrivalTimestamp"] for r in records]
    for ts in arrivals:
        assert_recent(ts)
    assert arrivals == sorted(arrivals)
    assert resp["MillisBehindLatest"] == 0
    # an open shard always hands out a NextShardIterator, also when there is nothing to read
    nxt = resp["NextShardIterator"]
    empty = kin.get_records(ShardIterator=nxt)
    assert empty["Records"] == []
    assert empty["NextShardIterator"]
    assert empty["MillisBehindLatest"] == 0
    assert "ChildShards" not in empty or empty["ChildShards"] == []

    # the same iterator can be replayed
    again = kin.get_records(ShardIterator=it)["Records"]
    assert [r["SequenceNumber"] for r in again] == puts


def test_one_mib_record_roundtrip(kin, make_stream):
    """A record of exactly 1 MiB (data + partition key) is accepted and returned byte-exact."""
    name = make_stream(shards=1)
    rng = random.Random(20131202)
    key_single, key_batch = "big-single", "big-batch"
    data_single = rng.randbytes(MAX_RECORD_BYTES - len(key_single))
    data_batch = rng.randbytes(MAX_RECORD_BYTES - len(key_batch))
    one = kin.put_record(StreamName=name, Data=data_single, PartitionKey=key_single)
    batch = kin.put_records(StreamName=name, Records=[{"Data": data_batch, "PartitionKey": key_batch}])
    assert batch["FailedRecordCount"] == 0
    records = read_shard_from(kin, name, SHARD0)
    assert [r["SequenceNumber"] for r in records] == [one["SequenceNumber"], batch["Records"][0]["SequenceNumber"]]
    assert bytes(records[0]["Data"]) == data_single
    assert bytes(records[1]["Data"]) == data_batch
    assert [r["PartitionKey"] for r in records] == [key_single, key_batch]


def test_get_records_limit_and_millis_behind_latest(kin, make_stream):
    name = make_stream(shards=1)
    seqs = [kin.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey="p")["SequenceNumber"] for i in range(3)]
    last = read_shard_from(kin, name, SHARD0)[-1]["ApproximateArrivalTimestamp"]
    wait_clock_past(last, 0.06)  # so that "behind the tip" is measurable in milliseconds

    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = kin.get_records(ShardIterator=it, Limit=1)
    assert [r["SequenceNumber"] for r in first["Records"]] == seqs[:1]
    assert first["MillisBehindLatest"] > 0, first["MillisBehindLatest"]
    second = kin.get_records(ShardIterator=first["NextShardIterator"], Limit=1)
    assert [r["SequenceNumber"] for r in second["Records"]] == seqs[1:2]
    assert second["MillisBehindLatest"] > 0
    rest = kin.get_records(ShardIterator=second["NextShardIterator"], Limit=10)
    assert [r["SequenceNumber"] for r in rest["Records"]] == seqs[2:]
    assert rest["MillisBehindLatest"] == 0


def test_latest_iterator_sees_only_new_records(kin, make_stream):
    name = make_stream(shards=1)
    kin.put_record(StreamName=name, Data=b"old", PartitionKey="p")
    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="LATEST")["ShardIterator"]
    empty = kin.get_records(ShardIterator=it)
    assert empty["Records"] == []
    assert empty["MillisBehindLatest"] == 0
    kin.put_record(StreamName=name, Data=b"new1", PartitionKey="p")
    kin.put_record(StreamName=name, Data=b"new2", PartitionKey="q")
    got = kin.get_records(ShardIterator=empty["NextShardIterator"])["Records"]
    assert [bytes(r["Data"]) for r in got] == [b"new1", b"new2"]
    assert [r["PartitionKey"] for r in got] == ["p", "q"]
    # the original LATEST iterator is a fixed position too
    assert [bytes(r["Data"]) for r in kin.get_records(ShardIterator=it)["Records"]] == [b"new1", b"new2"]


def test_at_and_after_sequence_number(kin, make_stream):
    name = make_stream(shards=1)
    seqs = [kin.put_record(StreamName=name, Data=f"r{i}".encode(), PartitionKey="p")["SequenceNumber"] for i in range(5)]

    def data_from(kind, seq):
        return [bytes(r["Data"]) for r in read_shard_from(kin, name, SHARD0, kind, StartingSequenceNumber=seq)]

    assert data_from("AT_SEQUENCE_NUMBER", seqs[0]) == [b"r0", b"r1", b"r2", b"r3", b"r4"]
    assert data_from("AT_SEQUENCE_NUMBER", seqs[2]) == [b"r2", b"r3", b"r4"]
    assert data_from("AFTER_SEQUENCE_NUMBER", seqs[2]) == [b"r3", b"r4"]
    assert data_from("AFTER_SEQUENCE_NUMBER", seqs[4]) == []
    # and the stream keeps going after AFTER_SEQUENCE_NUMBER of the last record
    it = kin.get_shard_iterator(
        StreamName=name, ShardId=SHARD0, ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[4]
    )["ShardIterator"]
    kin.put_record(StreamName=name, Data=b"r5", PartitionKey="p")
    assert [bytes(r["Data"]) for r in kin.get_records(ShardIterator=it)["Records"]] == [b"r5"]


def test_at_timestamp(kin, make_stream, endpoint):
    kin_ms = kinesis_client(endpoint, millisecond_timestamps=True)
    name = make_stream(shards=1)
    created = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    kin.put_record(StreamName=name, Data=b"A", PartitionKey="p")
    t_a = read_shard_from(kin, name, SHARD0)[0]["ApproximateArrivalTimestamp"]
    wait_clock_past(t_a, 0.05)
    kin.put_record(StreamName=name, Data=b"B", PartitionKey="p")
    kin.put_record(StreamName=name, Data=b"C", PartitionKey="p")
    records = read_shard_from(kin, name, SHARD0)
    t_b = records[1]["ApproximateArrivalTimestamp"]
    assert t_b > t_a

    def data_at(client, ts):
        return [bytes(r["Data"]) for r in read_shard_from(client, name, SHARD0, "AT_TIMESTAMP", Timestamp=ts)]

    # whole-second timestamps (botocore's default serialization)
    assert data_at(kin, created - dt.timedelta(seconds=10)) == [b"A", b"B", b"C"]
    # millisecond timestamps: the first record with arrival >= Timestamp
    assert data_at(kin_ms, t_a) == [b"A", b"B", b"C"]
    assert data_at(kin_ms, t_a + dt.timedelta(milliseconds=1)) == [b"B", b"C"]
    assert data_at(kin_ms, t_b) == [b"B", b"C"]
    last = records[-1]["ApproximateArrivalTimestamp"]
    wait_clock_past(last, 0.01)
    assert data_at(kin_ms, last + dt.timedelta(milliseconds=5)) == []


# ---------------------------------------------------------------------------
# Routing: PutRecords across shards, ExplicitHashKey
# ---------------------------------------------------------------------------


def test_put_records_500_routed_by_md5(kin, make_stream):
    name = make_stream(shards=4)
    shards = kin.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    entries = [
        {"Data": f"record-{i:03d}-".encode() + bytes([i % 256]) * (i % 40), "PartitionKey": f"pk-{i}-{i * 7919}"}
        for i in range(500)
    ]
    resp = kin.put_records(StreamName=name, Records=entries)
    assert resp.get("FailedRecordCount", 0) == 0
    assert resp.get("EncryptionType", "NONE") == "NONE"
    assert len(resp["Records"]) == 500

    expected = {}  # shard -> {sequence: (data, key)}
    for entry, result in zip(entries, resp["Records"]):
        assert "ErrorCode" not in result, result
        want = shard_for_hash(shards, hash_key_of(entry["PartitionKey"]))
        assert result["ShardId"] == want, (entry["PartitionKey"], result)
        assert SEQUENCE_RE.match(result["SequenceNumber"])
        expected.setdefault(want, {})[result["SequenceNumber"]] = (entry["Data"], entry["PartitionKey"])
    assert set(expected) == set(ids(shards)), "500 md5-spread keys should hit all 4 shards"

    for sid in ids(shards):
        records = read_shard_from(kin, name, sid)
        assert_strictly_increasing(seqs_of(records))
        got = {r["SequenceNumber"]: (bytes(r["Data"]), r["PartitionKey"]) for r in records}
        assert got == expected[sid], sid


def test_explicit_hash_key_overrides_partition_key(kin, make_stream):
    name = make_stream(shards=4)
    shards = kin.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    key = "always-the-same-key"
    md5_shard = shard_for_hash(shards, hash_key_of(key))
    for s in shards:
        lo, hi = hash_range(s)
        for ehk in (lo, hi, (lo + hi) // 2):
            resp = kin.put_record(StreamName=name, Data=b"e", PartitionKey=key, ExplicitHashKey=str(ehk))
            assert resp["ShardId"] == s["ShardId"], (ehk, resp)
    batch = kin.put_records(
        StreamName=name,
        Records=[
            {"Data": b"0", "PartitionKey": key, "ExplicitHashKey": "0"},
            {"Data": b"max", "PartitionKey": key, "ExplicitHashKey": str(MAX_HASH_KEY)},
            {"Data": b"md5", "PartitionKey": key},
        ],
    )
    assert [r["ShardId"] for r in batch["Records"]] == [shard_id(0), shard_id(3), md5_shard]
    # the partition key is stored as given, not the explicit hash key
    assert {r["PartitionKey"] for r in read_shard_from(kin, name, shard_id(3))} == {key}


def test_explicit_hash_key_out_of_range(kin_raw, make_stream):
    name = make_stream(shards=1)
    expect_client_error(
        lambda: kin_raw.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128)),
        "InvalidArgumentException",
        400,
    )


# ---------------------------------------------------------------------------
# Resharding: split / merge / UpdateShardCount, ListShards filters, ChildShards
# ---------------------------------------------------------------------------


def test_split_shard_list_shards_and_child_shards(kin, make_stream):
    name = make_stream(shards=2)  # shard 0: [0, 2^127-1], shard 1: [2^127, 2^128-1]
    parent, other = shard_id(0), shard_id(1)
    before = [
        kin.put_record(StreamName=name, Data=f"p{i}".encode(), PartitionKey="k", ExplicitHashKey=str(ehk))
        for i, ehk in enumerate((0, 1, QUARTER))
    ]
    assert {b["ShardId"] for b in before} == {parent}

    assert status_of(kin.split_shard(StreamName=name, ShardToSplit=parent, NewStartingHashKey=str(QUARTER))) == 200
    wait_stream_active(kin, name)

    shards = kin.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    by_id = {s["ShardId"]: s for s in shards}
    assert ids(shards) == [shard_id(i) for i in range(4)]
    closed = by_id[parent]
    assert not is_open(closed)
    end = int(closed["SequenceNumberRange"]["EndingSequenceNumber"])
    assert end >= int(before[-1]["SequenceNumber"])
    low, high = by_id[shard_id(2)], by_id[shard_id(3)]
    assert hash_range(low) == (0, QUARTER - 1)
    assert hash_range(high) == (QUARTER, 2 * QUARTER - 1)
    for child in (low, high):
        assert child["ParentShardId"] == parent
        assert "AdjacentParentShardId" not in child
        assert is_open(child)
    assert_covers_hash_space([s for s in shards if is_open(s)])
    assert kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 3

    # ListShards and its filters
    assert ids(list_all_shards(kin, StreamName=name)) == ids(shards)
    assert ids(list_all_shards(kin, StreamName=name, MaxResults=1)) == ids(shards)
    assert sorted(ids(open_shards(kin, name))) == [other, shard_id(2), shard_id(3)]
    after = list_all_shards(kin, StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": other})
    assert ids(after) == [shard_id(2), shard_id(3)]
    assert ids(list_all_shards(kin, StreamName=name, ExclusiveStartShardId=other)) == [shard_id(2), shard_id(3)]
    horizon = list_all_shards(kin, StreamName=name, ShardFilter={"Type": "FROM_TRIM_HORIZON"})
    assert ids(horizon) == ids(shards)

    # reading the closed parent to its end: records, then ChildShards and no NextShardIterator
    it = kin.get_shard_iterator(StreamName=name, ShardId=parent, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records, responses = read_shard(kin, it)
    assert [r["SequenceNumber"] for r in records] == [b["SequenceNumber"] for b in before]
    assert [bytes(r["Data"]) for r in records] == [b"p0", b"p1", b"p2"]
    final = responses[-1]
    assert "NextShardIterator" not in final or final["NextShardIterator"] is None, final
    assert sorted(final["ChildShards"], key=lambda c: c["ShardId"]) == [
        {"ShardId": shard_id(2), "ParentShards": [parent], "HashKeyRange": low["HashKeyRange"]},
        {"ShardId": shard_id(3), "ParentShards": [parent], "HashKeyRange": high["HashKeyRange"]},
    ]
    for resp in responses[:-1]:
        assert not resp.get("ChildShards"), resp

    # new records go to the children
    assert kin.put_record(StreamName=name, Data=b"c", PartitionKey="k", ExplicitHashKey="0")["ShardId"] == shard_id(2)
    h = kin.put_record(StreamName=name, Data=b"d", PartitionKey="k", ExplicitHashKey=str(QUARTER))
    assert h["ShardId"] == shard_id(3)
    assert int(h["SequenceNumber"]) > end

    # a closed shard cannot be split again; the new key must lie strictly inside the shard
    expect_client_error(
        lambda: kin.split_shard(StreamName=name, ShardToSplit=parent, NewStartingHashKey="5"),
        "InvalidArgumentException",
        400,
    )
    expect_client_error(
        lambda: kin.split_shard(StreamName=name, ShardToSplit=other, NewStartingHashKey="5"),
        "InvalidArgumentException",
        400,
    )
    expect_client_error(
        lambda: kin.split_shard(StreamName=name, ShardToSplit=shard_id(99), NewStartingHashKey="5"),
        "ResourceNotFoundException",
        400,
    )


def test_list_shards_timestamp_filters(kin, make_stream, endpoint):
    kin_ms = kinesis_client(endpoint, millisecond_timestamps=True)
    name = make_stream(shards=2)
    created = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    wait_clock_past(created, 0.05)
    before_split = created + dt.timedelta(milliseconds=25)
    kin.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
    wait_stream_active(kin, name)
    done = utc_now()
    wait_clock_past(done, 0.05)
    after_split = done + dt.timedelta(milliseconds=25)

    def listed(kind, ts):
        return sorted(ids(list_all_shards(kin_ms, StreamName=name, ShardFilter={"Type": kind, "Timestamp": ts})))

    # AT_TIMESTAMP: shards open at that instant
    assert listed("AT_TIMESTAMP", before_split) == [shard_id(0), shard_id(1)]
    assert listed("AT_TIMESTAMP", after_split) == [shard_id(1), shard_id(2), shard_id(3)]
    # FROM_TIMESTAMP: shards closed at or after that instant, and all open shards
    assert listed("FROM_TIMESTAMP", before_split) == [shard_id(i) for i in range(4)]
    assert listed("FROM_TIMESTAMP", after_split) == [shard_id(1), shard_id(2), shard_id(3)]

    # a NextToken already names the stream
    token = kin.list_shards(StreamName=name, MaxResults=1)["NextToken"]
    expect_client_error(lambda: kin.list_shards(StreamName=name, NextToken=token), "InvalidArgumentException", 400)
    expect_client_error(
        lambda: kin.list_shards(StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID"}), "InvalidArgumentException", 400
    )


def test_list_shards_at_trim_horizon(kin, make_stream):
    # AT_TRIM_HORIZON: "all the shards that were open at TRIM_HORIZON" - for a stream younger than its
    # retention period that is its creation, i.e. the initial shards (KCL lists shards this way for
    # InitialPositionInStream TRIM_HORIZON).
    name = make_stream(shards=2)
    kin.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
    wait_stream_active(kin, name)
    listed = list_all_shards(kin, StreamName=name, ShardFilter={"Type": "AT_TRIM_HORIZON"})
    assert sorted(ids(listed)) == [shard_id(0), shard_id(1)]


def test_merge_shards_and_child_shards(kin, make_stream):
    name = make_stream(shards=2)
    left, right = shard_id(0), shard_id(1)
    a = kin.put_record(StreamName=name, Data=b"left", PartitionKey="k", ExplicitHashKey="0")
    b = kin.put_record(StreamName=name, Data=b"right", PartitionKey="k", ExplicitHashKey=str(MAX_HASH_KEY))
    assert (a["ShardId"], b["ShardId"]) == (left, right)

    assert status_of(kin.merge_shards(StreamName=name, ShardToMerge=left, AdjacentShardToMerge=right)) == 200
    wait_stream_active(kin, name)
    shards = {s["ShardId"]: s for s in list_all_shards(kin, StreamName=name)}
    merged = shards[shard_id(2)]
    assert merged["ParentShardId"] == left
    assert merged["AdjacentParentShardId"] == right
    assert hash_range(merged) == (0, MAX_HASH_KEY)
    assert not is_open(shards[left]) and not is_open(shards[right])
    assert ids(open_shards(kin, name)) == [shard_id(2)]

    for parent, data in ((left, b"left"), (right, b"right")):
        it = kin.get_shard_iterator(StreamName=name, ShardId=parent, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records, responses = read_shard(kin, it)
        assert [bytes(r["Data"]) for r in records] == [data]
        final = responses[-1]
        assert not final.get("NextShardIterator"), final
        assert len(final["ChildShards"]) == 1
        child = final["ChildShards"][0]
        assert child["ShardId"] == shard_id(2)
        assert sorted(child["ParentShards"]) == [left, right]
        assert child["HashKeyRange"] == merged["HashKeyRange"]

    # LATEST / AFTER the last record of a closed shard: nothing to read, straight to the children
    for kind, extra in (("LATEST", {}), ("AFTER_SEQUENCE_NUMBER", {"StartingSequenceNumber": a["SequenceNumber"]})):
        it = kin.get_shard_iterator(StreamName=name, ShardId=left, ShardIteratorType=kind, **extra)["ShardIterator"]
        resp = kin.get_records(ShardIterator=it)
        assert resp["Records"] == [], kind
        assert not resp.get("NextShardIterator"), (kind, resp)
        assert [c["ShardId"] for c in resp["ChildShards"]] == [shard_id(2)], kind

    assert kin.put_record(StreamName=name, Data=b"m", PartitionKey="anything")["ShardId"] == shard_id(2)
    # already merged shards are not eligible any more
    expect_client_error(
        lambda: kin.merge_shards(StreamName=name, ShardToMerge=left, AdjacentShardToMerge=right),
        "InvalidArgumentException",
        400,
    )


def test_merge_refusals(kin, make_stream):
    name = make_stream(shards=3)
    expect_client_error(
        lambda: kin.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(2)),
        "InvalidArgumentException",
        400,
    )
    expect_client_error(
        lambda: kin.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(42)),
        "ResourceNotFoundException",
        400,
    )
    assert len(open_shards(kin, name)) == 3


def test_update_shard_count(kin, make_stream):
    name = make_stream(shards=2)
    resp = kin.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert resp["StreamName"] == name
    assert resp["CurrentShardCount"] == 2
    assert resp["TargetShardCount"] == 4
    assert resp.get("StreamARN", stream_arn(name)) == stream_arn(name)
    wait_stream_active(kin, name)

    current = open_shards(kin, name)
    assert sorted(hash_range(s) for s in current) == [(i * QUARTER, (i + 1) * QUARTER - 1) for i in range(4)]
    everything = {s["ShardId"]: s for s in list_all_shards(kin, StreamName=name)}
    assert not is_open(everything[shard_id(0)]) and not is_open(everything[shard_id(1)])
    assert kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 4
    for s in current:  # every record lands on an open shard
        lo, _ = hash_range(s)
        assert kin.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey=str(lo))["ShardId"] == s["ShardId"]

    resp = kin.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (resp["CurrentShardCount"], resp["TargetShardCount"]) == (4, 2)
    wait_stream_active(kin, name)
    assert sorted(hash_range(s) for s in open_shards(kin, name)) == [(0, 2 * QUARTER - 1), (2 * QUARTER, MAX_HASH_KEY)]


def test_update_shard_count_limits(kin, make_stream):
    # "you cannot scale up to more than double / down below half your current shard count". AWS names
    # it LimitExceededException in kinesalite, InvalidArgumentException in kinesis-mock: accept both.
    name = make_stream(shards=4)
    for target in (9, 1):
        expect_error_in(
            lambda: kin.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"),
            ("LimitExceededException", "InvalidArgumentException"),
        )
    assert len(open_shards(kin, name)) == 4


# ---------------------------------------------------------------------------
# Retention, tags
# ---------------------------------------------------------------------------


def _retention(kin, name):
    return kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"]


def test_retention_increase_and_decrease(kin, kin_raw, make_stream):
    name = make_stream(shards=1)
    assert status_of(kin.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)) == 200
    assert _retention(kin, name) == 48
    assert kin.describe_stream(StreamName=name)["StreamDescription"]["RetentionPeriodHours"] == 48

    expect_client_error(
        lambda: kin.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=24),
        "InvalidArgumentException",
        400,
        f"Requested retention period (24 hours) for stream {name} can not be shorter than existing retention "
        "period (48 hours). Use DecreaseRetentionPeriod API.",
    )
    expect_client_error(
        lambda: kin.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=72),
        "InvalidArgumentException",
        400,
        f"Requested retention period (72 hours) for stream {name} can not be longer than existing retention "
        "period (48 hours). Use IncreaseRetentionPeriod API.",
    )
    expect_client_error(
        lambda: kin.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=23),
        "InvalidArgumentException",
        400,
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
    )
    assert _retention(kin, name) == 48
    assert status_of(kin.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)) == 200
    assert _retention(kin, name) == 24

    # up to one year (8760 hours); beyond is refused (the exact code is not pinned down by the model)
    assert status_of(kin.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)) == 200
    assert _retention(kin, name) == 8760
    expect_error_in(
        lambda: kin_raw.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8761),
        ("InvalidArgumentException", "ValidationException"),
    )
    assert _retention(kin, name) == 8760


def test_tags(kin, make_stream):
    name = make_stream(shards=1, Tags={"created": "with-stream"})
    assert kin.list_tags_for_stream(StreamName=name)["Tags"] == [{"Key": "created", "Value": "with-stream"}]
    assert status_of(kin.add_tags_to_stream(StreamName=name, Tags={"b": "2", "a": "1", "env": ""})) == 200
    resp = kin.list_tags_for_stream(StreamName=name)
    assert resp["HasMoreTags"] is False
    assert resp["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
        {"Key": "created", "Value": "with-stream"},
        {"Key": "env", "Value": ""},
    ]
    page = kin.list_tags_for_stream(StreamName=name, Limit=2)
    assert page["HasMoreTags"] is True
    assert [t["Key"] for t in page["Tags"]] == ["a", "b"]
    rest = kin.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="b")
    assert [t["Key"] for t in rest["Tags"]] == ["created", "env"]
    assert rest["HasMoreTags"] is False

    kin.add_tags_to_stream(StreamName=name, Tags={"b": "two"})  # overwrite
    kin.remove_tags_from_stream(StreamName=name, TagKeys=["a", "created", "not-there"])
    assert kin.list_tags_for_stream(StreamARN=stream_arn(name))["Tags"] == [
        {"Key": "b", "Value": "two"},
        {"Key": "env", "Value": ""},
    ]


# ---------------------------------------------------------------------------
# Enhanced fan-out consumers
# ---------------------------------------------------------------------------


def test_stream_consumers(kin, make_stream):
    name = make_stream(shards=1)
    arn = stream_arn(name)
    reg = kin.register_stream_consumer(StreamARN=arn, ConsumerName="reader-1")["Consumer"]
    assert reg["ConsumerName"] == "reader-1"
    assert re.fullmatch(rf"{re.escape(arn)}/consumer/reader-1:[0-9]+", reg["ConsumerARN"]), reg
    assert reg["ConsumerStatus"] in ("CREATING", "ACTIVE")
    assert_recent(reg["ConsumerCreationTimestamp"])

    def active():
        d = kin.describe_stream_consumer(StreamARN=arn, ConsumerName="reader-1")["ConsumerDescription"]
        return d["ConsumerStatus"] == "ACTIVE", d

    desc = poll_until(active, what="consumer to become ACTIVE")
    assert desc["ConsumerARN"] == reg["ConsumerARN"]
    assert desc["StreamARN"] == arn
    assert kin.describe_stream_consumer(ConsumerARN=reg["ConsumerARN"])["ConsumerDescription"] == desc

    expect_client_error(
        lambda: kin.register_stream_consumer(StreamARN=arn, ConsumerName="reader-1"), "ResourceInUseException", 400
    )
    second = kin.register_stream_consumer(StreamARN=arn, ConsumerName="reader-2")["Consumer"]
    listed = kin.list_stream_consumers(StreamARN=arn)["Consumers"]
    assert sorted(c["ConsumerName"] for c in listed) == ["reader-1", "reader-2"]
    assert {c["ConsumerARN"] for c in listed} == {reg["ConsumerARN"], second["ConsumerARN"]}
    assert kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["ConsumerCount"] == 2

    # a stream with consumers is only deleted with EnforceConsumerDeletion
    expect_client_error(lambda: kin.delete_stream(StreamName=name), "ResourceInUseException", 400)

    kin.deregister_stream_consumer(ConsumerARN=reg["ConsumerARN"])
    kin.deregister_stream_consumer(StreamARN=arn, ConsumerName="reader-2")

    def gone():
        try:
            kin.describe_stream_consumer(StreamARN=arn, ConsumerName="reader-1")
        except kin.exceptions.ResourceNotFoundException:
            return True, None
        return False, "still there"

    poll_until(gone, what="consumer to disappear after deregistration")
    poll_until(lambda: (kin.list_stream_consumers(StreamARN=arn)["Consumers"] == [], None), what="empty consumer list")
    expect_client_error(
        lambda: kin.describe_stream_consumer(StreamARN=arn, ConsumerName="never"), "ResourceNotFoundException", 400
    )
    missing = stream_arn(unique_name("nostream"))
    expect_client_error(
        lambda: kin.register_stream_consumer(StreamARN=missing, ConsumerName="c"), "ResourceNotFoundException", 400
    )
    assert status_of(kin.delete_stream(StreamName=name)) == 200


def test_consumer_and_stream_arns_as_event_sources(kin, lam, make_stream, esm):
    name = make_stream(shards=2)
    arn = stream_arn(name)
    consumer = kin.register_stream_consumer(StreamARN=arn, ConsumerName="lambda-efo")["Consumer"]
    poll_until(
        lambda: (
            kin.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"]
            == "ACTIVE",
            None,
        ),
        what="consumer ACTIVE",
    )

    for source in (consumer["ConsumerARN"], arn):
        resp = esm.create(FunctionName="echo", EventSourceArn=source, StartingPosition="TRIM_HORIZON")
        assert status_of(resp) == 202, resp
        assert resp["EventSourceArn"] == source
        assert resp["FunctionArn"] == function_arn("echo")
        assert resp["StartingPosition"] == "TRIM_HORIZON"
        got = wait_state(lam, resp["UUID"], "Enabled")
        assert got["EventSourceArn"] == source
        listed = lam.list_event_source_mappings(EventSourceArn=source)["EventSourceMappings"]
        assert [m["UUID"] for m in listed] == [resp["UUID"]]


# ---------------------------------------------------------------------------
# Addressing by StreamARN
# ---------------------------------------------------------------------------


def test_every_operation_by_stream_arn(kin, make_stream):
    name = make_stream(shards=1)
    arn = stream_arn(name)
    assert kin.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"] == name
    assert kin.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == name
    put = kin.put_record(StreamARN=arn, Data=b"by-arn", PartitionKey="p")
    batch = kin.put_records(StreamARN=arn, Records=[{"Data": b"batch-by-arn", "PartitionKey": "q"}])
    assert batch["FailedRecordCount"] == 0
    it = kin.get_shard_iterator(StreamARN=arn, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kin.get_records(ShardIterator=it, StreamARN=arn)["Records"]
    assert [r["SequenceNumber"] for r in records] == [put["SequenceNumber"], batch["Records"][0]["SequenceNumber"]]
    assert ids(kin.list_shards(StreamARN=arn)["Shards"]) == [SHARD0]

    kin.add_tags_to_stream(StreamARN=arn, Tags={"k": "v"})
    assert kin.list_tags_for_stream(StreamARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    kin.remove_tags_from_stream(StreamARN=arn, TagKeys=["k"])
    assert kin.list_tags_for_stream(StreamARN=arn)["Tags"] == []

    kin.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=36)
    kin.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=30)
    assert _retention(kin, name) == 30

    kin.split_shard(StreamARN=arn, ShardToSplit=SHARD0, NewStartingHashKey=str(2 * QUARTER))
    wait_stream_active(kin, name)
    kin.merge_shards(StreamARN=arn, ShardToMerge=shard_id(1), AdjacentShardToMerge=shard_id(2))
    wait_stream_active(kin, name)
    resp = kin.update_shard_count(StreamARN=arn, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert resp["CurrentShardCount"] == 1
    wait_stream_active(kin, name)
    assert len(list_all_shards(kin, StreamARN=arn, ShardFilter={"Type": "AT_LATEST"})) == 2

    c = kin.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]
    kin.deregister_stream_consumer(StreamARN=arn, ConsumerARN=c["ConsumerARN"])

    assert status_of(kin.delete_stream(StreamARN=arn, EnforceConsumerDeletion=True)) == 200
    kin.get_waiter("stream_not_exists").wait(StreamARN=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    expect_client_error(
        lambda: kin.describe_stream_summary(StreamARN=arn), "ResourceNotFoundException", 400, msg_stream_not_found(name)
    )


def test_wire_format(endpoint, make_stream):
    """aws-semantics.md 3.0/3.1: JSON 1.1 content type, x-amzn-RequestId, base64 blobs, epoch-second
    timestamps, errors as 400 {"__type": ..., "message": ...}."""
    client = kinesis_client(endpoint)
    raw = []
    client.meta.events.register("before-parse.kinesis.*", lambda response_dict=None, **_: raw.append(response_dict))
    name = make_stream(shards=1)
    client.put_record(StreamName=name, Data=b"\x00\x01\xfe", PartitionKey="p")
    it = client.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    client.get_records(ShardIterator=it)
    ok = raw[-1]
    assert ok["status_code"] == 200
    headers = {k.lower(): v for k, v in ok["headers"].items()}
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers.get("x-amzn-requestid")
    body = json.loads(ok["body"])
    record = body["Records"][0]
    assert record["Data"] == base64.b64encode(b"\x00\x01\xfe").decode()
    assert isinstance(record["ApproximateArrivalTimestamp"], (int, float))
    assert isinstance(record["SequenceNumber"], str)

    missing = unique_name("missing")
    expect_client_error(lambda: client.describe_stream(StreamName=missing), "ResourceNotFoundException", 400)
    err = raw[-1]
    assert err["status_code"] == 400
    assert {k.lower(): v for k, v in err["headers"].items()}["content-type"] == "application/x-amz-json-1.1"
    body = json.loads(err["body"])
    assert body["__type"].split("#")[-1] == "ResourceNotFoundException"
    assert (body.get("message") or body.get("Message")) == msg_stream_not_found(missing)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

UNKNOWN_STREAM_CALLS = [
    pytest.param(lambda k, n: k.describe_stream(StreamName=n), id="DescribeStream"),
    pytest.param(lambda k, n: k.describe_stream_summary(StreamName=n), id="DescribeStreamSummary"),
    pytest.param(lambda k, n: k.describe_stream(StreamARN=stream_arn(n)), id="DescribeStream-arn"),
    pytest.param(lambda k, n: k.delete_stream(StreamName=n), id="DeleteStream"),
    pytest.param(lambda k, n: k.list_shards(StreamName=n), id="ListShards"),
    pytest.param(lambda k, n: k.put_record(StreamName=n, Data=b"x", PartitionKey="k"), id="PutRecord"),
    pytest.param(
        lambda k, n: k.put_records(StreamName=n, Records=[{"Data": b"x", "PartitionKey": "k"}]), id="PutRecords"
    ),
    pytest.param(
        lambda k, n: k.get_shard_iterator(StreamName=n, ShardId=SHARD0, ShardIteratorType="LATEST"),
        id="GetShardIterator",
    ),
    pytest.param(lambda k, n: k.add_tags_to_stream(StreamName=n, Tags={"a": "b"}), id="AddTagsToStream"),
    pytest.param(lambda k, n: k.list_tags_for_stream(StreamName=n), id="ListTagsForStream"),
    pytest.param(
        lambda k, n: k.increase_stream_retention_period(StreamName=n, RetentionPeriodHours=48),
        id="IncreaseStreamRetentionPeriod",
    ),
    pytest.param(
        lambda k, n: k.split_shard(StreamName=n, ShardToSplit=SHARD0, NewStartingHashKey="5"), id="SplitShard"
    ),
    pytest.param(
        lambda k, n: k.update_shard_count(StreamName=n, TargetShardCount=2, ScalingType="UNIFORM_SCALING"),
        id="UpdateShardCount",
    ),
]


@pytest.mark.parametrize("call", UNKNOWN_STREAM_CALLS)
def test_unknown_stream(kin, call):
    name = unique_name("missing")
    expect_client_error(lambda: call(kin, name), "ResourceNotFoundException", 400, msg_stream_not_found(name))


def test_duplicate_stream(kin, make_stream):
    name = make_stream(shards=1)
    expect_client_error(
        lambda: kin.create_stream(StreamName=name, ShardCount=2),
        "ResourceInUseException",
        400,
        f"Stream {name} under account {ACCOUNT} already exists.",
    )
    assert kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 1


@pytest.mark.parametrize(
    "bad, constraint",
    [
        pytest.param("bad name!", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", id="pattern"),
        pytest.param("slash/name", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", id="slash"),
        pytest.param("x" * 129, "Member must have length less than or equal to 128", id="too-long"),
    ],
)
def test_bad_stream_name(kin_raw, bad, constraint):
    expect_client_error(
        lambda: kin_raw.create_stream(StreamName=bad, ShardCount=1),
        "ValidationException",
        400,
        f"1 validation error detected: Value '{bad}' at 'streamName' failed to satisfy constraint: {constraint}",
    )


def test_bad_shard_count(kin_raw):
    expect_client_error(
        lambda: kin_raw.create_stream(StreamName=unique_name("zero"), ShardCount=0),
        "ValidationException",
        400,
    )


def test_oversize_records_are_refused(kin_raw, make_stream):
    name = make_stream(shards=1)
    too_big = b"x" * (MAX_RECORD_BYTES + 1)
    err = expect_client_error(
        lambda: kin_raw.put_record(StreamName=name, Data=too_big, PartitionKey="k"), "ValidationException", 400
    )
    assert "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576" in (
        err["Error"]["Message"]
    )
    err = expect_client_error(
        lambda: kin_raw.put_records(
            StreamName=name, Records=[{"Data": b"ok", "PartitionKey": "k"}, {"Data": too_big, "PartitionKey": "k"}]
        ),
        "ValidationException",
        400,
    )
    assert "records.2.member.data" in err["Error"]["Message"], err

    # data alone fits, data + partition key is over 1 MiB: refused as well (the limit includes the key)
    key = "key-of-sixteen.."
    for call in (
        lambda: kin_raw.put_record(StreamName=name, Data=b"y" * (MAX_RECORD_BYTES - len(key) + 1), PartitionKey=key),
        lambda: kin_raw.put_records(
            StreamName=name, Records=[{"Data": b"y" * (MAX_RECORD_BYTES - len(key) + 1), "PartitionKey": key}]
        ),
    ):
        expect_error_in(call, ("ValidationException", "InvalidArgumentException"))
    # nothing of the refused requests was stored
    assert read_shard_from(kin_raw, name, SHARD0) == []


def test_put_records_batch_size_limits(kin_raw, make_stream):
    name = make_stream(shards=1)
    err = expect_client_error(
        lambda: kin_raw.put_records(StreamName=name, Records=[{"Data": b"a", "PartitionKey": "a"}] * 501),
        "ValidationException",
        400,
    )
    msg = err["Error"]["Message"]
    assert msg.startswith("1 validation error detected: Value '"), msg
    assert msg.endswith("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
    expect_client_error(lambda: kin_raw.put_records(StreamName=name, Records=[]), "ValidationException", 400)
    expect_client_error(
        lambda: kin_raw.put_record(StreamName=name, Data=b"x", PartitionKey=""), "ValidationException", 400
    )
    assert read_shard_from(kin_raw, name, SHARD0) == []
    # exactly 500 is fine
    ok = kin_raw.put_records(StreamName=name, Records=[{"Data": b"a", "PartitionKey": "a"}] * 500)
    assert ok.get("FailedRecordCount", 0) == 0 and len(ok["Records"]) == 500


def _tamper(it: str) -> str:
    i = len(it) // 2
    replacement = "A" if it[i] != "A" else "B"
    return it[:i] + replacement + it[i + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(_tamper, id="one-char-flipped"),
        pytest.param(lambda it: it[:-4], id="truncated"),
        pytest.param(lambda it: "not-a-shard-iterator", id="garbage"),
    ],
)
def test_tampered_iterator(kin, make_stream, mangle):
    name = make_stream(shards=1)
    kin.put_record(StreamName=name, Data=b"secret", PartitionKey="p")
    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    bad = mangle(it)
    assert bad != it
    expect_client_error(lambda: kin.get_records(ShardIterator=bad), "InvalidArgumentException", 400)
    assert len(kin.get_records(ShardIterator=it)["Records"]) == 1  # the genuine one still works


def test_sequence_number_of_another_shard(kin, make_stream):
    name = make_stream(shards=2)
    put = kin.put_record(StreamName=name, Data=b"on-1", PartitionKey="k", ExplicitHashKey=str(MAX_HASH_KEY))
    assert put["ShardId"] == shard_id(1)
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        expect_client_error(
            lambda: kin.get_shard_iterator(
                StreamName=name, ShardId=shard_id(0), ShardIteratorType=kind, StartingSequenceNumber=put["SequenceNumber"]
            ),
            "InvalidArgumentException",
            400,
        )


def test_get_shard_iterator_argument_errors(kin, kin_raw, make_stream):
    name = make_stream(shards=1)
    expect_client_error(
        lambda: kin_raw.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="AT_SEQUENCE_NUMBER"),
        "InvalidArgumentException",
        400,
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no "
        "StartingSequenceNumber.",
    )
    put = kin.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    expect_client_error(
        lambda: kin.get_shard_iterator(
            StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON", StartingSequenceNumber=put["SequenceNumber"]
        ),
        "InvalidArgumentException",
        400,
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) "
        "TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a "
        "StartingSequenceNumber.",
    )
    expect_client_error(
        lambda: kin.get_shard_iterator(StreamName=name, ShardId=shard_id(9), ShardIteratorType="LATEST"),
        "ResourceNotFoundException",
        400,
        f"Shard {shard_id(9)} in stream {name} under account {ACCOUNT} does not exist",
    )
    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="LATEST")["ShardIterator"]
    for limit in (0, 10_001):
        expect_client_error(lambda: kin_raw.get_records(ShardIterator=it, Limit=limit), "ValidationException", 400)


def test_at_timestamp_in_the_future(kin, make_stream):
    name = make_stream(shards=1)
    future = utc_now() + dt.timedelta(hours=1)
    err = expect_client_error(
        lambda: kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="AT_TIMESTAMP", Timestamp=future),
        "InvalidArgumentException",
        400,
    )
    assert err["Error"]["Message"].startswith(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis."
    ), err


def test_delete_stream_invalidates_iterators(kin, make_stream):
    name = make_stream(shards=1)
    kin.put_record(StreamName=name, Data=b"doomed", PartitionKey="p")
    it = kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    nxt = kin.get_records(ShardIterator=it)["NextShardIterator"]
    kin.delete_stream(StreamName=name)
    kin.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    for old in (it, nxt):
        expect_client_error(lambda: kin.get_records(ShardIterator=old), "ResourceNotFoundException", 400)
    expect_client_error(
        lambda: kin.get_shard_iterator(StreamName=name, ShardId=SHARD0, ShardIteratorType="TRIM_HORIZON"),
        "ResourceNotFoundException",
        400,
    )
