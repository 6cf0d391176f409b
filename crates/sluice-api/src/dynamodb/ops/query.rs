//! Query: one partition (KeyConditionExpression `pk = :v`, optionally a sort key condition),
//! in sort-key order, with FilterExpression, Limit and ExclusiveStartKey.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::KeyAttr;
use sluice_store::dynamodb::expr::{self, CmpOp, Cond, Operand, PathElem};
use sluice_store::dynamodb::value::Av;

use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions, table};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Value>,
    pub limit: Option<i64>,
    pub exclusive_start_key: Option<Value>,
    pub scan_index_forward: Option<bool>,
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
    let Some(kce) = input.key_condition_expression.as_deref() else {
        return Err(DynamoWireError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    };
    let mut subs = substitutions(
        input.expression_attribute_names,
        input.expression_attribute_values.as_ref(),
    )?;
    let key_cond = expr::parse_condition(kce, "KeyCondition", &mut subs)
        .map_err(DynamoWireError::validation)?;
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
    let (hash_attr, range_attr) = match &index {
        Some(i) => (&i.hash, i.range.as_ref()),
        None => (&t.hash, t.range.as_ref()),
    };
    let hash = hash_value(hash_attr, range_attr, &key_cond)?;
    let start = input.exclusive_start_key.as_ref().map(item).transpose()?;
    if let Some(s) = &start {
        super::scan::check_start_key(&t, index.as_ref(), s)?;
    }
    let limit = input
        .limit
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let forward = input.scan_index_forward.unwrap_or(true);
    let page = match &index {
        Some(i) => ctx.store.query_index(
            &t,
            i,
            &hash,
            &key_cond,
            filter.as_ref(),
            forward,
            limit,
            start.as_ref(),
        )?,
        None => ctx.store.query(
            &t,
            &hash,
            &key_cond,
            filter.as_ref(),
            forward,
            limit,
            start.as_ref(),
        )?,
    };
    Ok(super::scan::page_json(
        page,
        projection.as_deref(),
        input.select.as_deref(),
    ))
}

/// The partition key value of a key condition: `pk = :v`, alone or ANDed with one
/// condition on the sort key.
fn hash_value(
    hash_attr: &KeyAttr,
    range_attr: Option<&KeyAttr>,
    c: &Cond,
) -> Result<Av, DynamoWireError> {
    let mut parts = Vec::new();
    flatten(c, &mut parts)?;
    let is_attr = |o: &Operand, name: &str| matches!(o, Operand::Path(p) if p.len() == 1 && p[0] == PathElem::Key(name.to_owned()));
    let mut hash = None;
    for p in &parts {
        let hash_eq = match p {
            Cond::Cmp(a, CmpOp::Eq, Operand::Value(v)) if is_attr(a, &hash_attr.name) => Some(v),
            Cond::Cmp(Operand::Value(v), CmpOp::Eq, a) if is_attr(a, &hash_attr.name) => Some(v),
            _ => None,
        };
        if let Some(v) = hash_eq {
            hash = Some(v.clone());
            continue;
        }
        let Some(range) = range_attr else {
            return Err(DynamoWireError::validation(
                "Query condition missed key schema element",
            ));
        };
        let on_range = match p {
            Cond::Cmp(a, op, Operand::Value(_)) => is_attr(a, &range.name) && *op != CmpOp::Ne,
            Cond::Between(a, Operand::Value(_), Operand::Value(_)) => is_attr(a, &range.name),
            Cond::BeginsWith(a, Operand::Value(_)) => is_attr(a, &range.name),
            _ => false,
        };
        if !on_range {
            return Err(DynamoWireError::validation(
                "Invalid operator used in KeyConditionExpression: only =, <, <=, >, >=, BETWEEN and begins_with on key attributes",
            ));
        }
    }
    let hash = hash.ok_or_else(|| {
        DynamoWireError::validation(format!(
            "Query condition missed key schema element: {}",
            hash_attr.name
        ))
    })?;
    if hash.type_name() != hash_attr.ty {
        return Err(DynamoWireError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ));
    }
    Ok(hash)
}

fn flatten<'a>(c: &'a Cond, out: &mut Vec<&'a Cond>) -> Result<(), DynamoWireError> {
    match c {
        Cond::And(a, b) => {
            flatten(a, out)?;
            flatten(b, out)
        }
        Cond::Or(..) | Cond::Not(..) => Err(DynamoWireError::validation(
            "Invalid operator used in KeyConditionExpression: OR",
        )),
        other => {
            out.push(other);
            Ok(())
        }
    }
}
