//! TransactGetItems: up to 100 Gets across tables from one snapshot; `Responses` holds one
//! entry per Get, in request order (`{}` for a missing item).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::dynamodb::expr;
use sluice_store::dynamodb::value::item_to_json;

use super::batch_write_item::key_text;
use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions, table};

/// The most Gets one call may carry.
pub const MAX_GETS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Get {
    #[serde(default)]
    pub table_name: String,
    pub key: Option<Value>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItem {
    pub get: Option<Get>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub transact_items: Option<Vec<TransactGetItem>>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let Some(items) = input.transact_items else {
        return Err(DynamoWireError::validation(
            "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
        ));
    };
    if items.is_empty() {
        return Err(DynamoWireError::validation(
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    if items.len() > MAX_GETS {
        return Err(DynamoWireError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_GETS}"
        )));
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut projections = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, ti) in items.into_iter().enumerate() {
        let Some(g) = ti.get else {
            return Err(DynamoWireError::validation(format!(
                "1 validation error detected: Value null at 'transactItems.{}.member.get' failed to satisfy constraint: Member must not be null",
                i + 1
            )));
        };
        let t = table(ctx, &g.table_name)?;
        let key = item(g.key.as_ref().unwrap_or(&Value::Null))?;
        t.check_key(&key)?;
        let mut subs = substitutions(g.expression_attribute_names, None)?;
        let projection = g
            .projection_expression
            .as_deref()
            .map(|p| expr::parse_projection(p, &mut subs))
            .transpose()
            .map_err(DynamoWireError::validation)?;
        subs.check_unused().map_err(DynamoWireError::validation)?;
        if !seen.insert((t.name.clone(), key_text(&key))) {
            return Err(DynamoWireError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        keys.push((t.name, key));
        projections.push(projection);
    }
    let found = ctx.store.get_items(&keys)?;
    let responses: Vec<Value> = found
        .iter()
        .zip(&projections)
        .map(|(f, p)| match (f, p) {
            (Some(i), Some(p)) => json!({"Item": item_to_json(&expr::project(i, p))}),
            (Some(i), None) => json!({"Item": item_to_json(i)}),
            (None, _) => json!({}),
        })
        .collect();
    Ok(json!({"Responses": responses}))
}
