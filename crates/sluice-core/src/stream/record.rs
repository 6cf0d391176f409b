//! A stream record as the engine carries it: the event exactly as the function will see it
//! in `Records[]`, plus what the decisions need without re-reading the JSON (sequence number,
//! partition key, arrival time, serialized size).

use std::cmp::Ordering;
use std::io;

use serde_json::Value;
use serde_json::value::RawValue;

/// One record of a shard, ready to be batched.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// `kinesis.sequenceNumber` / `dynamodb.SequenceNumber`: the `itemIdentifier` of a
    /// partial batch response and the checkpoint written after the record.
    pub sequence_number: String,
    /// Picks the lane under a ParallelizationFactor above 1 (per-key order is kept).
    pub partition_key: String,
    /// Approximate arrival (Kinesis) or creation (DynamoDB), epoch ms: the record's age for
    /// `MaximumRecordAgeInSeconds` and its tumbling window.
    pub arrival_ms: u64,
    /// The record exactly as delivered in `Records[]`, serialized once when read: building
    /// an event copies these bytes.
    pub event: Box<RawValue>,
    /// Serialized size of `event` in bytes.
    pub event_size: usize,
}

impl StreamRecord {
    /// A record whose `event_size` is measured from `event`.
    pub fn new(
        sequence_number: impl Into<String>,
        partition_key: impl Into<String>,
        arrival_ms: u64,
        event: Value,
    ) -> Self {
        // A `Value` always serializes; the fallback is never taken.
        let raw = serde_json::value::to_raw_value(&event)
            .unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap_or_default());
        Self::from_raw(sequence_number, partition_key, arrival_ms, raw)
    }

    /// A record whose event is already serialized.
    pub fn from_raw(
        sequence_number: impl Into<String>,
        partition_key: impl Into<String>,
        arrival_ms: u64,
        event: Box<RawValue>,
    ) -> Self {
        let event_size = event.get().len();
        Self {
            sequence_number: sequence_number.into(),
            partition_key: partition_key.into(),
            arrival_ms,
            event,
            event_size,
        }
    }
}

impl PartialEq for StreamRecord {
    fn eq(&self, other: &Self) -> bool {
        self.sequence_number == other.sequence_number
            && self.partition_key == other.partition_key
            && self.arrival_ms == other.arrival_ms
            && self.event.get() == other.event.get()
    }
}

/// Compares decimal sequence numbers as numbers: leading zeros stripped, then the longer is
/// greater, then digit by digit. Strings that are not decimal still get a total order (the
/// same rule on their bytes), never a panic.
pub fn cmp_sequence(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The compact serialized size of `value` in bytes, counted without building the string.
pub fn json_size(value: &Value) -> usize {
    let mut counter = ByteCounter(0);
    // Serializing a `Value` into a writer that never fails cannot fail: map keys are strings.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => 0,
    }
}

struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
