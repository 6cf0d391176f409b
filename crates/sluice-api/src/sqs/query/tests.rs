#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
    s.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn flattened_members_become_the_json_input() {
    let got = input(
        "CreateQueue",
        &pairs(&[
            ("Action", "CreateQueue"),
            ("Version", "2012-11-05"),
            ("QueueName", "q"),
            ("Attribute.2.Name", "DelaySeconds"),
            ("Attribute.2.Value", "5"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "60"),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "a"),
        ]),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "Attributes": {"VisibilityTimeout": "60", "DelaySeconds": "5"},
            "QueueName": "q",
            "tags": {"team": "a"},
        })
    );
}

#[test]
fn batch_entries_with_message_attributes_and_integers() {
    let got = input(
        "SendMessageBatch",
        &pairs(&[
            ("QueueUrl", "http://h/000000000000/q"),
            ("SendMessageBatchRequestEntry.10.Id", "j"),
            ("SendMessageBatchRequestEntry.10.MessageBody", "ten"),
            ("SendMessageBatchRequestEntry.2.Id", "b"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "two"),
            ("SendMessageBatchRequestEntry.2.DelaySeconds", "3"),
            (
                "SendMessageBatchRequestEntry.2.MessageAttribute.1.Name",
                "n",
            ),
            (
                "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType",
                "Number",
            ),
            (
                "SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue",
                "7",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(
        got["Entries"],
        json!([
            {
                "DelaySeconds": 3,
                "Id": "b",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "7"}},
                "MessageBody": "two",
            },
            {"Id": "j", "MessageBody": "ten"},
        ]),
        "entries in index order (2 before 10)"
    );
}

#[test]
fn lists_and_bad_integers() {
    let got = input(
        "ReceiveMessage",
        &pairs(&[
            ("AttributeName.1", "All"),
            ("MessageAttributeName.2", "b"),
            ("MessageAttributeName.1", "a"),
            ("MaxNumberOfMessages", "4"),
            ("X-Amz-Date", "20260101T000000Z"),
        ]),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"AttributeNames": ["All"], "MaxNumberOfMessages": 4, "MessageAttributeNames": ["a", "b"]})
    );
    let err = input("ReceiveMessage", &pairs(&[("WaitTimeSeconds", "soon")])).unwrap_err();
    assert_eq!(
        err.message,
        "Value soon for parameter WaitTimeSeconds is invalid. Reason: Must be an integer."
    );
}

#[test]
fn receive_renders_aws_layout() {
    let out = json!({"Messages": [{
        "MessageId": "m",
        "ReceiptHandle": "h",
        "MD5OfBody": "d",
        "Body": "<a & b>",
        "Attributes": {"SenderId": "1"},
        "MD5OfMessageAttributes": "e",
        "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
    }]});
    assert_eq!(
        render("ReceiveMessage", &out, "rid"),
        concat!(
            "<?xml version=\"1.0\"?><ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">",
            "<ReceiveMessageResult><Message><MessageId>m</MessageId><ReceiptHandle>h</ReceiptHandle>",
            "<MD5OfBody>d</MD5OfBody><Body>&lt;a &amp; b&gt;</Body>",
            "<Attribute><Name>SenderId</Name><Value>1</Value></Attribute>",
            "<MD5OfMessageAttributes>e</MD5OfMessageAttributes>",
            "<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute>",
            "</Message></ReceiveMessageResult>",
            "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
        )
    );
}

#[test]
fn carriage_returns_survive_xml_parsing() {
    let xml = render(
        "ReceiveMessage",
        &json!({"Messages": [{"Body": "a\r\nb"}]}),
        "r",
    );
    assert!(xml.contains("<Body>a&#xD;\nb</Body>"));
}

#[test]
fn batch_results_and_outputless_operations() {
    let out = json!({
        "Successful": [{"Id": "a"}],
        "Failed": [{"Id": "b", "SenderFault": true, "Code": "X", "Message": "y"}],
    });
    let xml = render("DeleteMessageBatch", &out, "r");
    assert!(xml.contains(
        "<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>X</Code><Message>y</Message></BatchResultErrorEntry></DeleteMessageBatchResult>"
    ));
    assert_eq!(
        render("DeleteQueue", &json!({}), "r"),
        "<?xml version=\"1.0\"?><DeleteQueueResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteQueueResponse>"
    );
    assert!(
        render(
            "ListDeadLetterSourceQueues",
            &json!({"queueUrls": ["u1", "u2"]}),
            "r"
        )
        .contains("<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl>")
    );
}
