"""SQS durability under SIGKILL on a private server (own data dir).

Contract: a message is acknowledged by SendMessage(Batch) only once it is on disk, and deletes
and receives are answered only once durable. After ``kill -9`` and a restart:

- every acknowledged message that was not acknowledged deleted is still there, with its body;
- no acknowledged delete comes back;
- messages that were in flight stay invisible until their visibility timeout runs out, then
  reappear with their receive count kept (2 on the next receive);
- nothing appears that nobody sent.

Senders and a receiver run until the server dies; the main thread kills it once enough is
acknowledged or a deadline passes (polled, no fixed sleeps).
"""

from __future__ import annotations

import threading
import time

import pytest

from sluice_compat import poll_until, sqs_client

SENDERS = 3
TARGET_SENT = 3000
LOAD_DEADLINE = 2.0
MIN_SENT = 200
IN_FLIGHT_VISIBILITY = 6  # seconds
QUEUE = "crash-queue"


class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self.attempted: set = set()
        self.sent: dict = {}  # message id -> body
        self.deleted: set = set()  # message ids whose delete was acknowledged
        self.delete_attempted: set = set()  # deletes sent (the answer may have been cut off)
        self.in_flight: dict = {}  # message id -> monotonic time of the acknowledged receive

    def note(self, **kw):
        with self._lock:
            for k, v in kw.items():
                getattr(self, k).update(v)

    def count(self) -> int:
        with self._lock:
            return len(self.sent)


def sender(url, endpoint, writer: int, ledger: Ledger):
    client = sqs_client(endpoint)
    for batch in range(100_000):
        bodies = [f"w{writer}-b{batch}-i{i}-" + "x" * 200 for i in range(10)]
        ledger.note(attempted=set(bodies))
        try:
            out = client.send_message_batch(QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": b} for i, b in enumerate(bodies)])
        except Exception:
            return
        assert not out.get("Failed"), out
        by_id = {f"e{i}": b for i, b in enumerate(bodies)}
        ledger.note(sent={e["MessageId"]: by_id[e["Id"]] for e in out["Successful"]})


def receiver(url, endpoint, ledger: Ledger):
    """Receives; deletes every other message, keeps the rest in flight."""
    client = sqs_client(endpoint)
    for _ in range(100_000):
        try:
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=IN_FLIGHT_VISIBILITY)
        except Exception:
            return
        now = time.monotonic()
        msgs = got.get("Messages", [])
        keep = msgs[::2]
        drop = msgs[1::2]
        ledger.note(in_flight={m["MessageId"]: now for m in keep})
        if drop:
            ledger.note(delete_attempted={m["MessageId"] for m in drop})
            try:
                out = client.delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(drop)]
                )
            except Exception:
                ledger.note(in_flight={m["MessageId"]: now for m in drop})
                return
            ok = {drop[int(e["Id"][1:])]["MessageId"] for e in out["Successful"]}
            ledger.note(deleted=ok)


def drain(client, url, ledger: Ledger, deadline: float) -> dict:
    """Receives and deletes everything until every expected message was seen: {id: (body, count)}."""
    expected = set(ledger.sent) - ledger.deleted - ledger.delete_attempted
    seen = {}
    end = time.monotonic() + deadline
    while time.monotonic() < end and not expected <= set(seen):
        got = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2, AttributeNames=["ApproximateReceiveCount"]
        )
        msgs = got.get("Messages", [])
        for m in msgs:
            assert m["MessageId"] not in seen, f"{m['MessageId']} delivered twice while draining"
            seen[m["MessageId"]] = (m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]))
        if msgs:
            client.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
            )
    return seen


@pytest.mark.parametrize("fsync", ["true", "false"])
def test_acknowledged_messages_survive_sigkill(server_factory, tmp_path, fsync):
    """With --fsync false too: what was written before the answer is in the OS's page cache,
    which a killed process does not lose."""
    data = tmp_path / "data"
    data.mkdir()
    server = server_factory(data, ["--fsync", fsync]).start()
    url = sqs_client(server.endpoint).create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    ledger = Ledger()
    threads = [threading.Thread(target=sender, args=(url, server.endpoint, w, ledger), daemon=True) for w in range(SENDERS)]
    threads.append(threading.Thread(target=receiver, args=(url, server.endpoint, ledger), daemon=True))
    for t in threads:
        t.start()
    try:
        poll_until(lambda: (ledger.count() >= TARGET_SENT, None), timeout=LOAD_DEADLINE, interval=0.01, what="load")
    except AssertionError:
        pass
    server.kill()
    killed_at = time.monotonic()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a client thread did not stop after the kill"
    assert ledger.count() >= MIN_SENT, f"only {ledger.count()} messages acknowledged before the kill"
    assert ledger.in_flight, "nothing was in flight at the kill"

    server.start(timeout=15.0)
    client = sqs_client(server.endpoint)
    url = client.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    # A delete cut off by the kill may still have been applied: such messages are not
    # counted as in flight.
    in_flight = set(ledger.in_flight) - ledger.deleted - ledger.delete_attempted
    if time.monotonic() - max(ledger.in_flight.values()) < IN_FLIGHT_VISIBILITY - 2:
        a = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        assert int(a["ApproximateNumberOfMessagesNotVisible"]) >= len(in_flight), "in-flight messages lost their visibility timeout"
    seen = drain(client, url, ledger, deadline=IN_FLIGHT_VISIBILITY + 30)

    expected = set(ledger.sent) - ledger.deleted
    missing = expected - set(seen) - ledger.delete_attempted
    assert not missing, f"{len(missing)} of {len(expected)} acknowledged messages lost, e.g. {sorted(missing)[:3]}"
    resurrected = ledger.deleted & set(seen)
    assert not resurrected, f"{len(resurrected)} acknowledged deletes came back"
    strangers = [b for b, _ in seen.values() if b not in ledger.attempted]
    assert not strangers, f"messages nobody sent: {strangers[:3]}"
    for mid, (body, count) in seen.items():
        if mid in ledger.sent:
            assert body == ledger.sent[mid], f"{mid}: body changed"
        if mid in in_flight:
            assert count >= 2, f"{mid}: in flight at the kill, but its receive count restarted ({count})"
    assert time.monotonic() - killed_at < 120
    rc = server.stop(timeout=10.0)
    assert rc == 0, f"exit code {rc} after SIGTERM; stderr:\n{server.stderr_text()[-4000:]}"
