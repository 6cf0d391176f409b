//! ChangeMessageVisibilityBatch: `{QueueUrl, Entries: [{Id, ReceiptHandle,
//! VisibilityTimeout}]}` → `{Successful: [{Id}], Failed: [...]}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::sqs::SqsError;

use super::change_message_visibility::timeout;
use crate::sqs::{Ctx, SqsWireError, check_batch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    id: Option<String>,
    receipt_handle: Option<String>,
    visibility_timeout: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    entries: Option<Vec<Entry>>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    ctx.sqs.queue(&name)?;
    let entries = req.entries.unwrap_or_default();
    let ids: Vec<Option<&str>> = entries.iter().map(|e| e.id.as_deref()).collect();
    check_batch("ChangeMessageVisibilityBatchRequestEntry", &ids)?;
    let mut failed = Vec::new();
    let mut changes = Vec::new();
    let mut change_ids = Vec::new();
    for e in entries {
        let id = e.id.unwrap_or_default();
        let Some(handle) = e.receipt_handle else {
            failed.push(SqsWireError::missing("ReceiptHandle").failed_entry(&id));
            continue;
        };
        match timeout(e.visibility_timeout) {
            Ok(t) => {
                changes.push((handle, t));
                change_ids.push(id);
            }
            Err(err) => failed.push(err.failed_entry(&id)),
        }
    }
    let results = ctx.sqs.change_visibility_batch(&name, &changes).await?;
    let mut successful = Vec::new();
    for (id, r) in change_ids.into_iter().zip(results) {
        match r {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(SqsError::Store(e)) => return Err(SqsError::Store(e).into()),
            Err(e) => failed.push(SqsWireError::from(e).failed_entry(&id)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}
