//! ListDeadLetterSourceQueues: `{QueueUrl, NextToken?, MaxResults?}` →
//! `{queueUrls, NextToken?}`: the queues whose RedrivePolicy targets this one.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::urls;
use crate::sqs::{Ctx, SqsWireError, b64, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
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
    let sources = ctx.sqs.dead_letter_sources(&name)?;
    let limit = req.max_results.map_or(1000, |n| n.unsigned_abs() as usize);
    let mut rest = sources
        .into_iter()
        .filter(|n| after.as_deref().is_none_or(|a| n.as_str() > a));
    let page: Vec<String> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    let mut out = json!({"queueUrls": urls(ctx, &page)});
    if more
        && req.max_results.is_some()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(b64(last.as_bytes()));
    }
    Ok(out)
}
