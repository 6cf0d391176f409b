//! One file per SQS operation.

mod cancel_message_move_task;
mod change_message_visibility;
mod change_message_visibility_batch;
mod create_queue;
mod delete_message;
mod delete_message_batch;
mod delete_queue;
mod get_queue_attributes;
mod get_queue_url;
mod list_dead_letter_source_queues;
mod list_message_move_tasks;
mod list_queue_tags;
mod list_queues;
mod purge_queue;
mod receive_message;
mod send_message;
mod send_message_batch;
mod set_queue_attributes;
mod start_message_move_task;
mod tag_queue;
mod untag_queue;

use serde_json::Value;

use super::{Code, Ctx, SqsWireError};

/// The operations served.
pub const OPERATIONS: [&str; 21] = [
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "DeleteQueue",
    "PurgeQueue",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "ListDeadLetterSourceQueues",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
];

/// SQS operations of the model that Sluice does not serve.
pub const NOT_SUPPORTED: [&str; 2] = ["AddPermission", "RemovePermission"];

/// A move-task error on the wire.
fn move_error(e: sluice_store::sqs::move_task::MoveError) -> SqsWireError {
    use sluice_store::sqs::move_task::MoveError;
    match e {
        MoveError::NotFound(m) => SqsWireError::new(Code::ResourceNotFound, m),
        MoveError::Unsupported(m) => SqsWireError::new(Code::UnsupportedOperation, m),
        MoveError::Invalid(m) => SqsWireError::invalid(m),
    }
}

/// Runs operation `op` on `input`.
pub async fn dispatch(ctx: &Ctx<'_>, op: &str, input: Value) -> Result<Value, SqsWireError> {
    match op {
        "CreateQueue" => create_queue::handle(ctx, input).await,
        "GetQueueUrl" => get_queue_url::handle(ctx, input).await,
        "ListQueues" => list_queues::handle(ctx, input).await,
        "GetQueueAttributes" => get_queue_attributes::handle(ctx, input).await,
        "SetQueueAttributes" => set_queue_attributes::handle(ctx, input).await,
        "DeleteQueue" => delete_queue::handle(ctx, input).await,
        "PurgeQueue" => purge_queue::handle(ctx, input).await,
        "SendMessage" => send_message::handle(ctx, input).await,
        "SendMessageBatch" => send_message_batch::handle(ctx, input).await,
        "ReceiveMessage" => receive_message::handle(ctx, input).await,
        "DeleteMessage" => delete_message::handle(ctx, input).await,
        "DeleteMessageBatch" => delete_message_batch::handle(ctx, input).await,
        "ChangeMessageVisibility" => change_message_visibility::handle(ctx, input).await,
        "ChangeMessageVisibilityBatch" => change_message_visibility_batch::handle(ctx, input).await,
        "ListDeadLetterSourceQueues" => list_dead_letter_source_queues::handle(ctx, input).await,
        "TagQueue" => tag_queue::handle(ctx, input).await,
        "UntagQueue" => untag_queue::handle(ctx, input).await,
        "ListQueueTags" => list_queue_tags::handle(ctx, input).await,
        "StartMessageMoveTask" => start_message_move_task::handle(ctx, input).await,
        "ListMessageMoveTasks" => list_message_move_tasks::handle(ctx, input).await,
        "CancelMessageMoveTask" => cancel_message_move_task::handle(ctx, input).await,
        other if NOT_SUPPORTED.contains(&other) => Err(SqsWireError::new(
            Code::UnsupportedOperation,
            format!("Operation {other} is not supported by this Sluice."),
        )),
        other => Err(SqsWireError::new(
            Code::InvalidAction,
            format!("The action {other} is not valid for this endpoint."),
        )),
    }
}

/// Tag checks shared by CreateQueue and TagQueue.
pub fn check_tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), SqsWireError> {
    if tags.len() > 50 {
        return Err(SqsWireError::invalid(format!(
            "Too many tags added for queue. Maximum allowed is 50, but {} were specified.",
            tags.len()
        )));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(SqsWireError::invalid(
                "Tag keys must be between 1 and 128 characters in length.",
            ));
        }
        if v.chars().count() > 256 {
            return Err(SqsWireError::invalid(
                "Tag values must be less than 256 characters in length.",
            ));
        }
    }
    Ok(())
}

/// A queue URL list member, keeping an empty list out of the answer.
pub fn urls(ctx: &Ctx<'_>, names: &[String]) -> Vec<Value> {
    names
        .iter()
        .map(|n| Value::String(ctx.queue_url(n)))
        .collect()
}
