//! IncreaseStreamRetentionPeriod: `{StreamName | StreamARN, RetentionPeriodHours}` → `{}`.

use serde_json::Value;

use super::decrease_stream_retention_period::change_retention;
use crate::kinesis::{Ctx, KinesisWireError};

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, KinesisWireError> {
    change_retention(ctx, value, true).await
}
