#!/usr/bin/env bash
# Sluice's main job on the embedded default, end to end, in one terminal:
# an HTTP function prints what it gets; Sluice serves Kinesis, SQS-style sources and the
# Lambda API from examples/sluice.toml; records put into the `orders` stream flow through
# the mapping into the function. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p sluice
data=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$data"' EXIT

python3 -u examples/echo_function.py 9000 &
target/release/sluice serve --listen 127.0.0.1:4566 --data-dir "$data/sluice" --config examples/sluice.toml &

python3 - <<'PY'
import base64, json, time, urllib.request
base = "http://127.0.0.1:4566"
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/_sluice/health", timeout=1).read()
        break
    except Exception:
        time.sleep(0.05)
def kinesis(op, body):
    req = urllib.request.Request(base + "/", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Kinesis_20131202." + op,
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0",
    })
    return json.loads(urllib.request.urlopen(req).read())
for i in range(3):
    data = base64.b64encode(json.dumps({"order": i, "item": "book"}).encode()).decode()
    out = kinesis("PutRecord", {"StreamName": "orders", "PartitionKey": f"customer-{i}", "Data": data})
    print(f"put order {i} -> {out['ShardId']} {out['SequenceNumber']}", flush=True)
PY
echo "Records above flow into the echo function (its output is the JSON events). Ctrl-C to stop."
wait
