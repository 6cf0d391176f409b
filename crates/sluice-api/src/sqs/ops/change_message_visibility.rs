//! ChangeMessageVisibility: `{QueueUrl, ReceiptHandle, VisibilityTimeout (0..=43200)}` →
//! `{}`. The new timeout counts from now; 0 makes the message visible at once.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

/// VisibilityTimeout of a visibility change.
pub fn timeout(v: Option<i64>) -> Result<Duration, SqsWireError> {
    match v {
        None => Err(SqsWireError::missing("VisibilityTimeout")),
        Some(n) if (0..=43_200).contains(&n) => Ok(Duration::from_secs(n.unsigned_abs())),
        Some(n) => Err(SqsWireError::invalid(format!(
            "Value {n} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        ))),
    }
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let handle = req
        .receipt_handle
        .ok_or_else(|| SqsWireError::missing("ReceiptHandle"))?;
    let visibility = timeout(req.visibility_timeout)?;
    ctx.sqs
        .change_visibility(&name, &handle, visibility)
        .await?;
    Ok(json!({}))
}
