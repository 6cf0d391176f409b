//! What the on-failure destination receives when a stream batch is discarded: the invocation
//! record AWS sends to SQS (message body), SNS (`Message`) or S3 (object, with the payload).
//!
//! Shapes and key order as AWS recorded them: `requestContext`, `responseContext` (absent for
//! `RecordAgeExceeded`), `version`, `timestamp` (with milliseconds), then
//! `KinesisBatchInfo` (arrival times with milliseconds) or `DDBStreamBatchInfo` (arrival
//! times without). The batch info describes the records discarded, not the batch polled.

use serde_json::{Map, Value, json};

use super::record::StreamRecord;
use super::timestamp::{civil, rfc3339_millis, rfc3339_seconds};

/// Why records were discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `MaximumRetryAttempts` reached.
    RetryAttemptsExhausted,
    /// Older than `MaximumRecordAgeInSeconds`.
    RecordAgeExceeded,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Self::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// Which stream the records came from: names the batch-info block and its time format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamSource {
    Kinesis,
    DynamoDb,
}

/// `requestContext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The request id of the last invocation (a fresh one when the records were never sent).
    pub request_id: String,
    pub function_arn: String,
    pub condition: Condition,
    /// Invocations that carried these records. Written as at least 1: AWS reported 1 for
    /// records that expired before they were ever sent.
    pub approximate_invoke_count: u32,
}

/// `responseContext`: the last invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// The Invoke HTTP status: 200 also for a function error.
    pub status_code: u16,
    /// `$LATEST` or the version number that ran.
    pub executed_version: String,
    /// `Unhandled` / `Handled` for a function error; `None` (JSON `null`) when the function
    /// returned normally and the batch failed by its `batchItemFailures`.
    pub function_error: Option<String>,
}

/// The discarded records, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub first_arrival_ms: u64,
    pub last_arrival_ms: u64,
    pub batch_size: usize,
    pub stream_arn: String,
}

impl BatchInfo {
    /// The batch info of `records` (the discarded ones, in order); `None` when empty.
    pub fn of_records(shard_id: &str, stream_arn: &str, records: &[StreamRecord]) -> Option<Self> {
        let first = records.first()?;
        let last = records.last()?;
        Some(Self {
            shard_id: shard_id.to_owned(),
            start_sequence_number: first.sequence_number.clone(),
            end_sequence_number: last.sequence_number.clone(),
            first_arrival_ms: first.arrival_ms,
            last_arrival_ms: last.arrival_ms,
            batch_size: records.len(),
            stream_arn: stream_arn.to_owned(),
        })
    }
}

/// The on-failure record. `response` is ignored for `RecordAgeExceeded`, which AWS sends
/// without `responseContext`.
pub fn failure_record(
    request: &RequestContext,
    response: Option<&ResponseContext>,
    timestamp_ms: u64,
    batch: &BatchInfo,
    source: StreamSource,
) -> Value {
    let mut out = Map::new();
    out.insert(
        "requestContext".into(),
        json!({
            "requestId": request.request_id,
            "functionArn": request.function_arn,
            "condition": request.condition.as_str(),
            "approximateInvokeCount": request.approximate_invoke_count.max(1),
        }),
    );
    if let (Condition::RetryAttemptsExhausted, Some(response)) = (request.condition, response) {
        out.insert(
            "responseContext".into(),
            json!({
                "statusCode": response.status_code,
                "executedVersion": response.executed_version,
                "functionError": response.function_error,
            }),
        );
    }
    out.insert("version".into(), json!("1.0"));
    out.insert("timestamp".into(), json!(rfc3339_millis(timestamp_ms)));
    let (key, arrival): (&str, fn(u64) -> String) = match source {
        StreamSource::Kinesis => ("KinesisBatchInfo", rfc3339_millis),
        StreamSource::DynamoDb => ("DDBStreamBatchInfo", rfc3339_seconds),
    };
    out.insert(
        key.into(),
        json!({
            "shardId": batch.shard_id,
            "startSequenceNumber": batch.start_sequence_number,
            "endSequenceNumber": batch.end_sequence_number,
            "approximateArrivalOfFirstRecord": arrival(batch.first_arrival_ms),
            "approximateArrivalOfLastRecord": arrival(batch.last_arrival_ms),
            "batchSize": batch.batch_size,
            "streamArn": batch.stream_arn,
        }),
    );
    Value::Object(out)
}

/// The S3 destination's object: the failure record plus `"payload": {"Records": [...]}`,
/// the records exactly as they were sent to the function.
pub fn s3_failure_object<'a>(
    mut record: Value,
    records: impl IntoIterator<Item = &'a Value>,
) -> Value {
    if let Value::Object(map) = &mut record {
        let records: Vec<Value> = records.into_iter().cloned().collect();
        map.insert("payload".into(), json!({ "Records": records }));
    }
    record
}

/// The S3 destination's object key:
/// `aws/lambda/<mapping uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random uuid>`.
pub fn s3_object_key(
    mapping_uuid: &str,
    shard_id: &str,
    timestamp_ms: u64,
    random_uuid: &str,
) -> String {
    let (y, mo, d, h, mi, s) = civil(timestamp_ms);
    format!(
        "aws/lambda/{mapping_uuid}/{shard_id}/{y:04}/{mo:02}/{d:02}/{y:04}-{mo:02}-{d:02}T{h:02}.{mi:02}.{s:02}-{random_uuid}"
    )
}
