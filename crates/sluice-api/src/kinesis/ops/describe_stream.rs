//! DescribeStream: `{StreamName | StreamARN, Limit?, ExclusiveStartShardId?}` →
//! `{StreamDescription}` with at most `Limit` (default 100) shards after the start shard.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::shards::parse_shard_id;

use super::{blocking, shard_json, stream_mode};
use crate::kinesis::{Body, Ctx, KinesisWireError, epoch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    limit: Option<i64>,
    exclusive_start_shard_id: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    v.range("limit", req.limit, 1, 10_000);
    v.finish().map_err(KinesisWireError::validation)?;
    let stream = ctx.stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
    let after = req
        .exclusive_start_shard_id
        .as_deref()
        .and_then(parse_shard_id);
    let kinesis = ctx.kinesis.clone();
    blocking(move || {
        let mut shards = stream
            .layout
            .shards
            .iter()
            .filter(|s| after.is_none_or(|a| s.ordinal > a));
        let page: Vec<Value> = shards
            .by_ref()
            .take(limit)
            .map(|s| shard_json(&kinesis, &stream, s))
            .collect::<Result<_, _>>()?;
        let has_more = shards.next().is_some();
        Ok(json!({
            "StreamDescription": {
                "StreamName": stream.name,
                "StreamARN": stream.arn,
                "StreamStatus": stream.status.as_str(),
                "StreamModeDetails": stream_mode(&stream),
                "Shards": page,
                "HasMoreShards": has_more,
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": epoch(stream.epoch_ms),
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        }))
    })
    .await
}
