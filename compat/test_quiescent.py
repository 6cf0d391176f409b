"""`GET /_sluice/quiescent` from a boto3 test: write, wait there, assert — no sleeps."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sluice_compat import ACCOUNT, REGION


def quiescent(endpoint: str, timeout_ms: int = 20000) -> dict:
    with urllib.request.urlopen(f"{endpoint}/_sluice/quiescent?timeout_ms={timeout_ms}", timeout=60) as resp:
        return json.loads(resp.read())


def test_records_are_delivered_when_quiescent_answers(endpoint, kin, make_stream, esm, function_server):
    stream = make_stream(shards=1)
    esm.create(
        FunctionName="echo",
        EventSourceArn=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}",
        StartingPosition="TRIM_HORIZON",
        BatchSize=5,
    )
    for i in range(12):
        kin.put_record(StreamName=stream, PartitionKey="k", Data=f"r{i}".encode())
    assert quiescent(endpoint) == {"Quiescent": True}
    delivered = [
        r for body in function_server.bodies() for r in body.get("Records", [])
        if r.get("eventSourceARN", "").endswith(f"stream/{stream}")
    ]
    assert len(delivered) == 12


def test_a_bad_timeout_is_refused(endpoint):
    try:
        urllib.request.urlopen(f"{endpoint}/_sluice/quiescent?timeout_ms=soon", timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 400
        assert json.loads(e.read())["Type"] == "User"
    else:
        raise AssertionError("accepted a timeout that is not a number")
