//! ListMessageMoveTasks: `{SourceArn, MaxResults?}` → `{Results: [...]}`, newest first; a
//! running task shows its TaskHandle.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sluice_store::sqs::move_task::MoveStatus;

use super::move_error;
use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    source_arn: Option<String>,
    max_results: Option<i64>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let Some(source) = req.source_arn else {
        return Err(SqsWireError::missing("SourceArn"));
    };
    let tasks = ctx
        .sqs
        .list_move_tasks(&source, req.max_results)
        .map_err(move_error)?;
    let results: Vec<Value> = tasks
        .into_iter()
        .map(|t| {
            let mut o = Map::new();
            if t.status == MoveStatus::Running {
                o.insert("TaskHandle".into(), json!(t.handle));
            }
            o.insert("Status".into(), json!(t.status.as_str()));
            o.insert("SourceArn".into(), json!(t.source_arn));
            if let Some(d) = t.destination_arn {
                o.insert("DestinationArn".into(), json!(d));
            }
            if let Some(r) = t.rate {
                o.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
            }
            o.insert("ApproximateNumberOfMessagesMoved".into(), json!(t.moved));
            o.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
            if let Some(f) = t.failure_reason {
                o.insert("FailureReason".into(), json!(f));
            }
            o.insert("StartedTimestamp".into(), json!(t.started_ms));
            Value::Object(o)
        })
        .collect();
    Ok(json!({"Results": results}))
}
