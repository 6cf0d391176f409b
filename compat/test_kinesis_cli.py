"""The AWS CLI v1 (awscli==1.45.11, `python -m awscli kinesis ...`) against the embedded Kinesis.

awscli v1 exits 0 on success and 255 on service errors, printing
`An error occurred (<Code>) when calling the <Operation> operation: <Message>` on stderr.
Blob arguments: v1 takes `--data` as raw text (botocore base64-encodes it on the wire) and
`fileb://` as raw bytes; `--cli-binary-format` is an AWS CLI v2 option that v1 refuses.
Output: blobs are printed base64-encoded, timestamps as epoch seconds.
"""

from __future__ import annotations

import base64
import time

import pytest
from botocore.exceptions import ClientError

from sluice_compat import ACCOUNT, SEQUENCE_RE, msg_stream_not_found, stream_arn, unique_name

SHARD0 = "shardId-000000000000"


def _ok(result):
    assert result.returncode == 0, result
    return result.json if result.stdout.strip() else None


def _fails(result, code: str, operation: str, message: str | None = None):
    assert result.returncode == 255, result
    assert result.stdout == "", result
    prefix = f"An error occurred ({code}) when calling the {operation} operation: "
    assert prefix in result.stderr, result
    if message is not None:
        assert prefix + message in result.stderr, result


@pytest.fixture
def cli_stream(kin):
    """A unique stream name; the stream (if created) is deleted at teardown."""
    name = unique_name("cli")
    yield name
    try:
        kin.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def test_cli_stream_put_get_delete(kinesis_cli, cli_stream):
    name = cli_stream
    assert _ok(kinesis_cli("create-stream", "--stream-name", name, "--shard-count", "1")) is None

    summary = _ok(kinesis_cli("describe-stream-summary", "--stream-name", name))["StreamDescriptionSummary"]
    assert summary["StreamName"] == name
    assert summary["StreamARN"] == stream_arn(name)
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 1

    first = _ok(kinesis_cli("put-record", "--stream-name", name, "--data", "hello world", "--partition-key", "pk-1"))
    assert first["ShardId"] == SHARD0
    assert SEQUENCE_RE.match(first["SequenceNumber"])
    second = _ok(kinesis_cli("put-record", "--stream-name", name, "--data", '{"n": 2}', "--partition-key", "pk-2"))
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])

    it = _ok(
        kinesis_cli(
            "get-shard-iterator", "--stream-name", name, "--shard-id", SHARD0, "--shard-iterator-type", "TRIM_HORIZON"
        )
    )["ShardIterator"]
    got = _ok(kinesis_cli("get-records", "--shard-iterator", it))
    records = got["Records"]
    assert [r["SequenceNumber"] for r in records] == [first["SequenceNumber"], second["SequenceNumber"]]
    assert [base64.b64decode(r["Data"]) for r in records] == [b"hello world", b'{"n": 2}']
    assert [r["PartitionKey"] for r in records] == ["pk-1", "pk-2"]
    for r in records:
        assert isinstance(r["ApproximateArrivalTimestamp"], (int, float))
        assert abs(r["ApproximateArrivalTimestamp"] - time.time()) < 120
    assert got["MillisBehindLatest"] == 0
    assert got["NextShardIterator"]

    at = _ok(
        kinesis_cli(
            "get-shard-iterator",
            "--stream-name",
            name,
            "--shard-id",
            SHARD0,
            "--shard-iterator-type",
            "AFTER_SEQUENCE_NUMBER",
            "--starting-sequence-number",
            first["SequenceNumber"],
        )
    )["ShardIterator"]
    after = _ok(kinesis_cli("get-records", "--shard-iterator", at, "--limit", "5"))
    assert [r["SequenceNumber"] for r in after["Records"]] == [second["SequenceNumber"]]

    assert _ok(kinesis_cli("delete-stream", "--stream-name", name)) is None
    _fails(
        kinesis_cli("describe-stream", "--stream-name", name),
        "ResourceNotFoundException",
        "DescribeStream",
        msg_stream_not_found(name),
    )
    _fails(kinesis_cli("get-records", "--shard-iterator", it), "ResourceNotFoundException", "GetRecords")


def test_cli_binary_data_from_file(kinesis_cli, cli_stream, tmp_path):
    name = cli_stream
    _ok(kinesis_cli("create-stream", "--stream-name", name, "--shard-count", "2"))
    payload = bytes(range(256)) * 4 + b"\x00\xff\r\n"
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    put = _ok(
        kinesis_cli(
            "put-record",
            "--stream-name",
            name,
            "--data",
            f"fileb://{path}",
            "--partition-key",
            "binary",
            "--explicit-hash-key",
            "0",
        )
    )
    assert put["ShardId"] == SHARD0
    it = _ok(
        kinesis_cli(
            "get-shard-iterator",
            "--stream-name",
            name,
            "--shard-id",
            SHARD0,
            "--shard-iterator-type",
            "AT_SEQUENCE_NUMBER",
            "--starting-sequence-number",
            put["SequenceNumber"],
        )
    )["ShardIterator"]
    records = _ok(kinesis_cli("get-records", "--shard-iterator", it))["Records"]
    assert len(records) == 1
    assert base64.b64decode(records[0]["Data"]) == payload

    shards = _ok(kinesis_cli("list-shards", "--stream-name", name))["Shards"]
    assert [s["ShardId"] for s in shards] == [SHARD0, "shardId-000000000001"]
    # the CLI pages ListStreams itself (--page-size forces NextToken round trips)
    listed = _ok(kinesis_cli("list-streams", "--page-size", "1"))["StreamNames"]
    assert name in listed
    assert len(listed) == len(set(listed))


def test_cli_errors(kinesis_cli, cli_stream):
    name = cli_stream
    _ok(kinesis_cli("create-stream", "--stream-name", name, "--shard-count", "1"))
    _fails(
        kinesis_cli("create-stream", "--stream-name", name, "--shard-count", "1"),
        "ResourceInUseException",
        "CreateStream",
        f"Stream {name} under account {ACCOUNT} already exists.",
    )
    missing = unique_name("missing")
    _fails(
        kinesis_cli("put-record", "--stream-name", missing, "--data", "x", "--partition-key", "k"),
        "ResourceNotFoundException",
        "PutRecord",
        msg_stream_not_found(missing),
    )
    _fails(kinesis_cli("get-records", "--shard-iterator", "not-an-iterator"), "InvalidArgumentException", "GetRecords")


def test_cli_v1_has_no_cli_binary_format(kinesis_cli, cli_stream):
    """Documents the CLI in use: `--cli-binary-format raw-in-base64-out` exists only in AWS CLI v2."""
    result = kinesis_cli(
        "put-record",
        "--stream-name",
        cli_stream,
        "--data",
        "x",
        "--partition-key",
        "k",
        "--cli-binary-format",
        "raw-in-base64-out",
    )
    assert result.returncode == 255, result
    assert "Unknown options: --cli-binary-format" in result.stderr, result
