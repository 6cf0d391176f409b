//! TagQueue: `{QueueUrl, Tags}` → `{}`; a tag with an existing key replaces it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::check_tags;
use crate::sqs::{Ctx, SqsWireError, blocking, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let tags = req.tags.ok_or_else(|| SqsWireError::missing("Tags"))?;
    check_tags(&tags)?;
    let sqs = ctx.sqs.clone();
    blocking(move || Ok(sqs.tag_queue(&name, &tags)?)).await?;
    Ok(json!({}))
}
