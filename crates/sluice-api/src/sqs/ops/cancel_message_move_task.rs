//! CancelMessageMoveTask: `{TaskHandle}` → `{ApproximateNumberOfMessagesMoved}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::move_error;
use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    task_handle: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let Some(handle) = req.task_handle else {
        return Err(SqsWireError::missing("TaskHandle"));
    };
    let moved = ctx.sqs.cancel_move_task(&handle).map_err(move_error)?;
    Ok(json!({"ApproximateNumberOfMessagesMoved": moved}))
}
