//! CreateStream: `{StreamName, ShardCount?, StreamModeDetails?, Tags?}` → `{}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use super::blocking;
use crate::kinesis::{Body, Ctx, KinesisWireError, input, stream_name_constraints};

/// Most shards one Sluice holds (an account's default shard quota on AWS is 500 to 1000).
pub const SHARD_LIMIT: i64 = 1000;
/// Shards of an ON_DEMAND stream, as AWS starts them.
pub const ON_DEMAND_SHARDS: u32 = 4;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    shard_count: Option<i64>,
    stream_mode_details: Option<ModeDetails>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ModeDetails {
    stream_mode: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match &req.stream_name {
        None => v.not_null("streamName"),
        Some(n) => stream_name_constraints(&mut v, "streamName", n),
    }
    v.range("shardCount", req.shard_count, 1, 100_000);
    let mode = req.stream_mode_details.and_then(|m| m.stream_mode);
    if let Some(m) = &mode {
        v.one_of(
            "streamModeDetails.streamMode",
            m,
            &["PROVISIONED", "ON_DEMAND"],
            "[PROVISIONED, ON_DEMAND]",
        );
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let on_demand = mode.as_deref() == Some("ON_DEMAND");
    let shards = match (on_demand, req.shard_count) {
        (true, _) => i64::from(ON_DEMAND_SHARDS),
        (false, Some(n)) => n,
        (false, None) => {
            return Err(KinesisWireError::invalid(
                "ShardCount is required for PROVISIONED streams.",
            ));
        }
    };
    let kinesis = ctx.kinesis.clone();
    let existing: i64 = kinesis
        .list_streams()?
        .iter()
        .map(|s| i64::from(s.layout.open_count()))
        .sum();
    if existing + shards > SHARD_LIMIT {
        return Err(KinesisWireError::new(
            "LimitExceededException",
            format!(
                "This request would exceed the shard limit for the account {} in {}. Current shard count for the account: {existing}. Limit: {SHARD_LIMIT}. Number of additional shards that would have resulted from this request: {shards}.",
                kinesis.account(),
                kinesis.region()
            ),
        ));
    }
    let name = req.stream_name.unwrap_or_default();
    let tags = req.tags.unwrap_or_default();
    let now = ctx.now_ms;
    let count = u32::try_from(shards).unwrap_or(1);
    blocking(move || Ok(kinesis.create_stream(&name, count, on_demand, tags, now)?)).await?;
    Ok(json!({}))
}
