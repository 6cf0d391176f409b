//! DeregisterStreamConsumer: `{StreamARN + ConsumerName | ConsumerARN}` → `{}`.

use serde_json::{Value, json};

use super::blocking;
use super::describe_stream_consumer::{ConsumerRef, find_consumer};
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: ConsumerRef = input(value)?;
    let (stream, consumer) = find_consumer(ctx, &req)?;
    let kinesis = ctx.kinesis.clone();
    blocking(move || {
        kinesis.modify_stream(&stream.name, |s| {
            s.consumers.retain(|c| c.arn != consumer.arn);
            Ok(())
        })?;
        Ok(json!({}))
    })
    .await
}
