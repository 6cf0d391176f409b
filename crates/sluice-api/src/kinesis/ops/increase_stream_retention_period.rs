//! IncreaseStreamRetentionPeriod: `{StreamName | StreamARN, RetentionPeriodHours}` → `{}`.

use serde_json::Value;

use super::decrease_stream_retention_period::change_retention;
use crate::kinesis::{Body, Ctx, KinesisWireError};

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    change_retention(ctx, value, true).await
}
