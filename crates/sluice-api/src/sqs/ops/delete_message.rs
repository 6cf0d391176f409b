//! DeleteMessage: `{QueueUrl, ReceiptHandle}` → `{}`. Deleting a message already gone
//! succeeds; a handle Sluice did not make (or of another queue) is ReceiptHandleIsInvalid.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let handle = req
        .receipt_handle
        .ok_or_else(|| SqsWireError::missing("ReceiptHandle"))?;
    ctx.sqs.delete_message(&name, &handle).await?;
    Ok(json!({}))
}
