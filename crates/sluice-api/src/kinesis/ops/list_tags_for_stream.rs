//! ListTagsForStream: `{StreamName | StreamARN, ExclusiveStartTagKey?, Limit?}` →
//! `{Tags: [{Key, Value}], HasMoreTags}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::kinesis::{Body, Ctx, KinesisWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    exclusive_start_tag_key: Option<String>,
    limit: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    v.range("limit", req.limit, 1, 50);
    v.finish().map_err(KinesisWireError::validation)?;
    let s = ctx.stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let limit = usize::try_from(req.limit.unwrap_or(50)).unwrap_or(50);
    let mut rest = s.tags.iter().filter(|(k, _)| {
        req.exclusive_start_tag_key
            .as_deref()
            .is_none_or(|a| k.as_str() > a)
    });
    let page: Vec<Value> = rest
        .by_ref()
        .take(limit)
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "Tags": page, "HasMoreTags": rest.next().is_some() }))
}
