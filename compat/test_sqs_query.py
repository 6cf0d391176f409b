"""The embedded SQS over the query protocol (aws-semantics.md 3.2): a raw client that POSTs
form-encoded ``Action=...&Version=2012-11-05`` bodies (as older SDKs do, unsigned and signed)
and parses AWS's XML answers."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from sluice_compat import ACCOUNT, unique_name

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
Q = {"q": NS}


class QueryClient:
    def __init__(self, endpoint: str, signed: bool = True):
        self.endpoint = endpoint
        self.signed = signed

    def call(self, action: str, params: dict | None = None, path: str = "/", method: str = "POST"):
        """(HTTP status, root element, headers)."""
        form = {"Action": action, "Version": "2012-11-05", **(params or {})}
        data = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if self.signed:
            headers["Authorization"] = (
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
            )
        url = self.endpoint + path
        if method == "GET":
            url, data = url + "?" + data.decode(), None
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, body, hdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            status, body, hdrs = e.code, e.read(), e.headers
        assert hdrs["Content-Type"] == "text/xml", (status, body)
        return status, ET.fromstring(body), hdrs

    def ok(self, action: str, params: dict | None = None, **kw):
        status, root, hdrs = self.call(action, params, **kw)
        assert status == 200, ET.tostring(root)
        assert root.tag == f"{{{NS}}}{action}Response", root.tag
        request_id = root.findtext("q:ResponseMetadata/q:RequestId", namespaces=Q)
        assert request_id and request_id == hdrs["x-amzn-RequestId"]
        return root.find(f"q:{action}Result", Q), root

    def error(self, action: str, params: dict | None = None, **kw):
        status, root, hdrs = self.call(action, params, **kw)
        assert root.tag == f"{{{NS}}}ErrorResponse", ET.tostring(root)
        err = root.find("q:Error", Q)
        assert root.findtext("q:RequestId", namespaces=Q) == hdrs["x-amzn-RequestId"]
        return status, {c.tag.split("}")[1]: (c.text or "") for c in err}


@pytest.fixture
def query(endpoint):
    return QueryClient(endpoint)


@pytest.fixture
def queue(query):
    """A fresh standard queue (name, url), deleted at teardown."""
    name = unique_name("qq")
    result, _ = query.ok("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"})
    url = result.findtext("q:QueueUrl", namespaces=Q)
    yield name, url
    query.call("DeleteQueue", {"QueueUrl": url})


def md5_of_attributes(attrs: dict) -> str:
    def lp(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    buf = b""
    for name in sorted(attrs):
        dtype, value = attrs[name]
        buf += lp(name.encode()) + lp(dtype.encode())
        buf += (b"\x02" + lp(value)) if isinstance(value, bytes) else (b"\x01" + lp(value.encode()))
    return hashlib.md5(buf).hexdigest()


def test_create_get_list_attributes(query, queue, endpoint):
    name, url = queue
    assert url == f"{endpoint}/{ACCOUNT}/{name}"
    result, _ = query.ok("GetQueueUrl", {"QueueName": name})
    assert result.findtext("q:QueueUrl", namespaces=Q) == url
    result, _ = query.ok("ListQueues", {"QueueNamePrefix": name})
    assert [e.text for e in result.findall("q:QueueUrl", Q)] == [url]
    result, _ = query.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"})
    attrs = {a.findtext("q:Name", namespaces=Q): a.findtext("q:Value", namespaces=Q) for a in result.findall("q:Attribute", Q)}
    assert attrs["VisibilityTimeout"] == "40"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    query.ok("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "2"})
    result, _ = query.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "DelaySeconds"})
    assert [a.findtext("q:Value", namespaces=Q) for a in result.findall("q:Attribute", Q)] == ["2"]
    # Operations without output have only ResponseMetadata.
    _, root = query.ok("TagQueue", {"QueueUrl": url, "Tag.1.Key": "team", "Tag.1.Value": "a"})
    assert [c.tag.split("}")[1] for c in root] == ["ResponseMetadata"]
    result, _ = query.ok("ListQueueTags", {"QueueUrl": url})
    assert [(t.findtext("q:Key", namespaces=Q), t.findtext("q:Value", namespaces=Q)) for t in result.findall("q:Tag", Q)] == [("team", "a")]


def test_send_receive_delete_with_attributes(query, queue):
    _, url = queue
    body = "<hello & 'world'>"
    result, _ = query.ok(
        "SendMessage",
        {
            "QueueUrl": url,
            "MessageBody": body,
            "MessageAttribute.1.Name": "color",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "red",
            "MessageAttribute.2.Name": "raw",
            "MessageAttribute.2.Value.DataType": "Binary",
            "MessageAttribute.2.Value.BinaryValue": base64.b64encode(b"\x00\x01\x02").decode(),
        },
    )
    expected_attrs = md5_of_attributes({"color": ("String", "red"), "raw": ("Binary", b"\x00\x01\x02")})
    assert result.findtext("q:MD5OfMessageBody", namespaces=Q) == hashlib.md5(body.encode()).hexdigest()
    assert result.findtext("q:MD5OfMessageAttributes", namespaces=Q) == expected_attrs
    message_id = result.findtext("q:MessageId", namespaces=Q)
    result, _ = query.ok(
        "ReceiveMessage",
        {"QueueUrl": url, "AttributeName.1": "All", "MessageAttributeName.1": "All", "MaxNumberOfMessages": "10"},
    )
    messages = result.findall("q:Message", Q)
    assert len(messages) == 1
    m = messages[0]
    assert [c.tag.split("}")[1] for c in m][:4] == ["MessageId", "ReceiptHandle", "MD5OfBody", "Body"]
    assert m.findtext("q:MessageId", namespaces=Q) == message_id
    assert m.findtext("q:Body", namespaces=Q) == body
    assert m.findtext("q:MD5OfBody", namespaces=Q) == hashlib.md5(body.encode()).hexdigest()
    assert m.findtext("q:MD5OfMessageAttributes", namespaces=Q) == expected_attrs
    system = {a.findtext("q:Name", namespaces=Q): a.findtext("q:Value", namespaces=Q) for a in m.findall("q:Attribute", Q)}
    assert system["ApproximateReceiveCount"] == "1"
    assert set(system) >= {"SenderId", "SentTimestamp", "ApproximateFirstReceiveTimestamp"}
    user = {
        a.findtext("q:Name", namespaces=Q): (
            a.findtext("q:Value/q:DataType", namespaces=Q),
            a.findtext("q:Value/q:StringValue", namespaces=Q) or a.findtext("q:Value/q:BinaryValue", namespaces=Q),
        )
        for a in m.findall("q:MessageAttribute", Q)
    }
    assert user == {"color": ("String", "red"), "raw": ("Binary", base64.b64encode(b"\x00\x01\x02").decode())}
    handle = m.findtext("q:ReceiptHandle", namespaces=Q)
    query.ok("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": handle})
    result, _ = query.ok("ReceiveMessage", {"QueueUrl": url})
    assert list(result) == [], "empty result element when nothing is there"


def test_batches(query, queue):
    _, url = queue
    result, _ = query.ok(
        "SendMessageBatch",
        {
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "",
            "SendMessageBatchRequestEntry.3.Id": "c",
            "SendMessageBatchRequestEntry.3.MessageBody": "three",
            "SendMessageBatchRequestEntry.3.MessageAttribute.1.Name": "n",
            "SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.DataType": "Number",
            "SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.StringValue": "7",
        },
    )
    ok = result.findall("q:SendMessageBatchResultEntry", Q)
    assert [e.findtext("q:Id", namespaces=Q) for e in ok] == ["a", "c"]
    assert ok[1].findtext("q:MD5OfMessageAttributes", namespaces=Q) == md5_of_attributes({"n": ("Number", "7")})
    failed = result.findall("q:BatchResultErrorEntry", Q)
    assert [(e.findtext("q:Id", namespaces=Q), e.findtext("q:SenderFault", namespaces=Q), e.findtext("q:Code", namespaces=Q)) for e in failed] == [
        ("b", "true", "MissingParameter")
    ]
    result, _ = query.ok("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "10"})
    handles = [m.findtext("q:ReceiptHandle", namespaces=Q) for m in result.findall("q:Message", Q)]
    assert len(handles) == 2
    params = {"QueueUrl": url}
    for i, h in enumerate(handles + ["bogus"], start=1):
        params[f"DeleteMessageBatchRequestEntry.{i}.Id"] = f"d{i}"
        params[f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle"] = h
    result, _ = query.ok("DeleteMessageBatch", params)
    assert [e.findtext("q:Id", namespaces=Q) for e in result.findall("q:DeleteMessageBatchResultEntry", Q)] == ["d1", "d2"]
    assert [e.findtext("q:Code", namespaces=Q) for e in result.findall("q:BatchResultErrorEntry", Q)] == ["ReceiptHandleIsInvalid"]
    status, err = query.error("DeleteMessageBatch", {"QueueUrl": url})
    assert status == 400
    assert err["Code"] == "AWS.SimpleQueueService.EmptyBatchRequest"


def test_errors_are_aws_error_responses(query, endpoint):
    status, err = query.error("GetQueueUrl", {"QueueName": unique_name("nope")})
    assert status == 400
    assert err == {
        "Type": "Sender",
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "Message": "The specified queue does not exist for this wsdl version.",
        "Detail": "",
    }
    status, err = query.error("ReceiveMessage", {"QueueUrl": f"{endpoint}/{ACCOUNT}/jobs", "MaxNumberOfMessages": "11"})
    assert (status, err["Code"]) == (400, "InvalidParameterValue")
    assert err["Message"] == "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    status, err = query.error("ReceiveMessage", {"QueueUrl": f"{endpoint}/{ACCOUNT}/jobs", "MaxNumberOfMessages": "many"})
    assert (status, err["Code"]) == (400, "InvalidParameterValue")
    status, err = query.error("CreateQueue", {"QueueName": "bad name"})
    assert (status, err["Code"]) == (400, "InvalidParameterValue")
    status, err = query.error("CreateQueue", {"QueueName": unique_name("q"), "Attribute.1.Name": "Bogus", "Attribute.1.Value": "1"})
    assert (status, err["Code"], err["Message"]) == (400, "InvalidAttributeName", "Unknown Attribute Bogus.")


def test_unsigned_requests_and_queue_url_paths(endpoint, queue):
    name, url = queue
    unsigned = QueryClient(endpoint, signed=False)
    unsigned.ok("SendMessage", {"MessageBody": "via-path"}, path=f"/{ACCOUNT}/{name}")
    result, _ = unsigned.ok("ReceiveMessage", {"WaitTimeSeconds": "1"}, path=f"/{ACCOUNT}/{name}", method="GET")
    assert [m.findtext("q:Body", namespaces=Q) for m in result.findall("q:Message", Q)] == ["via-path"]


def test_fifo_over_query(query):
    name = unique_name("qf") + ".fifo"
    result, _ = query.ok(
        "CreateQueue",
        {
            "QueueName": name,
            "Attribute.1.Name": "FifoQueue",
            "Attribute.1.Value": "true",
            "Attribute.2.Name": "ContentBasedDeduplication",
            "Attribute.2.Value": "true",
        },
    )
    url = result.findtext("q:QueueUrl", namespaces=Q)
    try:
        result, _ = query.ok("SendMessage", {"QueueUrl": url, "MessageBody": "f", "MessageGroupId": "g"})
        seq = result.findtext("q:SequenceNumber", namespaces=Q)
        assert seq and seq.isdigit()
        result, _ = query.ok("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "SequenceNumber", "AttributeName.2": "MessageGroupId"})
        m = result.find("q:Message", Q)
        attrs = {a.findtext("q:Name", namespaces=Q): a.findtext("q:Value", namespaces=Q) for a in m.findall("q:Attribute", Q)}
        assert attrs == {"SequenceNumber": seq, "MessageGroupId": "g"}
    finally:
        query.call("DeleteQueue", {"QueueUrl": url})


def test_unknown_action(query):
    status, err = query.error("Frobnicate")
    assert (status, err["Code"]) == (400, "InvalidAction")


def test_body_with_carriage_returns_round_trips(query, queue):
    _, url = queue
    body = "line one\r\nline two\r\n\ttabbed"
    result, _ = query.ok("SendMessage", {"QueueUrl": url, "MessageBody": body})
    assert result.findtext("q:MD5OfMessageBody", namespaces=Q) == hashlib.md5(body.encode()).hexdigest()
    result, _ = query.ok("ReceiveMessage", {"QueueUrl": url})
    m = result.find("q:Message", Q)
    assert m.findtext("q:Body", namespaces=Q) == body
    assert m.findtext("q:MD5OfBody", namespaces=Q) == hashlib.md5(body.encode()).hexdigest()
