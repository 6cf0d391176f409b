//! ReceiveMessage: `{QueueUrl, AttributeNames?, MessageSystemAttributeNames?,
//! MessageAttributeNames?, MaxNumberOfMessages? (1..=10, default 1), VisibilityTimeout?
//! (0..=43200), WaitTimeSeconds? (0..=20, default the queue's
//! ReceiveMessageWaitTimeSeconds), ReceiveRequestAttemptId?}` → `{Messages?}`. A long poll
//! answers as soon as a message is available. System attributes and message attributes
//! are returned as asked (`All`; message attribute names also `.*` and `prefix.*`), and
//! MD5OfMessageAttributes covers the attributes returned.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sluice_store::sqs::{MessageAttributeValue, ReceivedMessage, attributes_md5};

use crate::sqs::{Ctx, SqsWireError, input, message_attributes_json};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
    message_system_attribute_names: Option<Vec<String>>,
    message_attribute_names: Option<Vec<String>>,
    max_number_of_messages: Option<i64>,
    visibility_timeout: Option<i64>,
    wait_time_seconds: Option<i64>,
    #[allow(dead_code)]
    receive_request_attempt_id: Option<String>,
}

fn range(
    member: &str,
    v: Option<i64>,
    min: i64,
    max: i64,
    reason: &str,
) -> Result<(), SqsWireError> {
    match v {
        Some(n) if n < min || n > max => Err(SqsWireError::invalid(format!(
            "Value {n} for parameter {member} is invalid. Reason: {reason}"
        ))),
        _ => Ok(()),
    }
}

/// Whether message attribute `name` is asked for by `names`.
fn wanted(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
    })
}

fn message_json(m: ReceivedMessage, system: &[String], names: &[String]) -> Value {
    let all_system = system.iter().any(|n| n == "All");
    let attributes: Map<String, Value> = m
        .attributes
        .into_iter()
        .filter(|(k, _)| all_system || system.contains(k))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let chosen: BTreeMap<String, MessageAttributeValue> = m
        .message_attributes
        .into_iter()
        .filter(|(k, _)| wanted(names, k))
        .collect();
    let mut out = json!({
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": m.md5_of_body,
        "Body": m.body,
    });
    if !attributes.is_empty() {
        out["Attributes"] = Value::Object(attributes);
    }
    if let Some(md5) = attributes_md5(&chosen) {
        out["MD5OfMessageAttributes"] = json!(md5);
        out["MessageAttributes"] = message_attributes_json(&chosen);
    }
    out
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let settings = ctx.sqs.queue(&name)?.record.settings;
    range(
        "MaxNumberOfMessages",
        req.max_number_of_messages,
        1,
        10,
        "Must be between 1 and 10, if provided.",
    )?;
    range(
        "VisibilityTimeout",
        req.visibility_timeout,
        0,
        43_200,
        "Must be >= 0 and <= 43200, if provided.",
    )?;
    range(
        "WaitTimeSeconds",
        req.wait_time_seconds,
        0,
        20,
        "Must be >= 0 and <= 20, if provided.",
    )?;
    let max = req
        .max_number_of_messages
        .map_or(1, |n| n.unsigned_abs() as usize);
    let visibility = req
        .visibility_timeout
        .map(|v| Duration::from_secs(v.unsigned_abs()));
    let wait = req.wait_time_seconds.map_or(
        u64::from(settings.receive_message_wait_time_seconds),
        i64::unsigned_abs,
    );
    let got = if wait > 0 {
        ctx.sqs
            .receive_wait(&name, max, visibility, Duration::from_secs(wait))
            .await?
    } else {
        ctx.sqs.receive(&name, max, visibility).await?
    };
    if got.is_empty() {
        return Ok(json!({}));
    }
    let mut system = req.attribute_names.unwrap_or_default();
    system.extend(req.message_system_attribute_names.unwrap_or_default());
    let names = req.message_attribute_names.unwrap_or_default();
    let messages: Vec<Value> = got
        .into_iter()
        .map(|m| message_json(m, &system, &names))
        .collect();
    Ok(json!({"Messages": messages}))
}
