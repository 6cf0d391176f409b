//! CreateQueue: `{QueueName, Attributes?, tags?}` → `{QueueUrl}`. Creating an existing
//! queue with the same attributes answers its URL; a different attribute is
//! QueueNameExists.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::check_tags;
use crate::sqs::{Ctx, SqsWireError, blocking, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_name: Option<String>,
    attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "tags")]
    tags: Option<BTreeMap<String, String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = req
        .queue_name
        .ok_or_else(|| SqsWireError::missing("QueueName"))?;
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let attributes = req.attributes.unwrap_or_default();
    let sqs = ctx.sqs.clone();
    let created = blocking(move || Ok(sqs.create_queue(&name, &attributes, tags)?)).await?;
    Ok(json!({"QueueUrl": ctx.queue_url(&created.name)}))
}
