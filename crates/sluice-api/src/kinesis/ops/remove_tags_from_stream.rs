//! RemoveTagsFromStream: `{StreamName | StreamARN, TagKeys}` → `{}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use super::blocking;
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    if req.tag_keys.is_none() {
        v.not_null("tagKeys");
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let keys = req.tag_keys.unwrap_or_default();
    let kinesis = ctx.kinesis.clone();
    blocking(move || {
        kinesis.modify_stream(&name, |s| {
            for k in &keys {
                s.tags.remove(k);
            }
            Ok(())
        })?;
        Ok(json!({}))
    })
    .await
}
