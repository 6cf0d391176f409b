//! ListQueues: `{QueueNamePrefix?, NextToken?, MaxResults?}` → `{QueueUrls?, NextToken?}`.
//! At most 1000 URLs; a NextToken only when MaxResults was given and more remain (the
//! token is the base64 of the last name of the page).

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::urls;
use crate::sqs::{Ctx, SqsWireError, b64, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    if let Some(n) = req.max_results
        && !(1..=1000).contains(&n)
    {
        return Err(SqsWireError::invalid(format!(
            "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
        )));
    }
    let after = match &req.next_token {
        None => None,
        Some(t) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| SqsWireError::invalid("Invalid NextToken value."))?,
        ),
    };
    let prefix = req.queue_name_prefix.unwrap_or_default();
    let limit = req.max_results.map_or(1000, |n| n as usize);
    let mut rest = ctx
        .sqs
        .list_queues()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .filter(|n| after.as_deref().is_none_or(|a| n.as_str() > a));
    let page: Vec<String> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    let mut out = json!({});
    if !page.is_empty() {
        out["QueueUrls"] = Value::Array(urls(ctx, &page));
    }
    if more
        && req.max_results.is_some()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(b64(last.as_bytes()));
    }
    Ok(out)
}
