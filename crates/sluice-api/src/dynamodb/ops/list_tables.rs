//! ListTables, paginated by ExclusiveStartTableName.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::dynamodb::{Ctx, DynamoWireError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.range("limit", input.limit, 1, 100);
    DynamoWireError::violations(v)?;
    let limit = usize::try_from(input.limit.unwrap_or(100)).unwrap_or(100);
    let names: Vec<String> = ctx
        .store
        .list_tables()?
        .into_iter()
        .filter(|n| {
            input
                .exclusive_start_table_name
                .as_ref()
                .is_none_or(|s| n > s)
        })
        .collect();
    let more = names.len() > limit;
    let page: Vec<String> = names.into_iter().take(limit).collect();
    let mut out = json!({"TableNames": &page});
    if more && let (Some(last), Value::Object(map)) = (page.last().cloned(), &mut out) {
        map.insert("LastEvaluatedTableName".into(), json!(last));
    }
    Ok(out)
}
