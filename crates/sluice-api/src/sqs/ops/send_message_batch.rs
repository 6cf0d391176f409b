//! SendMessageBatch: `{QueueUrl, Entries: [{Id, MessageBody, ...}]}` →
//! `{Successful: [{Id, MessageId, MD5OfMessageBody, ...}], Failed: [{Id, SenderFault, Code,
//! Message}]}`. The list itself is checked first (EmptyBatchRequest,
//! TooManyEntriesInBatchRequest, InvalidBatchEntryId, BatchEntryIdsNotDistinct, FIFO ids,
//! BatchRequestTooLong); then each entry succeeds or fails on its own.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::sqs::SqsError;

use super::send_message::{MessageFields, sent_json};
use crate::sqs::{Code, Ctx, SqsWireError, check_batch, input};

/// Largest batch: the sum of bodies and attributes.
const MAX_BATCH_BYTES: usize = 1_048_576;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    id: Option<String>,
    #[serde(flatten)]
    fields: MessageFields,
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
    let settings = ctx.sqs.queue(&name)?.record.settings;
    let entries = req.entries.unwrap_or_default();
    let ids: Vec<Option<&str>> = entries.iter().map(|e| e.id.as_deref()).collect();
    check_batch("SendMessageBatchRequestEntry", &ids)?;
    if settings.fifo {
        for e in &entries {
            if e.fields.message_group_id.is_none() {
                return Err(SqsWireError::invalid(
                    "The request must contain the parameter MessageGroupId.",
                ));
            }
            if e.fields.message_deduplication_id.is_none() && !settings.content_based_deduplication
            {
                return Err(SqsWireError::invalid(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
    }
    let total: usize = entries.iter().map(|e| e.fields.size()).sum();
    if total > MAX_BATCH_BYTES {
        return Err(SqsWireError::new(
            Code::BatchRequestTooLong,
            format!(
                "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            ),
        ));
    }
    let mut failed = Vec::new();
    let mut sending = Vec::new();
    let mut sending_ids = Vec::new();
    for e in entries {
        let id = e.id.unwrap_or_default();
        match e.fields.into_message(&settings) {
            Ok(m) => {
                sending.push(m);
                sending_ids.push(id);
            }
            Err(err) => failed.push(err.failed_entry(&id)),
        }
    }
    let results = if sending.is_empty() {
        Vec::new()
    } else {
        ctx.sqs.send_batch(&name, sending).await?
    };
    let mut successful = Vec::new();
    for (id, r) in sending_ids.into_iter().zip(results) {
        match r {
            Ok(sent) => {
                let mut v = json!({"Id": id});
                if let (Some(o), Value::Object(s)) = (v.as_object_mut(), sent_json(&sent)) {
                    o.extend(s);
                }
                successful.push(v);
            }
            Err(SqsError::Store(e)) => return Err(SqsError::Store(e).into()),
            Err(e) => failed.push(SqsWireError::from(e).failed_entry(&id)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}
