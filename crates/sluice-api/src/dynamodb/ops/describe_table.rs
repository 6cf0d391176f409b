//! DescribeTable.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::dynamodb::{Ctx, DynamoWireError, table, table_description};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let t = table(ctx, &input.table_name)?;
    Ok(json!({"Table": table_description(ctx, &t, "ACTIVE")}))
}
