//! Scan: every item of a table in storage order, with FilterExpression, Limit and
//! ExclusiveStartKey.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::expr::{self, Path};
use sluice_store::dynamodb::value::Item;
use sluice_store::dynamodb::value::item_to_json;
use sluice_store::dynamodb::{IndexDef, Page, TableRecord};

use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions, table};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Value>,
    pub limit: Option<i64>,
    pub exclusive_start_key: Option<Value>,
    pub select: Option<String>,
    pub index_name: Option<String>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    v.range("limit", input.limit, 1, i64::from(i32::MAX));
    DynamoWireError::violations(v)?;
    let t = table(ctx, &input.table_name)?;
    let index = match input.index_name.as_deref() {
        Some(name) => Some(t.index(name).cloned().ok_or_else(|| {
            DynamoWireError::validation(format!(
                "The table does not have the specified index: {name}"
            ))
        })?),
        None => None,
    };
    let mut subs = substitutions(
        input.expression_attribute_names,
        input.expression_attribute_values.as_ref(),
    )?;
    let filter = input
        .filter_expression
        .as_deref()
        .map(|f| expr::parse_condition(f, "Filter", &mut subs))
        .transpose()
        .map_err(DynamoWireError::validation)?;
    let projection = input
        .projection_expression
        .as_deref()
        .map(|p| expr::parse_projection(p, &mut subs))
        .transpose()
        .map_err(DynamoWireError::validation)?;
    subs.check_unused().map_err(DynamoWireError::validation)?;
    let start = input.exclusive_start_key.as_ref().map(item).transpose()?;
    if let Some(s) = &start {
        check_start_key(&t, index.as_ref(), s)?;
    }
    let limit = input
        .limit
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = match &index {
        Some(i) => ctx
            .store
            .scan_index(&t, i, filter.as_ref(), limit, start.as_ref())?,
        None => ctx.store.scan(&t, filter.as_ref(), limit, start.as_ref())?,
    };
    Ok(page_json(
        page,
        projection.as_deref(),
        input.select.as_deref(),
    ))
}

/// Checks an ExclusiveStartKey: the table key, plus the index key when reading an index.
pub fn check_start_key(
    t: &TableRecord,
    index: Option<&IndexDef>,
    start: &Item,
) -> Result<(), DynamoWireError> {
    let Some(i) = index else {
        t.check_key(start)?;
        return Ok(());
    };
    let bad = || DynamoWireError::validation("The provided starting key is invalid");
    let key = t.key_of(start);
    t.check_key(&key).map_err(|_| bad())?;
    if !i.holds(start) || i.page_key(t, start).len() != start.len() {
        return Err(bad());
    }
    Ok(())
}

/// Items, Count, ScannedCount and LastEvaluatedKey of a Query or Scan page.
pub fn page_json(page: Page, projection: Option<&[Path]>, select: Option<&str>) -> Value {
    let count = page.items.len();
    let mut out = json!({"Count": count, "ScannedCount": page.scanned});
    let Value::Object(map) = &mut out else {
        return out;
    };
    if select != Some("COUNT") {
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|i| match projection {
                Some(p) => item_to_json(&expr::project(i, p)),
                None => item_to_json(i),
            })
            .collect();
        map.insert("Items".into(), Value::Array(items));
    }
    if let Some(k) = &page.last_key {
        map.insert("LastEvaluatedKey".into(), item_to_json(k));
    }
    out
}
