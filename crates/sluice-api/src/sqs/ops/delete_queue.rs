//! DeleteQueue: `{QueueUrl}` → `{}`; the queue and its messages are gone at once.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, blocking, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let sqs = ctx.sqs.clone();
    blocking(move || Ok(sqs.delete_queue(&name)?)).await?;
    Ok(json!({}))
}
