"""The embedded SNS (aws-semantics.md 3.5) through boto3 (query protocol), the AWS CLI and a raw
query-protocol client: topics, subscriptions, Publish / PublishBatch to SQS subscribers
(notification envelope, raw delivery, filter policies), FIFO topics, and AWS's errors."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.config import Config

from sluice_compat import ACCOUNT, REGION, expect_client_error, unique_name

NS = {"s": "http://sns.amazonaws.com/doc/2010-03-31/"}


@pytest.fixture(scope="module")
def sns(endpoint):
    cfg = Config(region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client(
        "sns",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )


@pytest.fixture
def make_topic(sns):
    arns = []

    def factory(prefix: str = "t", fifo: bool = False, **attributes) -> str:
        name = unique_name(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoTopic", "true")
        arn = sns.create_topic(Name=name, Attributes={k: str(v) for k, v in attributes.items()})["TopicArn"]
        arns.append(arn)
        return arn

    yield factory
    for arn in arns:
        sns.delete_topic(TopicArn=arn)


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_all(sqs, url: str, n: int) -> list:
    out = []
    for _ in range(20):
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        out.extend(got.get("Messages", []))
        if len(out) >= n:
            return out
    raise AssertionError(f"only {len(out)} of {n} messages arrived")


def test_topic_lifecycle_and_attributes(sns, make_topic):
    arn = make_topic(DisplayName="Shop")
    name = arn.rsplit(":", 1)[1]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    # CreateTopic is idempotent.
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Shop"})["TopicArn"] == arn
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Shop"
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == ACCOUNT
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Store")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Store"
    expect_client_error(
        lambda: sns.create_topic(Name=name, Attributes={"DisplayName": "Other"}),
        "InvalidParameter",
        400,
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
    )
    topics = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert arn in topics
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]


def test_errors_have_aws_codes_and_change_nothing(sns, make_topic, sqs, make_queue):
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique_name('missing')}"
    expect_client_error(lambda: sns.publish(TopicArn=missing, Message="x"), "NotFound", 404, "Topic does not exist")
    expect_client_error(lambda: sns.get_topic_attributes(TopicArn=missing), "NotFound", 404, "Topic does not exist")
    expect_client_error(lambda: sns.create_topic(Name="bad name!"), "InvalidParameter", 400, "Invalid parameter: Topic Name")
    arn = make_topic()
    expect_client_error(
        lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint="https://example.com/q"),
        "InvalidParameter",
        400,
        "Invalid parameter: SQS endpoint ARN",
    )
    expect_client_error(
        lambda: sns.subscribe(TopicArn=arn, Protocol="smoke-signal", Endpoint="x"),
        "InvalidParameter",
        400,
        "Invalid parameter: Amazon SNS does not support this protocol string: smoke-signal",
    )
    q = queue_arn(sqs, make_queue())
    expect_client_error(
        lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q, Attributes={"FilterPolicy": "{nope"}),
        "InvalidParameter",
        400,
    )
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    expect_client_error(lambda: sns.publish(TopicArn=arn, Message=""), "InvalidParameter", 400, "Invalid parameter: Empty message")
    expect_client_error(
        lambda: sns.publish(TopicArn=arn, Message="x" * 262145), "InvalidParameter", 400, "Invalid parameter: Message too long"
    )
    expect_client_error(
        lambda: sns.publish(TopicArn=arn, Message="x", MessageStructure="json"),
        "InvalidParameter",
        400,
        "Invalid parameter: Message Structure - JSON message body failed to parse",
    )
    expect_client_error(
        lambda: sns.unsubscribe(SubscriptionArn=f"{arn}:00000000-0000-0000-0000-000000000000"),
        "NotFound",
        404,
        "Subscription does not exist",
    )
    expect_client_error(lambda: sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[]), "EmptyBatchRequest", 400)
    expect_client_error(
        lambda: sns.publish_batch(
            TopicArn=arn,
            PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}],
        ),
        "BatchEntryIdsNotDistinct",
        400,
    )
    expect_client_error(
        lambda: sns.publish_batch(
            TopicArn=arn, PublishBatchRequestEntries=[{"Id": str(i), "Message": "m"} for i in range(11)]
        ),
        "TooManyEntriesInBatchRequest",
        400,
    )


def test_publish_to_sqs_envelope_raw_and_filters(sns, make_topic, sqs, make_queue):
    arn = make_topic()
    wrapped, raw, filtered = make_queue(), make_queue(), make_queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, wrapped))["SubscriptionArn"]
    sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, raw), Attributes={"RawMessageDelivery": "true"}
    )
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=queue_arn(sqs, filtered),
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"price": [{"numeric": [">=", 100]}]})},
    )
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["Protocol"] == "sqs" and attrs["TopicArn"] == arn and attrs["RawMessageDelivery"] == "false"

    mid = sns.publish(
        TopicArn=arn,
        Message="cheap",
        Subject="hello",
        MessageAttributes={"price": {"DataType": "Number", "StringValue": "5"}},
    )["MessageId"]
    batch = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "pricey", "MessageAttributes": {"price": {"DataType": "Number", "StringValue": "250"}}},
            {"Id": "two", "Message": ""},
        ],
    )
    assert [s["Id"] for s in batch["Successful"]] == ["one"]
    assert batch["Failed"][0]["Id"] == "two" and batch["Failed"][0]["Code"] == "InvalidParameter"
    assert batch["Failed"][0]["SenderFault"] is True

    docs = [json.loads(m["Body"]) for m in receive_all(sqs, wrapped, 2)]
    cheap = next(d for d in docs if d["Message"] == "cheap")
    assert cheap["Type"] == "Notification"
    assert cheap["MessageId"] == mid
    assert cheap["TopicArn"] == arn
    assert cheap["Subject"] == "hello"
    assert cheap["MessageAttributes"] == {"price": {"Type": "Number", "Value": "5"}}
    assert cheap["SignatureVersion"] == "1"
    assert {"Timestamp", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(cheap)

    raw_msgs = receive_all(sqs, raw, 2)
    assert sorted(m["Body"] for m in raw_msgs) == ["cheap", "pricey"]
    assert next(m for m in raw_msgs if m["Body"] == "pricey")["MessageAttributes"]["price"] == {
        "DataType": "Number",
        "StringValue": "250",
    }
    assert [m["Body"] for m in receive_all(sqs, filtered, 1)] == ["pricey"]


def test_unsubscribe_url_works_unsigned(sns, make_topic, sqs, make_queue, endpoint):
    arn = make_topic()
    url = make_queue()
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url))["SubscriptionArn"]
    sns.publish(TopicArn=arn, Message="first")
    doc = json.loads(receive_all(sqs, url, 1)[0]["Body"])
    unsubscribe = doc["UnsubscribeURL"]
    assert unsubscribe.startswith(endpoint)
    with urllib.request.urlopen(unsubscribe, timeout=10) as resp:
        assert resp.status == 200
        root = ET.fromstring(resp.read())
    assert root.tag == "{%s}UnsubscribeResponse" % NS["s"]
    assert sub not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(sns, make_topic, sqs, make_queue):
    arn = make_topic(fifo=True, ContentBasedDeduplication="true")
    url = make_queue(fifo=True)
    sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes={"RawMessageDelivery": "true"}
    )
    expect_client_error(
        lambda: sns.publish(TopicArn=arn, Message="x"),
        "InvalidParameter",
        400,
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
    )
    seqs = [sns.publish(TopicArn=arn, Message=f"m{i}", MessageGroupId="g")["SequenceNumber"] for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    dup = sns.publish(TopicArn=arn, Message="m0", MessageGroupId="g")
    assert dup["SequenceNumber"] == seqs[0]
    got = receive_all(sqs, url, 5)
    assert [m["Body"] for m in got] == [f"m{i}" for i in range(5)]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g"}


def test_aws_cli_publishes(endpoint, cli_env, sqs, make_queue, sns, make_topic):
    arn = make_topic()
    url = make_queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url), Attributes={"RawMessageDelivery": "true"})

    def cli(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "awscli", "sns", *args, "--endpoint-url", endpoint, "--region", REGION, "--output", "json"],
            env=cli_env, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    out = cli("publish", "--topic-arn", arn, "--message", "from the cli")
    assert len(out["MessageId"]) == 36
    assert [m["Body"] for m in receive_all(sqs, url, 1)] == ["from the cli"]
    listed = cli("list-subscriptions-by-topic", "--topic-arn", arn)
    assert listed["Subscriptions"][0]["Protocol"] == "sqs"


def test_raw_query_client_gets_aws_xml(endpoint, make_topic):
    arn = make_topic()

    def call(params):
        data = urllib.parse.urlencode({"Version": "2010-03-31", **params}).encode()
        req = urllib.request.Request(
            endpoint + "/",
            data=data,
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, ET.fromstring(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, ET.fromstring(e.read())

    status, root = call(
        {
            "Action": "Publish",
            "TopicArn": arn,
            "Message": "hi",
            "MessageAttributes.entry.1.Name": "k",
            "MessageAttributes.entry.1.Value.DataType": "String",
            "MessageAttributes.entry.1.Value.StringValue": "v",
        }
    )
    assert status == 200
    assert root.find("s:PublishResult/s:MessageId", NS).text
    assert root.find("s:ResponseMetadata/s:RequestId", NS).text
    status, root = call({"Action": "GetTopicAttributes", "TopicArn": arn + "-nope"})
    assert status == 404
    assert root.find("Error/Code").text == "NotFound"
    assert root.find("Error/Message").text == "Topic does not exist"
    assert root.find("Error/Type").text == "Sender"
    status, root = call({"Action": "Publish"})
    assert status == 400
    assert root.find("Error/Code").text == "InvalidParameter"


@pytest.mark.parametrize(
    "action",
    [
        "CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
        "Subscribe", "ConfirmSubscription", "Unsubscribe", "ListSubscriptions",
        "ListSubscriptionsByTopic", "GetSubscriptionAttributes", "SetSubscriptionAttributes",
        "Publish", "PublishBatch", "TagResource", "UntagResource", "ListTagsForResource",
    ],
)
def test_malformed_input_is_a_client_error_never_a_500(endpoint, make_topic, action):
    arn = make_topic()
    odd = ["", "arn:", "arn:aws:sns:::", arn + ":x:y:z", "x" * 3000, "\u00e9\u0000", "-1", "99999999999999999999"]
    keys = [
        "Name", "TopicArn", "TargetArn", "AttributeName", "AttributeValue", "Protocol", "Endpoint", "Token",
        "SubscriptionArn", "Message", "Subject", "MessageStructure", "MessageGroupId", "MessageDeduplicationId",
        "ResourceArn", "NextToken", "Attributes.entry.1.key", "Attributes.entry.1.value", "Tags.member.1.Key",
        "TagKeys.member.1", "MessageAttributes.entry.1.Name", "MessageAttributes.entry.1.Value.DataType",
        "MessageAttributes.entry.1.Value.BinaryValue", "PublishBatchRequestEntries.member.1.Id",
        "PublishBatchRequestEntries.member.1.Message", "PublishBatchRequestEntries.member.x.Id",
    ]
    for i, value in enumerate(odd):
        params = {"Action": action, "Version": "2010-03-31"}
        for j, k in enumerate(keys):
            if (i + j) % 3 == 0:
                params[k] = value
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(endpoint + "/", data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            status = e.code
        assert status < 500, (action, params, status)
