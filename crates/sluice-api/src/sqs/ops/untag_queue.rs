//! UntagQueue: `{QueueUrl, TagKeys}` → `{}`; keys not present are ignored.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, blocking, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let keys = req
        .tag_keys
        .ok_or_else(|| SqsWireError::missing("TagKeys"))?;
    let sqs = ctx.sqs.clone();
    blocking(move || Ok(sqs.untag_queue(&name, &keys)?)).await?;
    Ok(json!({}))
}
