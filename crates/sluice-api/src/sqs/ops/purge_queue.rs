//! PurgeQueue: `{QueueUrl}` → `{}`; every message goes, once per 60 seconds
//! (PurgeQueueInProgress, HTTP 403, otherwise).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    ctx.sqs.purge_queue(&name).await?;
    Ok(json!({}))
}
