//! UpdateItem: SET / REMOVE / ADD / DELETE on the item (created when missing: INSERT).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::dynamodb::WriteKind;
use sluice_store::dynamodb::expr;

use super::{condition, condition_failed};
use crate::dynamodb::{Ctx, DynamoWireError, item, returned, substitutions, table};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub key: Option<Value>,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Value>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
}

const RETURN: [&str; 5] = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"];

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let t = table(ctx, &input.table_name)?;
    let key = item(input.key.as_ref().unwrap_or(&Value::Null))?;
    t.check_key(&key)?;
    let mut subs = substitutions(
        input.expression_attribute_names,
        input.expression_attribute_values.as_ref(),
    )?;
    let actions = match input.update_expression.as_deref() {
        Some(u) => expr::parse_update(u, &mut subs).map_err(DynamoWireError::validation)?,
        None => Vec::new(),
    };
    let cond = condition(input.condition_expression.as_deref(), &mut subs)?;
    subs.check_unused().map_err(DynamoWireError::validation)?;
    super::check_update_keys(&t, &actions)?;
    returned(input.return_values.as_deref(), None, None, &RETURN)?;
    let out = ctx
        .store
        .write_item(
            &t.name,
            &key,
            WriteKind::Update(actions),
            cond.as_ref(),
            ctx.now_ms,
        )
        .map_err(|e| {
            condition_failed(e, input.return_values_on_condition_check_failure.as_deref())
        })?;
    Ok(
        match returned(
            input.return_values.as_deref(),
            out.old.as_ref(),
            out.new.as_ref(),
            &RETURN,
        )? {
            Some(a) => json!({"Attributes": a}),
            None => json!({}),
        },
    )
}
