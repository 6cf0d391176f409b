//! GetQueueUrl: `{QueueName, QueueOwnerAWSAccountId?}` → `{QueueUrl}`.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::sqs::SqsError;

use crate::sqs::{Ctx, SqsWireError, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    queue_owner_aws_account_id: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Value) -> Result<Value, SqsWireError> {
    let req: Input = input(value)?;
    let name = req
        .queue_name
        .ok_or_else(|| SqsWireError::missing("QueueName"))?;
    let owner_ok = req
        .queue_owner_aws_account_id
        .as_deref()
        .is_none_or(|a| a == ctx.sqs.account());
    if !owner_ok || !ctx.sqs.contains(&name) {
        return Err(SqsError::QueueDoesNotExist.into());
    }
    Ok(json!({"QueueUrl": ctx.queue_url(&name)}))
}
