//! RegisterStreamConsumer: `{StreamARN, ConsumerName}` → `{Consumer}`. Consumers are ACTIVE
//! at once; their ARNs are valid event source mapping sources.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::kinesis::{ConsumerRecord, KinesisError};

use super::blocking;
use crate::kinesis::{Body, Ctx, KinesisWireError, epoch, input, stream_name_constraints};

/// Most consumers one stream may have, as on AWS.
pub const MAX_CONSUMERS: usize = 20;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    consumer_name: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    if req.stream_arn.is_none() {
        v.not_null("streamARN");
    }
    match &req.consumer_name {
        None => v.not_null("consumerName"),
        Some(n) => stream_name_constraints(&mut v, "consumerName", n),
    }
    v.finish().map_err(KinesisWireError::validation)?;
    let name = ctx.stream_name(None, req.stream_arn.as_deref())?;
    let consumer = req.consumer_name.unwrap_or_default();
    let kinesis = ctx.kinesis.clone();
    let now = ctx.now_ms;
    blocking(move || {
        let account = kinesis.account().to_owned();
        let mut made = None;
        let s = kinesis.modify_stream(&name, |s| {
            if s.consumers.iter().any(|c| c.name == consumer) {
                return Err(KinesisError::ResourceInUse(format!(
                    "Consumer {consumer} under stream {name} already exists for account {account}."
                )));
            }
            if s.consumers.len() >= MAX_CONSUMERS {
                return Err(KinesisError::LimitExceeded(format!(
                    "Stream {name} under account {account} already has {MAX_CONSUMERS} consumers."
                )));
            }
            let record = ConsumerRecord {
                arn: format!("{}/consumer/{consumer}:{}", s.arn, now / 1000),
                name: consumer.clone(),
                created_ms: now,
            };
            made = Some(record.clone());
            s.consumers.push(record);
            Ok(())
        })?;
        let c = made.unwrap_or_else(|| s.consumers[s.consumers.len() - 1].clone());
        Ok(json!({
            "Consumer": {
                "ConsumerName": c.name,
                "ConsumerARN": c.arn,
                "ConsumerStatus": "ACTIVE",
                "ConsumerCreationTimestamp": epoch(c.created_ms),
            }
        }))
    })
    .await
}
