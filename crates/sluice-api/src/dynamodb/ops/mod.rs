//! One file per DynamoDB and DynamoDB Streams operation.

mod batch_get_item;
mod batch_write_item;
mod create_table;
mod delete_item;
mod delete_table;
mod describe_stream;
mod describe_table;
mod describe_time_to_live;
mod get_item;
mod get_records;
mod get_shard_iterator;
mod list_streams;
mod list_tables;
mod put_item;
mod query;
mod scan;
mod transact_get_items;
mod transact_write_items;
mod update_item;
mod update_table;
mod update_time_to_live;

use serde_json::Value;

use super::{Ctx, DynamoWireError};

fn unknown(op: &str) -> DynamoWireError {
    DynamoWireError::new(
        "UnknownOperationException",
        format!("Operation {op} is not supported by this Sluice yet."),
    )
}

/// Runs DynamoDB operation `op`.
pub fn dispatch(ctx: &Ctx, op: &str, body: &[u8]) -> Result<Value, DynamoWireError> {
    match op {
        "CreateTable" => create_table::handle(ctx, super::input(body)?),
        "DescribeTable" => describe_table::handle(ctx, super::input(body)?),
        "ListTables" => list_tables::handle(ctx, super::input(body)?),
        "DeleteTable" => delete_table::handle(ctx, super::input(body)?),
        "PutItem" => put_item::handle(ctx, super::input(body)?),
        "GetItem" => get_item::handle(ctx, super::input(body)?),
        "DeleteItem" => delete_item::handle(ctx, super::input(body)?),
        "UpdateItem" => update_item::handle(ctx, super::input(body)?),
        "Query" => query::handle(ctx, super::input(body)?),
        "Scan" => scan::handle(ctx, super::input(body)?),
        "BatchWriteItem" => batch_write_item::handle(ctx, super::input(body)?),
        "BatchGetItem" => batch_get_item::handle(ctx, super::input(body)?),
        "TransactWriteItems" => transact_write_items::handle(ctx, super::input(body)?),
        "TransactGetItems" => transact_get_items::handle(ctx, super::input(body)?),
        "UpdateTable" => update_table::handle(ctx, super::input(body)?),
        "UpdateTimeToLive" => update_time_to_live::handle(ctx, super::input(body)?),
        "DescribeTimeToLive" => describe_time_to_live::handle(ctx, super::input(body)?),
        other => Err(unknown(other)),
    }
}

/// Runs DynamoDB Streams operation `op`.
pub fn dispatch_streams(ctx: &Ctx, op: &str, body: &[u8]) -> Result<Value, DynamoWireError> {
    match op {
        "ListStreams" => list_streams::handle(ctx, super::input(body)?),
        "DescribeStream" => describe_stream::handle(ctx, super::input(body)?),
        "GetShardIterator" => get_shard_iterator::handle(ctx, super::input(body)?),
        "GetRecords" => get_records::handle(ctx, super::input(body)?),
        other => Err(unknown(other)),
    }
}

/// A ConditionExpression, parsed with the request's substitutions.
fn condition(
    text: Option<&str>,
    subs: &mut sluice_store::dynamodb::expr::Substitutions,
) -> Result<Option<sluice_store::dynamodb::expr::Cond>, DynamoWireError> {
    text.map(|t| sluice_store::dynamodb::expr::parse_condition(t, "Condition", subs))
        .transpose()
        .map_err(DynamoWireError::validation)
}

/// The failed-condition error, with the old item when the request asked for it.
fn condition_failed(
    e: sluice_store::dynamodb::DynamoError,
    on_failure: Option<&str>,
) -> DynamoWireError {
    let item = match (&e, on_failure) {
        (
            sluice_store::dynamodb::DynamoError::ConditionalCheckFailed(Some(old)),
            Some("ALL_OLD"),
        ) => Some(sluice_store::dynamodb::value::item_to_json(old)),
        _ => None,
    };
    let w = DynamoWireError::from(e);
    match item {
        Some(i) => w.with_member("Item", i),
        None => w,
    }
}

/// Refuses an update of a key attribute, as UpdateItem does.
fn check_update_keys(
    t: &sluice_store::dynamodb::TableRecord,
    actions: &[sluice_store::dynamodb::expr::UpdateAction],
) -> Result<(), DynamoWireError> {
    use sluice_store::dynamodb::expr::{UpdateAction, top_name};
    for a in actions {
        let path = match a {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        };
        if let Some(name) = top_name(path)
            && t.is_key_attribute(name)
        {
            return Err(DynamoWireError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}
