//! SetQueueAttributes: `{QueueUrl, Attributes}` → `{}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sqs::{Ctx, SqsWireError, blocking, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let attributes = req
        .attributes
        .ok_or_else(|| SqsWireError::missing("Attributes"))?;
    let sqs = ctx.sqs.clone();
    blocking(move || Ok(sqs.set_queue_attributes(&name, &attributes)?)).await?;
    Ok(json!({}))
}
