//! GetItem, with an optional ProjectionExpression.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::dynamodb::expr;
use sluice_store::dynamodb::value::item_to_json;

use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions, table};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub key: Option<Value>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let t = table(ctx, &input.table_name)?;
    let key = item(input.key.as_ref().unwrap_or(&Value::Null))?;
    t.check_key(&key)?;
    let mut subs = substitutions(input.expression_attribute_names, None)?;
    let projection = input
        .projection_expression
        .as_deref()
        .map(|p| expr::parse_projection(p, &mut subs))
        .transpose()
        .map_err(DynamoWireError::validation)?;
    subs.check_unused().map_err(DynamoWireError::validation)?;
    Ok(match ctx.store.get_item(&t.name, &key)? {
        Some(found) => {
            let shown = match &projection {
                Some(p) => expr::project(&found, p),
                None => found,
            };
            json!({"Item": item_to_json(&shown)})
        }
        None => json!({}),
    })
}
