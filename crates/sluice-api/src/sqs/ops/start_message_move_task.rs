//! StartMessageMoveTask: `{SourceArn, DestinationArn?, MaxNumberOfMessagesPerSecond?}` →
//! `{TaskHandle}`: moves a dead-letter queue's messages back to their source queues (or to
//! DestinationArn).

use serde::Deserialize;
use serde_json::{Value, json};

use super::move_error;
use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    source_arn: Option<String>,
    destination_arn: Option<String>,
    max_number_of_messages_per_second: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let Some(source) = req.source_arn else {
        return Err(SqsWireError::missing("SourceArn"));
    };
    let handle = ctx
        .sqs
        .start_move_task(
            &source,
            req.destination_arn.as_deref(),
            req.max_number_of_messages_per_second,
        )
        .map_err(move_error)?;
    Ok(json!({"TaskHandle": handle}))
}
