//! TransactWriteItems: up to 100 Put / Update / Delete / ConditionCheck actions across
//! tables, all or nothing in one transaction. A failed condition (or an update that cannot
//! apply) cancels the whole transaction with a TransactionCanceledException carrying one
//! CancellationReason per action, in request order. A ClientRequestToken makes the call
//! idempotent for 10 minutes (recorded in the same transaction as the writes).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_store::dynamodb::expr;
use sluice_store::dynamodb::{DynamoError, WriteKind, WriteOp};

use super::batch_write_item::key_text;
use super::{check_update_keys, condition};
use crate::dynamodb::{Ctx, DynamoWireError, item, substitutions, table};

/// The most actions one transaction may carry.
pub const MAX_ACTIONS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    #[serde(default)]
    pub table_name: String,
    pub item: Option<Value>,
    pub key: Option<Value>,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Value>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    pub condition_check: Option<Action>,
    pub put: Option<Action>,
    pub delete: Option<Action>,
    pub update: Option<Action>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub transact_items: Option<Vec<TransactWriteItem>>,
    pub client_request_token: Option<String>,
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
    if items.len() > MAX_ACTIONS {
        return Err(DynamoWireError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_ACTIONS}"
        )));
    }
    if let Some(t) = &input.client_request_token
        && (t.is_empty() || t.chars().count() > 36)
    {
        return Err(DynamoWireError::validation(format!(
            "1 validation error detected: Value '{t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length {}",
            if t.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 36"
            }
        )));
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut want_old = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, ti) in items.into_iter().enumerate() {
        let (op, old) = plan(ctx, i + 1, ti)?;
        if !seen.insert((op.table.clone(), key_text(&op.key))) {
            return Err(DynamoWireError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        ops.push(op);
        want_old.push(old);
    }
    let token = input.client_request_token.as_deref();
    match ctx.store.write_transaction_once(&ops, token, ctx.now_ms) {
        Ok(()) => Ok(json!({})),
        Err(DynamoError::TransactionCanceled(reasons)) => {
            Err(DynamoWireError::canceled(&reasons, |i| {
                want_old.get(i).copied().unwrap_or(false)
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// One action as a write; the flag says whether a failed condition returns the old item.
fn plan(ctx: &Ctx, n: usize, ti: TransactWriteItem) -> Result<(WriteOp, bool), DynamoWireError> {
    let (kind, a) = match ti {
        TransactWriteItem {
            condition_check: Some(a),
            put: None,
            delete: None,
            update: None,
        } => ("conditionCheck", a),
        TransactWriteItem {
            condition_check: None,
            put: Some(a),
            delete: None,
            update: None,
        } => ("put", a),
        TransactWriteItem {
            condition_check: None,
            put: None,
            delete: Some(a),
            update: None,
        } => ("delete", a),
        TransactWriteItem {
            condition_check: None,
            put: None,
            delete: None,
            update: Some(a),
        } => ("update", a),
        _ => {
            return Err(DynamoWireError::validation(
                "TransactItems can only contain one of Check, Put, Update or Delete",
            ));
        }
    };
    let required = |member: &str| {
        DynamoWireError::validation(format!(
            "1 validation error detected: Value null at 'transactItems.{n}.member.{kind}.{member}' failed to satisfy constraint: Member must not be null"
        ))
    };
    if kind == "conditionCheck" && a.condition_expression.is_none() {
        return Err(required("conditionExpression"));
    }
    if kind == "update" && a.update_expression.is_none() {
        return Err(required("updateExpression"));
    }
    let old_on_fail = match a.return_values_on_condition_check_failure.as_deref() {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(other) => {
            return Err(DynamoWireError::validation(format!(
                "1 validation error detected: Value '{other}' at 'transactItems.{n}.member.{kind}.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
            )));
        }
    };
    let t = table(ctx, &a.table_name)?;
    let mut subs = substitutions(
        a.expression_attribute_names,
        a.expression_attribute_values.as_ref(),
    )?;
    let (key, write) = if kind == "put" {
        let Some(it) = a.item.as_ref() else {
            return Err(required("item"));
        };
        let it = item(it)?;
        t.check_item(&it)?;
        (t.key_of(&it), WriteKind::Put(it))
    } else {
        let Some(k) = a.key.as_ref() else {
            return Err(required("key"));
        };
        let key = item(k)?;
        t.check_key(&key)?;
        let write = match kind {
            "delete" => WriteKind::Delete,
            "conditionCheck" => WriteKind::Check,
            _ => {
                let actions = expr::parse_update(
                    a.update_expression.as_deref().unwrap_or_default(),
                    &mut subs,
                )
                .map_err(DynamoWireError::validation)?;
                check_update_keys(&t, &actions)?;
                WriteKind::Update(actions)
            }
        };
        (key, write)
    };
    let cond = condition(a.condition_expression.as_deref(), &mut subs)?;
    subs.check_unused().map_err(DynamoWireError::validation)?;
    Ok((
        WriteOp {
            table: t.name,
            key,
            kind: write,
            condition: cond,
        },
        old_on_fail,
    ))
}
