//! DescribeStreamConsumer: `{StreamARN + ConsumerName | ConsumerARN}` →
//! `{ConsumerDescription}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::kinesis::{ConsumerRecord, StreamRecord};

use crate::kinesis::{Body, Ctx, KinesisWireError, epoch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerRef {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
}

/// Finds the consumer a request names, by ARN or by stream and name.
pub fn find_consumer(
    ctx: &Ctx<'_>,
    r: &ConsumerRef,
) -> Result<(StreamRecord, ConsumerRecord), KinesisWireError> {
    let (stream_arn, by_arn) = match (&r.consumer_arn, &r.stream_arn, &r.consumer_name) {
        (Some(arn), _, _) => {
            let stream_arn = arn
                .split("/consumer/")
                .next()
                .unwrap_or_default()
                .to_owned();
            (stream_arn, true)
        }
        (None, Some(s), Some(_)) => (s.clone(), false),
        _ => {
            return Err(KinesisWireError::invalid(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
            ));
        }
    };
    let stream = ctx.stream(None, Some(&stream_arn))?;
    let found = stream
        .consumers
        .iter()
        .find(|c| {
            if by_arn {
                Some(&c.arn) == r.consumer_arn.as_ref()
            } else {
                Some(&c.name) == r.consumer_name.as_ref()
            }
        })
        .cloned();
    match found {
        Some(c) => Ok((stream, c)),
        None => Err(KinesisWireError::new(
            "ResourceNotFoundException",
            format!(
                "Consumer {} under stream {} not found for account {}.",
                r.consumer_name
                    .clone()
                    .or_else(|| r.consumer_arn.clone())
                    .unwrap_or_default(),
                stream.name,
                ctx.kinesis.account()
            ),
        )),
    }
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: ConsumerRef = input(value)?;
    let (stream, c) = find_consumer(ctx, &req)?;
    Ok(json!({
        "ConsumerDescription": {
            "ConsumerName": c.name,
            "ConsumerARN": c.arn,
            "ConsumerStatus": "ACTIVE",
            "ConsumerCreationTimestamp": epoch(c.created_ms),
            "StreamARN": stream.arn,
        }
    }))
}
