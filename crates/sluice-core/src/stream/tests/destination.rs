use serde_json::{Value, json};

use crate::stream::destination::{
    BatchInfo, Condition, RequestContext, ResponseContext, StreamSource, failure_record,
    s3_failure_object, s3_object_key,
};
use crate::stream::record::StreamRecord;

fn request(condition: Condition, count: u32) -> RequestContext {
    RequestContext {
        request_id: "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5".into(),
        function_arn: "arn:aws:lambda:us-east-2:123456789012:function:myfunction".into(),
        condition,
        approximate_invoke_count: count,
    }
}

fn batch(shard_id: &str, stream_arn: &str) -> BatchInfo {
    BatchInfo {
        shard_id: shard_id.into(),
        start_sequence_number: "49601189658422359378836298521827638475320189012309704722".into(),
        end_sequence_number: "49601189658422359378836298522902373528957594348623495186".into(),
        first_arrival_ms: 1_573_691_884_835,
        last_arrival_ms: 1_573_691_885_580,
        batch_size: 500,
        stream_arn: stream_arn.into(),
    }
}

/// The guide's example (aws-semantics §2.7), byte for byte.
#[test]
fn kinesis_retry_exhausted_golden() {
    let record = failure_record(
        &request(Condition::RetryAttemptsExhausted, 1),
        Some(&ResponseContext {
            status_code: 200,
            executed_version: "$LATEST".into(),
            function_error: Some("Unhandled".into()),
        }),
        1_573_691_886_021,
        &batch(
            "shardId-000000000001",
            "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
        ),
        StreamSource::Kinesis,
    );
    let golden = r#"{"requestContext":{"requestId":"c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-2:123456789012:function:myfunction","condition":"RetryAttemptsExhausted","approximateInvokeCount":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2019-11-14T00:38:06.021Z","KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"49601189658422359378836298521827638475320189012309704722","endSequenceNumber":"49601189658422359378836298522902373528957594348623495186","approximateArrivalOfFirstRecord":"2019-11-14T00:38:04.835Z","approximateArrivalOfLastRecord":"2019-11-14T00:38:05.580Z","batchSize":500,"streamArn":"arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}"#;
    assert_eq!(serde_json::to_string(&record).unwrap(), golden);
}

#[test]
fn partial_failure_has_null_function_error() {
    let record = failure_record(
        &request(Condition::RetryAttemptsExhausted, 4),
        Some(&ResponseContext {
            status_code: 200,
            executed_version: "$LATEST".into(),
            function_error: None,
        }),
        0,
        &batch("shardId-000000000000", "arn"),
        StreamSource::Kinesis,
    );
    assert_eq!(record["responseContext"]["functionError"], Value::Null);
    assert!(
        record["responseContext"]
            .as_object()
            .unwrap()
            .contains_key("functionError")
    );
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 4);
}

#[test]
fn record_age_exceeded_has_no_response_context_and_counts_at_least_one() {
    let response = ResponseContext {
        status_code: 200,
        executed_version: "$LATEST".into(),
        function_error: Some("Unhandled".into()),
    };
    let record = failure_record(
        &request(Condition::RecordAgeExceeded, 0),
        Some(&response),
        0,
        &batch("shardId-000000000000", "arn"),
        StreamSource::Kinesis,
    );
    let keys: Vec<&str> = record
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["requestContext", "version", "timestamp", "KinesisBatchInfo"]
    );
    assert_eq!(record["requestContext"]["condition"], "RecordAgeExceeded");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
}

#[test]
fn dynamodb_block_and_times_without_milliseconds() {
    let record = failure_record(
        &request(Condition::RetryAttemptsExhausted, 2),
        None,
        1_764_085_981_456,
        &batch(
            "shardId-00000001573689847184-864758bb",
            "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-11-25T15:00:00.000",
        ),
        StreamSource::DynamoDb,
    );
    let keys: Vec<&str> = record
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "requestContext",
            "version",
            "timestamp",
            "DDBStreamBatchInfo"
        ]
    );
    assert_eq!(record["timestamp"], "2025-11-25T15:53:01.456Z");
    let info = &record["DDBStreamBatchInfo"];
    assert_eq!(
        info["approximateArrivalOfFirstRecord"],
        "2019-11-14T00:38:04Z"
    );
    assert_eq!(
        info["approximateArrivalOfLastRecord"],
        "2019-11-14T00:38:05Z"
    );
    assert_eq!(info["shardId"], "shardId-00000001573689847184-864758bb");
}

#[test]
fn batch_info_of_records() {
    let records = vec![
        StreamRecord::new("11", "a", 1000, json!({"n": 1})),
        StreamRecord::new("12", "b", 2000, json!({"n": 2})),
    ];
    let info = BatchInfo::of_records("shardId-000000000000", "arn:s", &records).unwrap();
    assert_eq!(info.start_sequence_number, "11");
    assert_eq!(info.end_sequence_number, "12");
    assert_eq!(
        (info.first_arrival_ms, info.last_arrival_ms, info.batch_size),
        (1000, 2000, 2)
    );
    assert_eq!(BatchInfo::of_records("s", "a", &[]), None);
}

#[test]
fn s3_object_and_key() {
    let base = json!({"requestContext": {}, "version": "1.0"});
    let r = json!({"kinesis": {"data": "aGVsbG8="}});
    let object = s3_failure_object(base, [&r]);
    assert_eq!(object["payload"], json!({"Records": [r]}));
    let keys: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["requestContext", "version", "payload"]);
    assert_eq!(
        s3_object_key("uuid-1", "shardId-000000000000", 1_764_088_501_123, "r-2"),
        "aws/lambda/uuid-1/shardId-000000000000/2025/11/25/2025-11-25T16.35.01-r-2"
    );
}
