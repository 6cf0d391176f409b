//! DescribeTimeToLive: `ENABLED` with the attribute, or `DISABLED`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::dynamodb::{Ctx, DynamoWireError, table};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let t = table(ctx, &input.table_name)?;
    Ok(match t.ttl_attribute {
        Some(a) => {
            json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": a}})
        }
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}
