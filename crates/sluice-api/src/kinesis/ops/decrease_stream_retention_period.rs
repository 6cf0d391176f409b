//! DecreaseStreamRetentionPeriod: `{StreamName | StreamARN, RetentionPeriodHours}` → `{}`.
//! Records older than the new period stop being readable at once.

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
    retention_period_hours: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    change_retention(ctx, value, false).await
}

/// Both retention operations: `increase` says which direction is allowed.
pub async fn change_retention(
    ctx: &Ctx<'_>,
    value: Body,
    increase: bool,
) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    match req.retention_period_hours {
        None => v.not_null("retentionPeriodHours"),
        Some(_) => v.range("retentionPeriodHours", req.retention_period_hours, 1, 8760),
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let hours = req.retention_period_hours.unwrap_or(24);
    if hours < 24 {
        return Err(KinesisWireError::invalid(format!(
            "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
        )));
    }
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let kinesis = ctx.kinesis.clone();
    let now = ctx.now_ms;
    blocking(move || {
        kinesis.active_stream(&name)?;
        let hours = u32::try_from(hours).unwrap_or(24);
        kinesis.modify_stream(&name, |s| {
            let current = s.retention_hours;
            if increase && hours < current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
                )));
            }
            if !increase && hours > current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
                )));
            }
            s.retention_hours = hours;
            Ok(())
        })?;
        kinesis.trim_all(now)?;
        Ok(json!({}))
    })
    .await
}
