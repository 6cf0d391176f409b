//! DeleteMessageBatch: `{QueueUrl, Entries: [{Id, ReceiptHandle}]}` →
//! `{Successful: [{Id}], Failed: [...]}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::sqs::SqsError;

use crate::sqs::{Ctx, SqsWireError, check_batch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    id: Option<String>,
    receipt_handle: Option<String>,
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
    check_batch("DeleteMessageBatchRequestEntry", &ids)?;
    let mut failed = Vec::new();
    let mut handles = Vec::new();
    let mut handle_ids = Vec::new();
    for e in entries {
        let id = e.id.unwrap_or_default();
        match e.receipt_handle {
            Some(h) => {
                handles.push(h);
                handle_ids.push(id);
            }
            None => failed.push(SqsWireError::missing("ReceiptHandle").failed_entry(&id)),
        }
    }
    let results = ctx.sqs.delete(&name, &handles).await?;
    let mut successful = Vec::new();
    for (id, r) in handle_ids.into_iter().zip(results) {
        match r {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(SqsError::Store(e)) => return Err(SqsError::Store(e).into()),
            Err(e) => failed.push(SqsWireError::from(e).failed_entry(&id)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}
