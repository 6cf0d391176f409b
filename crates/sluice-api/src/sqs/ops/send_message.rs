//! SendMessage: `{QueueUrl, MessageBody, DelaySeconds?, MessageAttributes?,
//! MessageSystemAttributes?, MessageDeduplicationId?, MessageGroupId?}` →
//! `{MD5OfMessageBody, MD5OfMessageAttributes?, MD5OfMessageSystemAttributes?, MessageId,
//! SequenceNumber?}`; answered once the message is on disk.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sluice_store::sqs::{NewMessage, QueueSettings, SentMessage};

use crate::sqs::{Ctx, SqsWireError, WireAttribute, input, message_attributes, trace_header};

/// The members a message has in SendMessage and in a SendMessageBatch entry.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageFields {
    pub message_body: Option<String>,
    pub delay_seconds: Option<i64>,
    pub message_attributes: Option<BTreeMap<String, WireAttribute>>,
    pub message_system_attributes: Option<BTreeMap<String, WireAttribute>>,
    pub message_deduplication_id: Option<String>,
    pub message_group_id: Option<String>,
}

impl MessageFields {
    /// Bytes the message counts towards a batch's size.
    pub fn size(&self) -> usize {
        self.message_body.as_ref().map_or(0, String::len)
            + self.message_attributes.as_ref().map_or(0, |m| {
                m.iter()
                    .map(|(k, a)| {
                        k.len()
                            + a.data_type.as_ref().map_or(0, String::len)
                            + a.string_value.as_ref().map_or(0, String::len)
                            + a.binary_value.as_ref().map_or(0, |b| b.len() * 3 / 4)
                    })
                    .sum()
            })
    }

    /// The message to store; the store makes the remaining checks.
    pub fn into_message(self, settings: &QueueSettings) -> Result<NewMessage, SqsWireError> {
        let body = self
            .message_body
            .ok_or_else(|| SqsWireError::missing("MessageBody"))?;
        let delay = match self.delay_seconds {
            None => None,
            Some(d) if (0..=900).contains(&d) => Some(Duration::from_secs(d.unsigned_abs())),
            Some(d) => {
                return Err(SqsWireError::invalid(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
                )));
            }
        };
        let dedup_id = match self.message_deduplication_id {
            None if settings.fifo && settings.content_based_deduplication => {
                Some(sha256_hex(body.as_bytes()))
            }
            other => other,
        };
        Ok(NewMessage {
            message_attributes: message_attributes(self.message_attributes)?,
            trace_header: trace_header(self.message_system_attributes)?,
            delay,
            group_id: self.message_group_id,
            dedup_id,
            body,
        })
    }
}

/// ContentBasedDeduplication's id: the SHA-256 of the body, in hex.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SendMessage's answer members (also a SendMessageBatch entry's, with its Id).
pub fn sent_json(sent: &SentMessage) -> Value {
    let mut out = json!({"MD5OfMessageBody": sent.md5_of_body});
    if let Some(m) = &sent.md5_of_message_attributes {
        out["MD5OfMessageAttributes"] = json!(m);
    }
    if let Some(m) = &sent.md5_of_system_attributes {
        out["MD5OfMessageSystemAttributes"] = json!(m);
    }
    out["MessageId"] = json!(sent.message_id);
    if let Some(s) = &sent.sequence_number {
        out["SequenceNumber"] = json!(s);
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_url: Option<String>,
    #[serde(flatten)]
    fields: MessageFields,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = ctx.queue_name(req.queue_url.as_deref())?;
    let settings = ctx.sqs.queue(&name)?.record.settings;
    let msg = req.fields.into_message(&settings)?;
    let sent = ctx.sqs.send_message(&name, msg).await?;
    Ok(sent_json(&sent))
}
