//! MergeShards: `{StreamName | StreamARN, ShardToMerge, AdjacentShardToMerge}` → `{}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use super::blocking;
use super::split_shard::reshard_error;
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    shard_to_merge: Option<String>,
    adjacent_shard_to_merge: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    if req.shard_to_merge.is_none() {
        v.not_null("shardToMerge");
    }
    if req.adjacent_shard_to_merge.is_none() {
        v.not_null("adjacentShardToMerge");
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let (a, b) = (
        req.shard_to_merge.unwrap_or_default(),
        req.adjacent_shard_to_merge.unwrap_or_default(),
    );
    let kinesis = ctx.kinesis.clone();
    let now = ctx.now_ms;
    blocking(move || {
        kinesis.active_stream(&name)?;
        let account = kinesis.account().to_owned();
        kinesis.modify_stream(&name, |s| {
            s.layout
                .merge(&a, &b, &name, &account, now)
                .map(|_| ())
                .map_err(|e| reshard_error(&e))
        })?;
        tracing::info!(stream = %name, shard = %a, adjacent = %b, "Shards merged.");
        Ok(json!({}))
    })
    .await
}
