"""The embedded SQS through boto3 (JSON 1.0 protocol, aws-semantics.md 3.2).

botocore does not check SQS digests (the Java, .NET and Go SDKs do), so every MD5 here is
recomputed with AWS's algorithm (``md5_of_attributes``) and compared.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from sluice_compat import ACCOUNT, REGION, expect_client_error, lambda_client, unique_name

NON_EXISTENT = "AWS.SimpleQueueService.NonExistentQueue"

STANDARD_ALL = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
}
FIFO_ALL = STANDARD_ALL | {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}


def md5_of_attributes(attrs: dict) -> str:
    """AWS's MD5OfMessageAttributes: per attribute in name order, length-prefixed name and type,
    a transport byte (1 string, 2 binary) and the length-prefixed value."""

    def lp(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        buf += lp(name.encode()) + lp(a["DataType"].encode())
        if "StringValue" in a:
            buf += b"\x01" + lp(a["StringValue"].encode())
        else:
            buf += b"\x02" + lp(bytes(a["BinaryValue"]))
    return hashlib.md5(buf).hexdigest()


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def arn_of(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name_of(url)}"


def counts(sqs, url: str) -> tuple:
    a = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(a["ApproximateNumberOfMessages"]),
        int(a["ApproximateNumberOfMessagesNotVisible"]),
        int(a["ApproximateNumberOfMessagesDelayed"]),
    )


# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------


def test_queue_url_shape_and_config_queues(sqs, endpoint):
    for name in ("jobs", "jobs.fifo", "dlq"):
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == f"{endpoint}/{ACCOUNT}/{name}"
    fifo = sqs.get_queue_attributes(QueueUrl=f"{endpoint}/{ACCOUNT}/jobs.fifo", AttributeNames=["FifoQueue"])
    assert fifo["Attributes"] == {"FifoQueue": "true"}


def test_create_is_idempotent_only_with_the_same_attributes(sqs, make_queue):
    url = make_queue("idem", VisibilityTimeout=40)
    name = name_of(url)
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    err = expect_client_error(
        lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"}),
        "QueueAlreadyExists",
        400,
        "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
    )
    assert err["Error"]["QueryErrorCode"] == "QueueNameExists"


def test_get_queue_attributes_all(sqs, make_queue):
    url = make_queue("attrs", DelaySeconds=3, MessageRetentionPeriod=600)
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(a) == STANDARD_ALL
    assert a["QueueArn"] == arn_of(url)
    assert a["DelaySeconds"] == "3"
    assert a["MessageRetentionPeriod"] == "600"
    assert a["VisibilityTimeout"] == "30"
    assert a["MaximumMessageSize"] == "1048576"
    assert abs(int(a["CreatedTimestamp"]) - time.time()) < 60
    f = make_queue("attrs", fifo=True, ContentBasedDeduplication="true")
    fa = sqs.get_queue_attributes(QueueUrl=f, AttributeNames=["All"])["Attributes"]
    assert set(fa) == FIFO_ALL
    assert (fa["FifoQueue"], fa["ContentBasedDeduplication"], fa["DeduplicationScope"]) == ("true", "true", "queue")
    # No names: no attributes; a subset: only those.
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    one = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
    assert one == {"DelaySeconds": "3"}


def test_set_queue_attributes_and_redrive_policy(sqs, make_queue):
    dlq = make_queue("dlq")
    url = make_queue("src")
    policy = json.dumps({"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": "4"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "9"})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"])["Attributes"]
    assert json.loads(a["RedrivePolicy"]) == {"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 4}
    assert a["VisibilityTimeout"] == "9"
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    # Clearing it.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == []


def test_list_queues_prefix_and_paging(sqs, make_queue):
    prefix = unique_name("lst")
    urls = sorted(sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3))
    try:
        assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
        assert page["QueueUrls"] == urls[:2]
        rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=page["NextToken"])
        assert rest["QueueUrls"] == urls[2:]
        assert "NextToken" not in rest
        assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique_name("none"))
    finally:
        for u in urls:
            sqs.delete_queue(QueueUrl=u)


def test_tags(sqs, make_queue):
    url = make_queue("tags", tags={"team": "a"})
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev", "team": "b"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}


def test_missing_queue_error_is_aws_shaped(sqs, endpoint):
    missing = f"{endpoint}/{ACCOUNT}/{unique_name('gone')}"
    for call in (
        lambda: sqs.get_queue_url(QueueName=name_of(missing)),
        lambda: sqs.send_message(QueueUrl=missing, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=missing),
        lambda: sqs.delete_queue(QueueUrl=missing),
        lambda: sqs.purge_queue(QueueUrl=missing),
    ):
        err = expect_client_error(call, NON_EXISTENT, 400, "The specified queue does not exist.")
        assert err["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
        assert err["Error"]["Type"] == "Sender"
        assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == f"{NON_EXISTENT};Sender"


def test_raw_json_error_body(endpoint):
    req = urllib.request.Request(
        endpoint + "/",
        data=json.dumps({"QueueName": unique_name("nope")}).encode(),
        headers={"X-Amz-Target": "AmazonSQS.GetQueueUrl", "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 400
        assert e.headers["Content-Type"] == "application/x-amz-json-1.0"
        assert e.headers["x-amzn-query-error"] == f"{NON_EXISTENT};Sender"
        assert json.loads(e.read()) == {
            "__type": "com.amazonaws.sqs#QueueDoesNotExist",
            "message": "The specified queue does not exist.",
        }
    else:
        raise AssertionError("GetQueueUrl of a missing queue succeeded")


def test_delete_and_purge(sqs, make_queue):
    url = make_queue("purge")
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    expect_client_error(
        lambda: sqs.purge_queue(QueueUrl=url),
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        403,
        f"Only one PurgeQueue operation on {name_of(url)} is allowed every 60 seconds.",
    )
    sqs.delete_queue(QueueUrl=url)
    expect_client_error(lambda: sqs.get_queue_url(QueueName=name_of(url)), NON_EXISTENT, 400)


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------


def test_send_receive_digests_match_aws_algorithm(sqs, make_queue):
    url = make_queue("md5")
    attrs = {
        "timestamp": {"DataType": "Number", "StringValue": "1493147359900"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"},
        "label": {"DataType": "String.custom", "StringValue": "héllo"},
    }
    body = "Grüße, world"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes=attrs,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
    )
    assert sent["MD5OfMessageBody"] == md5(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
    )
    # The known AWS vector.
    assert md5_of_attributes({"timestamp": attrs["timestamp"]}) == "235c5c510d26fb653d073faed50ae77c"
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])["Messages"]
    m = got[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == body
    assert m["MD5OfBody"] == md5(body)
    assert m["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\xff\x10"
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(m["MessageAttributes"])
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    a = m["Attributes"]
    assert a["ApproximateReceiveCount"] == "1"
    assert a["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert abs(int(a["SentTimestamp"]) / 1000 - time.time()) < 60
    assert int(a["ApproximateFirstReceiveTimestamp"]) >= int(a["SentTimestamp"])


@pytest.mark.parametrize(
    "names, expected",
    [
        pytest.param(["All"], {"General", "Hello", "Help.Me"}, id="all"),
        pytest.param([".*"], {"General", "Hello", "Help.Me"}, id="dot-star"),
        pytest.param(["Hel.*"], {"Hello", "Help.Me"}, id="prefix"),
        pytest.param(["General", "Nope"], {"General"}, id="names"),
        pytest.param(["Nope"], set(), id="none-present"),
        pytest.param([], set(), id="not-asked"),
    ],
)
def test_message_attribute_name_filters(sqs, make_queue, names, expected):
    url = make_queue("filter")
    attrs = {k: {"DataType": "String", "StringValue": v} for k, v in {"General": "Kenobi", "Hello": "There", "Help.Me": "Me"}.items()}
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=attrs)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=names)["Messages"][0]
    assert set(m.get("MessageAttributes", {})) == expected
    if expected:
        assert m["MD5OfMessageAttributes"] == md5_of_attributes({k: attrs[k] for k in expected})
    else:
        assert "MD5OfMessageAttributes" not in m


def test_batch_send_and_delete(sqs, make_queue):
    url = make_queue("batch")
    entries = [{"Id": f"m{i}", "MessageBody": f"body-{i}"} for i in range(10)]
    out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert [e["Id"] for e in out["Successful"]] == [e["Id"] for e in entries]
    assert all(e["MD5OfMessageBody"] == md5(f"body-{i}") for i, e in enumerate(out["Successful"]))
    assert out.get("Failed", []) == []
    received = []
    for _ in range(10):
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if len(received) == 10:
            break
    assert sorted(m["Body"] for m in received) == sorted(e["MessageBody"] for e in entries)
    d = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[:9])]
        + [{"Id": "junk", "ReceiptHandle": "junk"}],
    )
    assert len(d["Successful"]) == 9
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[9]["ReceiptHandle"])
    assert d["Failed"] == [
        {
            "Id": "junk",
            "SenderFault": True,
            "Code": "ReceiptHandleIsInvalid",
            "Message": 'The input receipt handle "junk" is not a valid receipt handle.',
        }
    ]
    assert counts(sqs, url) == (0, 0, 0)


def test_batch_per_entry_failures(sqs_raw, make_queue):
    url = make_queue("entries", MaximumMessageSize=1024)
    out = sqs_raw.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "MessageBody": "fine"},
            {"Id": "big", "MessageBody": "x" * 1025},
            {"Id": "chars", "MessageBody": "bad\u0001"},
            {"Id": "delay", "MessageBody": "late", "DelaySeconds": 901},
        ],
    )
    assert [e["Id"] for e in out["Successful"]] == ["ok"]
    failed = {e["Id"]: (e["Code"], e["SenderFault"], e["Message"]) for e in out["Failed"]}
    assert failed == {
        "big": ("InvalidParameterValue", True, "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."),
        "chars": (
            "InvalidMessageContents",
            True,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        ),
        "delay": ("InvalidParameterValue", True, "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."),
    }


@pytest.mark.parametrize(
    "entries, code, message",
    [
        pytest.param([], "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.", id="empty"),
        pytest.param(
            [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 11.",
            id="eleven",
        ),
        pytest.param(
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Id a repeated.",
            id="repeated-id",
        ),
        pytest.param(
            [{"Id": "bad:id", "MessageBody": "x"}],
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            id="bad-id",
        ),
        pytest.param(
            [{"Id": f"e{i}", "MessageBody": "x" * 200_000} for i in range(6)],
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.",
            id="too-long",
        ),
    ],
)
def test_batch_list_errors_change_nothing(sqs_raw, make_queue, entries, code, message):
    url = make_queue("badbatch")
    expect_client_error(lambda: sqs_raw.send_message_batch(QueueUrl=url, Entries=entries), code, 400, message)
    assert counts(sqs_raw, url) == (0, 0, 0)


def test_visibility_timeout_receive_count_and_stale_handles(sqs, make_queue):
    url = make_queue("vis", VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert counts(sqs, url) == (0, 1, 0)
    # The long poll answers when the visibility timeout runs out.
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5, VisibilityTimeout=30)["Messages"][0]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["Attributes"]["ApproximateFirstReceiveTimestamp"] == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    expect_client_error(
        lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=5),
        "InvalidParameterValue",
        400,
        f"Value {first['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
    )
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    # A standard queue deletes with an older handle, as AWS does.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    expect_client_error(
        lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage"),
        "ReceiptHandleIsInvalid",
        400,
        'The input receipt handle "garbage" is not a valid receipt handle.',
    )


def test_delay_seconds(sqs, make_queue):
    url = make_queue("delay")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert counts(sqs, url) == (0, 0, 1)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "later"


def test_long_poll_answers_as_soon_as_a_message_arrives(sqs, make_queue, endpoint):
    url = make_queue("poll")
    result = {}

    def poll():
        from sluice_compat import sqs_client

        t0 = time.monotonic()
        result["resp"] = sqs_client(endpoint).receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    t.join(timeout=25)
    assert result["resp"]["Messages"][0]["Body"] == "wake"
    assert result["took"] < 5, result["took"]


def test_long_poll_queue_default_wait(sqs, make_queue):
    url = make_queue("waitdefault", ReceiveMessageWaitTimeSeconds=1)
    t0 = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert 0.9 <= time.monotonic() - t0 < 5


def test_redrive_to_dead_letter_queue(sqs, make_queue):
    dlq = make_queue("dead")
    policy = json.dumps({"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 2})
    url = make_queue("redrive", VisibilityTimeout=30, RedrivePolicy=policy)
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    for n in (1, 2):
        m = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
        assert m["Attributes"]["ApproximateReceiveCount"] == str(n)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url), "the third receive moves it instead"
    assert counts(sqs, url) == (0, 0, 0)
    dead = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"][0]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(url)


def test_fifo_order_groups_and_deduplication(sqs, make_queue):
    url = make_queue("order", fifo=True)
    sent = []
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a"), ("b2", "b")]:
        sent.append(sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body))
    seqs = [int(s["SequenceNumber"]) for s in sent]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    dup = sqs.send_message(QueueUrl=url, MessageBody="ignored", MessageGroupId="a", MessageDeduplicationId="a1")
    assert (dup["MessageId"], dup["SequenceNumber"]) == (sent[0]["MessageId"], sent[0]["SequenceNumber"])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a1", "a2"]
    assert first[0]["Attributes"]["MessageGroupId"] == "a"
    assert first[0]["Attributes"]["MessageDeduplicationId"] == "a1"
    assert first[0]["Attributes"]["SequenceNumber"] == sent[0]["SequenceNumber"]
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in second] == ["b1", "b2"], "group a is in flight"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    for m in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in third] == ["a3"]
    # FIFO refuses a handle whose message is visible again.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third[0]["ReceiptHandle"], VisibilityTimeout=0)
    expect_client_error(
        lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=third[0]["ReceiptHandle"]),
        "InvalidParameterValue",
        400,
        f"Value {third[0]['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
    )


def test_fifo_content_based_deduplication(sqs, make_queue):
    url = make_queue("cbd", fifo=True, ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    m = sqs.receive_message(QueueUrl=url, AttributeNames=["MessageDeduplicationId"])["Messages"][0]
    assert m["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_fifo_send_rules(sqs_raw, make_queue):
    url = make_queue("rules", fifo=True)
    expect_client_error(
        lambda: sqs_raw.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d"),
        "MissingParameter",
        400,
        "The request must contain the parameter MessageGroupId.",
    )
    expect_client_error(
        lambda: sqs_raw.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g"),
        "InvalidParameterValue",
        400,
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
    )
    expect_client_error(
        lambda: sqs_raw.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=2),
        "InvalidParameterValue",
        400,
        "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
    )
    assert counts(sqs_raw, url) == (0, 0, 0)


# ---------------------------------------------------------------------------
# Bad input: AWS's error, nothing changed, never a 500
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, code, message",
    [
        pytest.param(
            lambda c, u: c.receive_message(QueueUrl=u, MaxNumberOfMessages=0),
            "InvalidParameterValue",
            "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
            id="max-messages-0",
        ),
        pytest.param(
            lambda c, u: c.receive_message(QueueUrl=u, WaitTimeSeconds=21),
            "InvalidParameterValue",
            "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
            id="wait-21",
        ),
        pytest.param(
            lambda c, u: c.receive_message(QueueUrl=u, VisibilityTimeout=-1),
            "InvalidParameterValue",
            "Value -1 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.",
            id="visibility-negative",
        ),
        pytest.param(
            lambda c, u: c.send_message(QueueUrl=u, MessageBody=""),
            "MissingParameter",
            "The request must contain the parameter MessageBody.",
            id="empty-body",
        ),
        pytest.param(
            lambda c, u: c.send_message(QueueUrl=u, MessageBody="x", MessageDeduplicationId="d"),
            "InvalidParameterValue",
            "Value d for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.",
            id="dedup-on-standard",
        ),
        pytest.param(
            lambda c, u: c.send_message(QueueUrl=u, MessageBody="x", MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}}),
            "InvalidParameterValue",
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'.",
            id="reserved-attribute",
        ),
        pytest.param(
            lambda c, u: c.send_message(QueueUrl=u, MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "one"}}),
            "InvalidParameterValue",
            "Can't cast the value of message (user) attribute 'n' to a number.",
            id="not-a-number",
        ),
        pytest.param(
            lambda c, u: c.send_message(QueueUrl=u, MessageBody="x", MessageAttributes={"t": {"DataType": "Date", "StringValue": "v"}}),
            "InvalidParameterValue",
            "The type of message (user) attribute 't' is invalid. You must use only the following supported type prefixes: Binary, Number, String.",
            id="bad-type",
        ),
        pytest.param(
            lambda c, u: c.send_message(
                QueueUrl=u, MessageBody="x", MessageAttributes={f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
            ),
            "InvalidParameterValue",
            "Number of message attributes [11] exceeds the allowed maximum [10].",
            id="eleven-attributes",
        ),
        pytest.param(
            lambda c, u: c.set_queue_attributes(QueueUrl=u, Attributes={"VisibilityTimeout": "43201"}),
            "InvalidAttributeValue",
            "Invalid value for the parameter VisibilityTimeout.",
            id="visibility-attribute",
        ),
        pytest.param(
            lambda c, u: c.set_queue_attributes(QueueUrl=u, Attributes={"Nonsense": "1"}),
            "InvalidAttributeName",
            "Unknown Attribute Nonsense.",
            id="unknown-attribute",
        ),
        pytest.param(
            lambda c, u: c.set_queue_attributes(QueueUrl=u, Attributes={"FifoQueue": "true"}),
            "InvalidAttributeName",
            "Unknown Attribute FifoQueue.",
            id="fifo-on-standard",
        ),
        pytest.param(
            lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["Bogus"]),
            "InvalidAttributeName",
            "Unknown Attribute Bogus.",
            id="unknown-get",
        ),
        pytest.param(
            lambda c, u: c.set_queue_attributes(
                QueueUrl=u, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": "dummy", "maxReceiveCount": 42})}
            ),
            "InvalidParameterValue",
            'Value {"deadLetterTargetArn": "dummy", "maxReceiveCount": 42} for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn.',
            id="redrive-arn",
        ),
        pytest.param(
            lambda c, u: c.change_message_visibility(QueueUrl=u, ReceiptHandle="x", VisibilityTimeout=43201),
            "InvalidParameterValue",
            "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.",
            id="change-visibility-range",
        ),
        pytest.param(
            lambda c, u: c.list_queues(MaxResults=1001),
            "InvalidParameterValue",
            "Value 1001 for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
            id="list-max-results",
        ),
    ],
)
def test_bad_input_gets_aws_errors_and_changes_nothing(sqs_raw, make_queue, call, code, message):
    url = make_queue("bad", DelaySeconds=0)
    before = sqs_raw.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    expect_client_error(lambda: call(sqs_raw, url), code, 400, message)
    after = sqs_raw.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert after == before


@pytest.mark.parametrize(
    "name, attributes, code, message",
    [
        pytest.param("has space", {}, "InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length", id="bad-name"),
        pytest.param("x" * 81, {}, "InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length", id="long-name"),
        pytest.param(
            "nofifo",
            {"FifoQueue": "true"},
            "InvalidParameterValue",
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
            id="fifo-name",
        ),
        pytest.param("q", {"MessageRetentionPeriod": "59"}, "InvalidAttributeValue", "Invalid value for the parameter MessageRetentionPeriod.", id="retention"),
        pytest.param("q", {"MaximumMessageSize": "1048577"}, "InvalidAttributeValue", "Invalid value for the parameter MaximumMessageSize.", id="max-size"),
        pytest.param("q", {"ContentBasedDeduplication": "true"}, "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.", id="cbd-standard"),
    ],
)
def test_bad_create_queue_creates_nothing(sqs_raw, name, attributes, code, message):
    name = name if name != "q" else unique_name("badq")
    expect_client_error(lambda: sqs_raw.create_queue(QueueName=name, Attributes=attributes), code, 400, message)
    assert name not in [u.rsplit("/", 1)[1] for u in sqs_raw.list_queues().get("QueueUrls", [])]


@pytest.mark.parametrize(
    "target, body",
    [
        pytest.param("AmazonSQS.SendMessage", b"{not json", id="malformed-json"),
        pytest.param("AmazonSQS.SendMessage", b"[1, 2]", id="array"),
        pytest.param("AmazonSQS.SendMessage", json.dumps({"QueueUrl": 5, "MessageBody": "x"}).encode(), id="wrong-type"),
        pytest.param("AmazonSQS.ReceiveMessage", json.dumps({"QueueUrl": "x", "MaxNumberOfMessages": 1e30}).encode(), id="huge-number"),
        pytest.param("AmazonSQS.ReceiveMessage", json.dumps({"QueueUrl": "not-a-url"}).encode(), id="not-a-url"),
        pytest.param("AmazonSQS.NoSuchOperation", b"{}", id="unknown-operation"),
        pytest.param("AmazonSQS.SendMessageBatch", json.dumps({"QueueUrl": "http://h/000000000000/jobs", "Entries": [{}]}).encode(), id="entry-without-id"),
    ],
)
def test_malformed_requests_are_400_never_500(endpoint, target, body):
    req = urllib.request.Request(
        endpoint + "/", data=body, headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}, method="POST"
    )
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 400, (e.code, e.read())
        assert "__type" in json.loads(e.read())
    else:
        raise AssertionError("accepted a malformed request")


def test_mapping_validation_sees_queues_created_through_the_api(sqs, fn, esm, endpoint):
    url = sqs.create_queue(QueueName=unique_name("esmq"))["QueueUrl"]
    created = esm.create(FunctionName=fn, EventSourceArn=arn_of(url))
    assert created["EventSourceArn"] == arn_of(url)
    lam = lambda_client(endpoint)
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('gone')}"
    expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=missing),
        "InvalidParameterValueException",
        400,
    )


def test_message_move_task_redrives_the_dead_letter_queue(sqs, make_queue):
    dlq = make_queue("dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = make_queue("src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for i in range(4):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    # Visible again at once (VisibilityTimeout 0): the next receive is past maxReceiveCount.
    got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert len(got) == 4
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "4"
    }

    expect_client_error(
        lambda: sqs.start_message_move_task(SourceArn=src_arn),
        "InvalidParameterValue",
        400,
        "Source queue must be configured as a Dead Letter Queue.",
    )
    expect_client_error(
        lambda: sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('nope')}"),
        "ResourceNotFoundException",
        400,
    )
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    deadline = time.time() + 20
    while True:
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] != "RUNNING" or time.time() > deadline:
            break
    assert task["Status"] == "COMPLETED", task
    assert task["ApproximateNumberOfMessagesMoved"] == 4
    assert task["ApproximateNumberOfMessagesToMove"] == 4
    assert task["SourceArn"] == dlq_arn
    assert "TaskHandle" not in task
    back = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in back) == ["m0", "m1", "m2", "m3"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in back} == {"1"}, "moved messages start afresh"
    expect_client_error(
        lambda: sqs.cancel_message_move_task(TaskHandle=handle), "AWS.SimpleQueueService.UnsupportedOperation", 400
    )
