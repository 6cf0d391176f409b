//! DeleteStream: `{StreamName | StreamARN, EnforceConsumerDeletion?}` → `{}`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::blocking;
use crate::kinesis::{Body, Ctx, KinesisWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    enforce_consumer_deletion: Option<bool>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
    let kinesis = ctx.kinesis.clone();
    let stream = kinesis.stream(&name)?;
    if !stream.consumers.is_empty() && req.enforce_consumer_deletion != Some(true) {
        return Err(KinesisWireError::new(
            "ResourceInUseException",
            format!(
                "Stream {name} under account {} has registered consumers. Set EnforceConsumerDeletion to true to delete the stream and its consumers.",
                kinesis.account()
            ),
        ));
    }
    blocking(move || Ok(kinesis.delete_stream(&name)?)).await?;
    Ok(json!({}))
}
