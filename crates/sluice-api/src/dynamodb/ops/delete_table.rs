//! DeleteTable: items go; the stream is closed but stays readable for 24 hours.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::dynamodb::{Ctx, DynamoWireError, table_description, table_name};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", &input.table_name);
    DynamoWireError::violations(v)?;
    let t = ctx.store.delete_table(&input.table_name, ctx.now_ms)?;
    Ok(json!({"TableDescription": table_description(ctx, &t, "DELETING")}))
}
