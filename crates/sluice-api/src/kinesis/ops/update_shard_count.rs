//! UpdateShardCount: `{StreamName | StreamARN, TargetShardCount, ScalingType: UNIFORM_SCALING}`
//! → `{StreamName, CurrentShardCount, TargetShardCount, StreamARN}`. As on AWS the target may
//! be at most double and at least half the open shard count.

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
    target_shard_count: Option<i64>,
    scaling_type: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match req.target_shard_count {
        None => v.not_null("targetShardCount"),
        Some(_) => v.range("targetShardCount", req.target_shard_count, 1, 100_000),
    }
    match &req.scaling_type {
        None => v.not_null("scalingType"),
        Some(t) => v.one_of("scalingType", t, &["UNIFORM_SCALING"], "[UNIFORM_SCALING]"),
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let target = u32::try_from(req.target_shard_count.unwrap_or(1)).unwrap_or(1);
    let kinesis = ctx.kinesis.clone();
    let now = ctx.now_ms;
    blocking(move || {
        kinesis.active_stream(&name)?;
        let mut current = 0;
        let s = kinesis.modify_stream(&name, |s| {
            current = s.layout.open_count();
            if target > current.saturating_mul(2) || target.saturating_mul(2) < current {
                return Err(KinesisError::InvalidArgument(format!(
                    "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target != current {
                s.layout.rescale(target, now);
            }
            Ok(())
        })?;
        Ok(json!({
            "StreamName": s.name,
            "CurrentShardCount": current,
            "TargetShardCount": target,
            "StreamARN": s.arn,
        }))
    })
    .await
}
