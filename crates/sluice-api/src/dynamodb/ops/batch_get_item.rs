//! BatchGetItem: up to 100 keys across tables, read from one snapshot (so
//! `UnprocessedKeys` is always `{}`), with a ProjectionExpression per table. Every
//! requested table appears in `Responses`; missing items are left out.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sluice_store::dynamodb::expr;
use sluice_store::dynamodb::value::item_to_json;

use super::batch_write_item::{check_table_name, duplicates, key_text};
use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions};

/// The most keys one call may carry.
pub const MAX_KEYS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributes {
    #[serde(default)]
    pub keys: Vec<Value>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub request_items: Option<BTreeMap<String, KeysAndAttributes>>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let requests = input.request_items.unwrap_or_default();
    if requests.is_empty() {
        return Err(DynamoWireError::validation(
            "The requestItems parameter is required for BatchGetItem",
        ));
    }
    for (name, r) in &requests {
        if r.keys.is_empty() {
            return Err(DynamoWireError::validation(format!(
                "1 validation error detected: Value '[]' at 'requestItems.{name}.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
    }
    if requests.values().map(|r| r.keys.len()).sum::<usize>() > MAX_KEYS {
        return Err(DynamoWireError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    for name in requests.keys() {
        check_table_name(name)?;
    }
    let mut keys = Vec::new();
    let mut plans = Vec::new();
    for (name, r) in requests {
        let t = ctx.store.table(&name)?;
        let mut subs = substitutions(r.expression_attribute_names, None)?;
        let projection = r
            .projection_expression
            .as_deref()
            .map(|p| expr::parse_projection(p, &mut subs))
            .transpose()
            .map_err(DynamoWireError::validation)?;
        subs.check_unused().map_err(DynamoWireError::validation)?;
        let mut seen = HashSet::new();
        let first = keys.len();
        for k in &r.keys {
            let key = item(k)?;
            t.check_key(&key)?;
            if !seen.insert(key_text(&key)) {
                return Err(duplicates());
            }
            keys.push((name.clone(), key));
        }
        plans.push((name, first..keys.len(), projection));
    }
    let found = ctx.store.get_items(&keys)?;
    let mut responses = Map::new();
    for (name, range, projection) in plans {
        let items: Vec<Value> = found[range]
            .iter()
            .flatten()
            .map(|i| match &projection {
                Some(p) => item_to_json(&expr::project(i, p)),
                None => item_to_json(i),
            })
            .collect();
        responses.insert(name, Value::Array(items));
    }
    Ok(json!({"Responses": responses, "UnprocessedKeys": {}}))
}
