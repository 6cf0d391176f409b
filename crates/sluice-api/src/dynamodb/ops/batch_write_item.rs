//! BatchWriteItem: up to 25 puts and deletes across tables, applied together in one
//! transaction (so `UnprocessedItems` is always `{}`), each change with its stream record.
//!
//! Checks, in order, before anything is written: RequestItems present; each table's list
//! not empty; at most 25 requests in all; table names; each request exactly one of
//! PutRequest / DeleteRequest; tables exist; items and keys match the key schema; no key
//! twice in one table.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::{WriteKind, WriteOp};

use crate::dynamodb::{Ctx, DynamoWireError, item, table_name};

/// The most write requests one call may carry.
pub const MAX_REQUESTS: usize = 25;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRequest {
    pub item: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    pub key: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteRequest {
    pub put_request: Option<PutRequest>,
    pub delete_request: Option<DeleteRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub request_items: Option<BTreeMap<String, Vec<WriteRequest>>>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let ops = plan(ctx, input)?;
    ctx.store.write_batch(&ops, ctx.now_ms)?;
    Ok(json!({"UnprocessedItems": {}}))
}

/// Validates the request into the writes to apply.
fn plan(ctx: &Ctx, input: Input) -> Result<Vec<WriteOp>, DynamoWireError> {
    let requests = input.request_items.unwrap_or_default();
    if requests.is_empty() {
        return Err(DynamoWireError::validation(
            "The requestItems parameter is required for BatchWriteItem",
        ));
    }
    for (name, list) in &requests {
        if list.is_empty() {
            return Err(DynamoWireError::validation(format!(
                "1 validation error detected: Value '{{{name}=[]}}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_REQUESTS}, Member must have length greater than or equal to 1]"
            )));
        }
    }
    if requests.values().map(Vec::len).sum::<usize>() > MAX_REQUESTS {
        return Err(DynamoWireError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    for name in requests.keys() {
        check_table_name(name)?;
    }
    let mut ops = Vec::new();
    for (name, list) in requests {
        let t = ctx.store.table(&name)?;
        let mut seen = HashSet::new();
        for r in list {
            let (key, kind) = match (r.put_request, r.delete_request) {
                (Some(p), None) => {
                    let it = item(p.item.as_ref().unwrap_or(&Value::Null))?;
                    t.check_item(&it)?;
                    (t.key_of(&it), WriteKind::Put(it))
                }
                (None, Some(d)) => {
                    let key = item(d.key.as_ref().unwrap_or(&Value::Null))?;
                    t.check_key(&key)?;
                    (key, WriteKind::Delete)
                }
                _ => {
                    return Err(DynamoWireError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ));
                }
            };
            if !seen.insert(key_text(&key)) {
                return Err(duplicates());
            }
            ops.push(WriteOp {
                table: name.clone(),
                key,
                kind,
                condition: None,
            });
        }
    }
    Ok(ops)
}

/// A table name of a batch request (a map key, checked as AWS checks index names).
pub fn check_table_name(name: &str) -> Result<(), DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", name);
    if v.is_empty() {
        Ok(())
    } else {
        Err(DynamoWireError::validation(
            "Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'",
        ))
    }
}

/// One text per key (values are normalized, so equal keys have equal texts).
pub fn key_text(key: &sluice_store::dynamodb::value::Item) -> String {
    sluice_store::dynamodb::value::item_to_json(key).to_string()
}

pub fn duplicates() -> DynamoWireError {
    DynamoWireError::validation("Provided list of item keys contains duplicates")
}
