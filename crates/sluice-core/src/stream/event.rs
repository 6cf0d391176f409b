//! The events the function receives, byte for byte as AWS shapes them (key order as recorded
//! from AWS), and their exact serialized size.
//!
//! A stream event is `{"Records":[r1,r2,...]}`: its size is 14 bytes for the envelope plus
//! the records' sizes plus one comma between each pair. Counting each record as its size
//! plus one ([`record_cost`]) and allowing [`RECORDS_BUDGET`] (`MAX_PAYLOAD - 13`) makes
//! "the costs fit the budget" exactly "the event fits 6 MB", so the batcher can add sizes
//! without knowing JSON. A tumbling-window event has a bigger envelope: measure it with
//! [`window_event`] over no records and use [`records_budget`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::timestamp::rfc3339_seconds;

/// The synchronous invoke payload limit (6 MiB), which the whole serialized event must fit.
pub const MAX_PAYLOAD: usize = 6_291_456;

/// Size of `{"Records":[]}`.
pub const EMPTY_EVENT_SIZE: usize = 14;

/// What the records' [`record_cost`]s may add up to in a plain stream event.
pub const RECORDS_BUDGET: usize = MAX_PAYLOAD - (EMPTY_EVENT_SIZE - 1);

/// What one record adds to an event: its size and the comma before or after it.
pub fn record_cost(event_size: usize) -> usize {
    event_size.saturating_add(1)
}

/// The budget for the records' costs in an event whose serialized form with no records is
/// `empty_event_size` bytes, under `max_payload`.
pub fn records_budget(empty_event_size: usize, max_payload: usize) -> usize {
    max_payload.saturating_sub(empty_event_size.saturating_sub(1))
}

/// Exact size of `{"Records":[...]}` holding records of the given serialized sizes.
pub fn payload_size(sizes: impl IntoIterator<Item = usize>) -> usize {
    payload_size_with(EMPTY_EVENT_SIZE, sizes)
}

/// Exact size of an event whose form with no records is `empty_event_size` bytes, once it
/// holds records of the given sizes (the window event included).
pub fn payload_size_with(empty_event_size: usize, sizes: impl IntoIterator<Item = usize>) -> usize {
    let (n, sum) = sizes.into_iter().fold((0usize, 0usize), |(n, sum), s| {
        (n + 1, sum.saturating_add(s))
    });
    empty_event_size
        .saturating_add(sum)
        .saturating_add(n.saturating_sub(1))
}

/// What every Kinesis record of one shard carries besides its own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisSource {
    /// `shardId-000000000006`: the first half of `eventID`.
    pub shard_id: String,
    /// `eventSourceARN`: the stream ARN (also for a consumer-ARN mapping).
    pub stream_arn: String,
    /// `awsRegion`.
    pub region: String,
    /// `invokeIdentityArn`: the function's execution role.
    pub invoke_identity_arn: String,
}

/// One Kinesis record as the function sees it in `Records[]`.
pub fn kinesis_record(
    source: &KinesisSource,
    sequence_number: &str,
    partition_key: &str,
    data: &[u8],
    arrival_ms: u64,
) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": STANDARD.encode(data),
            "approximateArrivalTimestamp": epoch_seconds(arrival_ms),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", source.shard_id, sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": source.invoke_identity_arn,
        "awsRegion": source.region,
        "eventSourceARN": source.stream_arn,
    })
}

/// [`kinesis_record`] written straight to JSON text (the engine's hot path: no `Value`
/// tree, base64 encoded into the buffer). Same keys, same order, same values.
pub fn kinesis_record_raw(
    source: &KinesisSource,
    sequence_number: &str,
    partition_key: &str,
    data: &[u8],
    arrival_ms: u64,
) -> Box<serde_json::value::RawValue> {
    let mut out = Vec::with_capacity(data.len() * 4 / 3 + 400);
    let string = |out: &mut Vec<u8>, s: &str| {
        let _ = serde_json::to_writer(&mut *out, s);
    };
    out.extend_from_slice(br#"{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"#);
    string(&mut out, partition_key);
    out.extend_from_slice(br#","sequenceNumber":"#);
    string(&mut out, sequence_number);
    out.extend_from_slice(br#","data":""#);
    let at = out.len();
    let len = base64::encoded_len(data.len(), true).unwrap_or(0);
    out.resize(at + len, 0);
    let written = STANDARD.encode_slice(data, &mut out[at..]).unwrap_or(0);
    out.truncate(at + written);
    out.extend_from_slice(br#"","approximateArrivalTimestamp":"#);
    out.extend_from_slice(epoch_seconds(arrival_ms).to_string().as_bytes());
    out.extend_from_slice(br#"},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"#);
    string(
        &mut out,
        &format!("{}:{}", source.shard_id, sequence_number),
    );
    out.extend_from_slice(br#","eventName":"aws:kinesis:record","invokeIdentityArn":"#);
    string(&mut out, &source.invoke_identity_arn);
    out.extend_from_slice(br#","awsRegion":"#);
    string(&mut out, &source.region);
    out.extend_from_slice(br#","eventSourceARN":"#);
    string(&mut out, &source.stream_arn);
    out.push(b'}');
    // The text is JSON by construction (every string went through serde_json).
    let text = String::from_utf8(out).unwrap_or_default();
    serde_json::value::RawValue::from_string(text).unwrap_or_else(|_| {
        serde_json::value::to_raw_value(&kinesis_record(
            source,
            sequence_number,
            partition_key,
            data,
            arrival_ms,
        ))
        .unwrap_or_default()
    })
}

/// Epoch seconds with millisecond precision, as a JSON number (`1545084650.987`).
pub fn epoch_seconds(epoch_ms: u64) -> Value {
    // The quotient of two exact integers is correctly rounded, so the shortest printing of
    // the float is the decimal with three fractional digits (trailing zeros dropped).
    json!(epoch_ms as f64 / 1000.0)
}

/// `{"Records":[...]}` over the given records, serialized.
pub fn batch_event<'a, T: serde::Serialize + ?Sized + 'a>(
    records: impl IntoIterator<Item = &'a T>,
) -> Vec<u8> {
    let mut out = Vec::new();
    write_records(&mut out, records);
    out.push(b'}');
    out
}

/// The per-invocation context of a tumbling-window event.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowContext<'a> {
    /// `(start, end)` epoch ms of the window, as [`super::window::window_of`] gives it.
    pub window: (u64, u64),
    /// What the function returned last time in this window; `{}` at the window's start.
    pub state: &'a Value,
    pub shard_id: &'a str,
    pub event_source_arn: &'a str,
    pub is_final_invoke_for_window: bool,
    pub is_window_terminated_early: bool,
}

/// A tumbling-window event: `Records`, then `window`, `state`, `shardId`, `eventSourceARN`,
/// `isFinalInvokeForWindow`, `isWindowTerminatedEarly`.
pub fn window_event<'a, T: serde::Serialize + ?Sized + 'a>(
    records: impl IntoIterator<Item = &'a T>,
    context: &WindowContext<'_>,
) -> Vec<u8> {
    let mut out = Vec::new();
    write_records(&mut out, records);
    let mut tail = Map::new();
    tail.insert(
        "window".into(),
        json!({
            "start": rfc3339_seconds(context.window.0),
            "end": rfc3339_seconds(context.window.1),
        }),
    );
    tail.insert("state".into(), context.state.clone());
    tail.insert("shardId".into(), json!(context.shard_id));
    tail.insert("eventSourceARN".into(), json!(context.event_source_arn));
    tail.insert(
        "isFinalInvokeForWindow".into(),
        json!(context.is_final_invoke_for_window),
    );
    tail.insert(
        "isWindowTerminatedEarly".into(),
        json!(context.is_window_terminated_early),
    );
    // `{"window":...}` with its `{` replaced by the comma that follows `Records`.
    let tail = to_vec(&Value::Object(tail));
    out.push(b',');
    out.extend_from_slice(tail.get(1..).unwrap_or_default());
    out
}

/// Writes `{"Records":[r1,...]`, leaving the object open.
fn write_records<'a, T: serde::Serialize + ?Sized + 'a>(
    out: &mut Vec<u8>,
    records: impl IntoIterator<Item = &'a T>,
) {
    out.extend_from_slice(b"{\"Records\":[");
    for (i, record) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // A serialization error is impossible for `Value` and `RawValue`.
        let _ = serde_json::to_writer(&mut *out, record);
    }
    out.push(b']');
}

/// Compact JSON of a `Value`. Infallible in practice: keys are strings and a `Vec` write
/// cannot fail; the `null` fallback only keeps this free of panics.
fn to_vec(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}
