//! Reading the function's answer: partial batch responses (`ReportBatchItemFailures`) and
//! tumbling-window responses.
//!
//! | response body                                   | meaning                      |
//! |-------------------------------------------------|------------------------------|
//! | empty (or only whitespace)                       | success                      |
//! | `null`, `""`, `[]`, `{}`, `0`, `false`           | success                      |
//! | object without `batchItemFailures`               | success                      |
//! | `{"batchItemFailures": null}` / `[]`             | success                      |
//! | every `itemIdentifier` a sequence number of the batch | failed from the lowest  |
//! | not JSON                                         | whole batch failed           |
//! | any other top-level value (`"x"`, `1`, `[1]`)    | whole batch failed           |
//! | `batchItemFailures` not a list                   | whole batch failed           |
//! | an entry not an object, without `itemIdentifier`, with `""`, `null`, a number, or an id not in the batch | whole batch failed |
//!
//! The falsy-means-success rows beyond AWS's documented ones (`0`, `false`, `{"batchItemFailures": {}}`
//! and the like) follow LocalStack's reading, whose snapshots were recorded against AWS.

use serde_json::{Map, Value};

use super::record::cmp_sequence;

/// What a partial batch response says about the batch that was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchResponse {
    /// Every record succeeded.
    Success,
    /// Records before this index succeeded; this one (the lowest failed sequence number) and
    /// everything after it are retried. An index into the sequence numbers passed in.
    FailedFrom(usize),
    /// The response is not a valid partial batch response: the whole batch is retried.
    WholeBatchFailed,
}

/// Reads a partial batch response for a stream batch whose records have
/// `batch_sequence_numbers`, in batch order.
pub fn parse_batch_item_failures(body: &[u8], batch_sequence_numbers: &[&str]) -> BatchResponse {
    if body.trim_ascii().is_empty() {
        return BatchResponse::Success;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => from_value(&value, batch_sequence_numbers),
        Err(_) => BatchResponse::WholeBatchFailed,
    }
}

/// The item identifiers a response lists as failed (empty: success), or `None` when the
/// response is invalid and the whole batch failed. For SQS, where identifiers are message
/// ids and membership is the caller's check.
pub fn item_identifiers(body: &[u8]) -> Option<Vec<String>> {
    if body.trim_ascii().is_empty() {
        return Some(Vec::new());
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    identifiers(&value).map(|ids| ids.into_iter().map(str::to_owned).collect())
}

fn from_value(value: &Value, batch_sequence_numbers: &[&str]) -> BatchResponse {
    let Some(ids) = identifiers(value) else {
        return BatchResponse::WholeBatchFailed;
    };
    let mut lowest: Option<(usize, &str)> = None;
    for id in ids {
        let Some(index) = batch_sequence_numbers.iter().position(|s| *s == id) else {
            return BatchResponse::WholeBatchFailed;
        };
        if lowest.is_none_or(|(_, low)| cmp_sequence(id, low).is_lt()) {
            lowest = Some((index, id));
        }
    }
    match lowest {
        Some((index, _)) => BatchResponse::FailedFrom(index),
        None => BatchResponse::Success,
    }
}

/// The listed identifiers (empty for success), or `None` for an invalid response.
fn identifiers(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::Object(map) => identifiers_in(map),
        other if is_falsy(other) => Some(Vec::new()),
        _ => None,
    }
}

fn identifiers_in(map: &Map<String, Value>) -> Option<Vec<&str>> {
    match map.get("batchItemFailures") {
        None => Some(Vec::new()),
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|entry| match entry.get("itemIdentifier") {
                Some(Value::String(id)) if !id.is_empty() => Some(id.as_str()),
                _ => None,
            })
            .collect(),
        Some(other) if is_falsy(other) => Some(Vec::new()),
        Some(_) => None,
    }
}

/// Python's falsiness, which is how LocalStack (and the AWS snapshots it matches) reads
/// "no failures": `null`, `false`, `0`, `""`, `[]`, `{}`.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// A tumbling-window function's answer: `{"state": {...}, "batchItemFailures": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResponse {
    /// Passed into the next invocation for the same shard and window.
    pub state: Value,
    /// The partial batch response in the same object; [`BatchResponse::Success`] when it
    /// has none. Only meaningful with `ReportBatchItemFailures`.
    pub items: BatchResponse,
}

/// Why a tumbling-window response counts as a failed invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WindowResponseError {
    #[error("the response is not JSON")]
    NotJson,
    #[error("the response is not a JSON object")]
    NotAnObject,
    #[error("the response has no state")]
    MissingState,
    #[error("the response's state is not a JSON object")]
    StateNotAnObject,
}

/// Reads a tumbling-window response. A response without an object `state` is a failed
/// invocation (AWS: "a response without state is a failed invocation"; the state is
/// documented and delivered as an object, so `"state": null` or a scalar is refused too).
pub fn parse_window_response(
    body: &[u8],
    batch_sequence_numbers: &[&str],
) -> Result<WindowResponse, WindowResponseError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| WindowResponseError::NotJson)?;
    let Value::Object(map) = &value else {
        return Err(WindowResponseError::NotAnObject);
    };
    let state = match map.get("state") {
        None => return Err(WindowResponseError::MissingState),
        Some(state @ Value::Object(_)) => state.clone(),
        Some(_) => return Err(WindowResponseError::StateNotAnObject),
    };
    Ok(WindowResponse {
        state,
        items: from_value(&value, batch_sequence_numbers),
    })
}
