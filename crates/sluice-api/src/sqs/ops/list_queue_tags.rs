//! ListQueueTags: `{QueueUrl}` → `{Tags?}`.

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
    let tags = ctx.sqs.queue(&name)?.record.tags;
    if tags.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({"Tags": tags}))
}
