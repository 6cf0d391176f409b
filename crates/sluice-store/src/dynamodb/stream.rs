//! DynamoDB stream records in AWS's shape (the Streams API's `Record`; a Lambda event record
//! is this plus `eventSourceARN`), and the stream's identifiers.

use serde_json::{Map, Value, json};

use super::value::{Item, item_size, item_to_json};

/// The four StreamViewTypes.
pub const VIEW_TYPES: [&str; 4] = ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];

/// Sequence numbers are 21 decimal digits (the Streams API accepts 21 to 40): a leading 1
/// then the store's change counter, zero-padded, so text order is numeric order.
pub fn sequence_number(counter: u64) -> String {
    format!("1{counter:020}")
}

/// The counter of a sequence number this store issued.
pub fn parse_sequence_number(text: &str) -> Option<u64> {
    if text.len() != 21 || !text.starts_with('1') {
        return None;
    }
    text[1..].parse().ok()
}

/// `YYYY-MM-DDTHH:MM:SS.mmm`, UTC: the stream label of a stream created at `ms`.
pub fn stream_label(ms: u64) -> String {
    let t = sluice_core::stream::timestamp::rfc3339_millis(ms);
    t.trim_end_matches('Z').to_owned()
}

/// `shardId-<20 digits>-<8 hex>`, as DynamoDB's shard ids look.
pub fn shard_id(created_ms: u64, salt: u32) -> String {
    format!("shardId-{created_ms:020}-{salt:08x}")
}

/// What a change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    /// The change between `old` and `new`, or `None` when nothing changed.
    pub fn of(old: Option<&Item>, new: Option<&Item>) -> Option<Self> {
        match (old, new) {
            (None, Some(_)) => Some(Self::Insert),
            (Some(o), Some(n)) if o != n => Some(Self::Modify),
            (Some(_), None) => Some(Self::Remove),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Modify => "MODIFY",
            Self::Remove => "REMOVE",
        }
    }
}

/// Everything one stream record is built from.
#[derive(Debug)]
pub struct Change<'a> {
    pub view_type: &'a str,
    pub region: &'a str,
    pub keys: &'a Item,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
    pub sequence_number: &'a str,
    pub now_ms: u64,
}

/// The stream record of a change, or `None` for a write that changed nothing.
pub fn record(c: &Change<'_>) -> Option<Value> {
    let name = EventName::of(c.old, c.new)?;
    let with_new = matches!(c.view_type, "NEW_IMAGE" | "NEW_AND_OLD_IMAGES");
    let with_old = matches!(c.view_type, "OLD_IMAGE" | "NEW_AND_OLD_IMAGES");
    let mut dynamodb = Map::new();
    // Whole seconds, as a JSON number with a fraction (AWS's events carry `1732550000.0`).
    let secs = (c.now_ms / 1000) as f64;
    dynamodb.insert("ApproximateCreationDateTime".into(), json!(secs));
    dynamodb.insert("Keys".into(), item_to_json(c.keys));
    let mut size = item_size(c.keys);
    if with_new && let Some(n) = c.new {
        dynamodb.insert("NewImage".into(), item_to_json(n));
        size += item_size(n);
    }
    if with_old && let Some(o) = c.old {
        dynamodb.insert("OldImage".into(), item_to_json(o));
        size += item_size(o);
    }
    dynamodb.insert("SequenceNumber".into(), json!(c.sequence_number));
    dynamodb.insert("SizeBytes".into(), json!(size.max(1)));
    dynamodb.insert("StreamViewType".into(), json!(c.view_type));
    Some(json!({
        "eventID": uuid::Uuid::new_v4().simple().to_string(),
        "eventName": name.as_str(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": c.region,
        "dynamodb": Value::Object(dynamodb),
    }))
}
