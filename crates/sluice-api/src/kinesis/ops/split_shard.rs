//! SplitShard: `{StreamName | StreamARN, ShardToSplit, NewStartingHashKey}` → `{}`. The
//! parent closes and two children open at once.

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
    shard_to_split: Option<String>,
    new_starting_hash_key: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    if req.shard_to_split.is_none() {
        v.not_null("shardToSplit");
    }
    match &req.new_starting_hash_key {
        None => v.not_null("newStartingHashKey"),
        Some(k) => v.pattern(
            "newStartingHashKey",
            k,
            k == "0"
                || (!k.starts_with('0')
                    && !k.is_empty()
                    && k.len() <= 39
                    && k.bytes().all(|b| b.is_ascii_digit())),
            "0|([1-9]\\d{0,38})",
        ),
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let key_text = req.new_starting_hash_key.unwrap_or_default();
    let key: u128 = key_text.parse().map_err(|_| {
        KinesisWireError::invalid(format!(
            "NewStartingHashKey {key_text} is not a valid hash key."
        ))
    })?;
    let shard = req.shard_to_split.unwrap_or_default();
    let kinesis = ctx.kinesis.clone();
    let now = ctx.now_ms;
    blocking(move || {
        kinesis.active_stream(&name)?;
        let account = kinesis.account().to_owned();
        kinesis.modify_stream(&name, |s| {
            s.layout
                .split(&shard, key, &name, &account, now)
                .map(|_| ())
                .map_err(|e| reshard_error(&e))
        })?;
        tracing::info!(stream = %name, %shard, "Shard split.");
        Ok(json!({}))
    })
    .await
}

/// Maps a refused reshard to AWS's exception.
pub fn reshard_error(e: &sluice_core::kinesis::Reshard) -> KinesisError {
    match e {
        sluice_core::kinesis::Reshard::NoShard(..) => KinesisError::ResourceNotFound(e.to_string()),
        _ => KinesisError::InvalidArgument(e.to_string()),
    }
}
