//! ListStreamConsumers: `{StreamARN, NextToken?, MaxResults?}` → `{Consumers, NextToken?}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::kinesis::{Body, Ctx, KinesisWireError, b64, blob, epoch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    if req.stream_arn.is_none() {
        v.not_null("streamARN");
    }
    v.range("maxResults", req.max_results, 1, 10_000);
    v.finish().map_err(KinesisWireError::validation)?;
    let stream = ctx.stream(None, req.stream_arn.as_deref())?;
    let after = match &req.next_token {
        None => None,
        Some(t) => Some(
            blob("NextToken", t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| KinesisWireError::invalid(format!("Invalid NextToken: {t}")))?,
        ),
    };
    let max = usize::try_from(req.max_results.unwrap_or(100)).unwrap_or(100);
    let mut rest = stream
        .consumers
        .iter()
        .filter(|c| after.as_deref().is_none_or(|a| c.name.as_str() > a));
    let page: Vec<_> = rest.by_ref().take(max).collect();
    let mut out = json!({
        "Consumers": page.iter().map(|c| json!({
            "ConsumerName": c.name,
            "ConsumerARN": c.arn,
            "ConsumerStatus": "ACTIVE",
            "ConsumerCreationTimestamp": epoch(c.created_ms),
        })).collect::<Vec<_>>(),
    });
    if rest.next().is_some()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(b64(last.name.as_bytes()));
    }
    Ok(out)
}
