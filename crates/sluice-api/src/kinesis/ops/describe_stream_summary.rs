//! DescribeStreamSummary: `{StreamName | StreamARN}` → `{StreamDescriptionSummary}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::stream_mode;
use crate::kinesis::{Body, Ctx, KinesisWireError, epoch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let s = ctx.stream(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    Ok(json!({
        "StreamDescriptionSummary": {
            "StreamName": s.name,
            "StreamARN": s.arn,
            "StreamStatus": s.status.as_str(),
            "StreamModeDetails": stream_mode(&s),
            "RetentionPeriodHours": s.retention_hours,
            "StreamCreationTimestamp": epoch(s.epoch_ms),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
            "OpenShardCount": s.layout.open_count(),
            "ConsumerCount": s.consumers.len(),
        }
    }))
}
