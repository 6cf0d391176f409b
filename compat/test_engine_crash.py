"""The stream engine under SIGKILL (issue: durability of checkpoints).

A Kinesis mapping delivers a backlog to the recording function; the server is SIGKILLed while
batches are being delivered, restarted on the same data dir, and delivery resumes from the
last checkpoint. AWS's contract: every record is delivered at least once, and per partition
key in order; after the restart only records at or after the checkpoint come again.

Waiting is polling with deadlines on what the function has received (no fixed sleeps).
"""

from __future__ import annotations

import base64
import json

from sluice_compat import URL_FUNCTION, kinesis_client, lambda_client, poll_until

KEYS = 8
PER_KEY = 250
TOTAL = KEYS * PER_KEY


def delivered(fn_server) -> list:
    """(partition key, n) of every record the function received, in arrival order."""
    out = []
    for body in fn_server.bodies():
        for r in (body or {}).get("Records", []):
            data = json.loads(base64.b64decode(r["kinesis"]["data"]))
            out.append((r["kinesis"]["partitionKey"], data["n"]))
    return out


def test_delivery_resumes_from_the_checkpoint_after_sigkill(server_factory, fn_server, tmp_path):
    data_dir = tmp_path / "engine-crash"
    data_dir.mkdir()
    server = server_factory(data_dir).start()
    fn_server.reset()
    kin = kinesis_client(server.endpoint)
    kin.create_stream(StreamName="engine-crash", ShardCount=2)
    # The backlog first, so the kill lands while batches are in flight.
    for n in range(PER_KEY):
        kin.put_records(
            StreamName="engine-crash",
            Records=[{"PartitionKey": f"key-{k}", "Data": json.dumps({"n": n}).encode()} for k in range(KEYS)],
        )
    lam = lambda_client(server.endpoint)
    lam.create_event_source_mapping(
        FunctionName=URL_FUNCTION,
        EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/engine-crash",
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
    )
    poll_until(lambda: (len(delivered(fn_server)) >= TOTAL // 4, None), timeout=30, interval=0.005, what="first deliveries")
    server.kill()
    before = delivered(fn_server)
    assert len(before) < TOTAL, "everything was delivered before the kill: nothing was tested"

    server.start(timeout=15.0)
    poll_until(
        lambda: (len({r for r in delivered(fn_server)}) >= TOTAL, None),
        timeout=60,
        interval=0.02,
        what="every record delivered after the restart",
    )
    after = delivered(fn_server)[len(before):]

    # At least once: every record arrived.
    assert {r for r in delivered(fn_server)} == {(f"key-{k}", n) for k in range(KEYS) for n in range(PER_KEY)}
    # In order per key within each life of the server.
    for life, records in (("before the kill", before), ("after the restart", after)):
        for k in range(KEYS):
            seq = [n for key, n in records if key == f"key-{k}"]
            assert seq == sorted(seq) and len(seq) == len(set(seq)), f"key-{k} {life}: {seq[:20]}..."
    # After the restart each key resumes at or before where it stopped (the checkpoint), never
    # after: nothing was skipped.
    for k in range(KEYS):
        got_before = [n for key, n in before if key == f"key-{k}"]
        got_after = [n for key, n in after if key == f"key-{k}"]
        if got_after:
            resumed_at = got_after[0]
            assert resumed_at <= (max(got_before) + 1 if got_before else 0), (k, resumed_at, got_before[-5:])
    rc = server.stop(timeout=10.0)
    assert rc == 0, f"exit code {rc} after SIGTERM; stderr:\n{server.stderr_text()[-4000:]}"
