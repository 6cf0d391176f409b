//! AddTagsToStream: `{StreamName | StreamARN, Tags}` → `{}`; at most 50 tags per stream.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::kinesis::KinesisError;

use super::blocking;
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match &req.tags {
        None => v.not_null("tags"),
        Some(t) => {
            for (k, val) in t {
                v.length("tags", k, 1, 128);
                v.length("tags", val, 0, 256);
            }
        }
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let tags = req.tags.unwrap_or_default();
    let kinesis = ctx.kinesis.clone();
    blocking(move || {
        let account = kinesis.account().to_owned();
        kinesis.modify_stream(&name, |s| {
            let mut next = s.tags.clone();
            next.extend(tags);
            if next.len() > 50 {
                return Err(KinesisError::InvalidArgument(format!(
                    "Failed to add tags to stream {name} under account {account} because a given stream cannot have more than 50 tags associated with it."
                )));
            }
            s.tags = next;
            Ok(())
        })?;
        Ok(json!({}))
    })
    .await
}
