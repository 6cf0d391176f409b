//! GetQueueAttributes: `{QueueUrl, AttributeNames?}` → `{Attributes?}`. `All` gives every
//! attribute; no names give none; an unknown name is InvalidAttributeName.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::sqs::SqsError;

use crate::sqs::{Ctx, SqsWireError, input};

/// QueueAttributeName of the model.
pub const NAMES: [&str; 22] = [
    "All",
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    attribute_names: Option<Vec<String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let names = req.attribute_names.unwrap_or_default();
    let view = ctx.sqs.queue(&name)?;
    if let Some(bad) = names.iter().find(|n| !NAMES.contains(&n.as_str())) {
        return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {bad}.")).into());
    }
    let all = view.attributes();
    let chosen: BTreeMap<&String, &String> = if names.iter().any(|n| n == "All") {
        all.iter().collect()
    } else {
        all.iter().filter(|(k, _)| names.contains(k)).collect()
    };
    if chosen.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({"Attributes": chosen}))
}
