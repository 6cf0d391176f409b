//! UpdateTable: enable, disable or replace the stream (each enable is a new stream with a
//! new label and ARN; a disabled stream stays readable as DISABLED), billing mode /
//! provisioned throughput changes, and GlobalSecondaryIndexUpdates (Create, Delete,
//! Update of a GSI's throughput). The answer shows `UPDATING`; DescribeTable is `ACTIVE`
//! at once.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::stream::VIEW_TYPES;
use sluice_store::dynamodb::{IndexChange, KeyAttr, TableRecord, TableSpec, TableUpdate};

use super::create_table::{
    AttributeDefinition, IndexInput, StreamSpecification, Throughput, plan_indexes,
};
use crate::dynamodb::{Ctx, DynamoWireError, table, table_description, table_name};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<Throughput>,
    pub stream_specification: Option<StreamSpecification>,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub global_secondary_index_updates: Option<Vec<IndexUpdate>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexName {
    #[serde(default)]
    pub index_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateAction {
    #[serde(default)]
    pub index_name: String,
    pub provisioned_throughput: Option<Throughput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexUpdate {
    pub create: Option<IndexInput>,
    pub delete: Option<IndexName>,
    pub update: Option<UpdateAction>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", &input.table_name);
    if let Some(b) = &input.billing_mode {
        v.one_of(
            "billingMode",
            b,
            &["PROVISIONED", "PAY_PER_REQUEST"],
            "[PROVISIONED, PAY_PER_REQUEST]",
        );
    }
    if let Some(t) = &input.provisioned_throughput {
        v.range(
            "provisionedThroughput.readCapacityUnits",
            t.read_capacity_units,
            1,
            i64::MAX,
        );
        v.range(
            "provisionedThroughput.writeCapacityUnits",
            t.write_capacity_units,
            1,
            i64::MAX,
        );
    }
    if let Some(view) = input
        .stream_specification
        .as_ref()
        .and_then(|s| s.stream_view_type.as_ref())
    {
        v.one_of(
            "streamSpecification.streamViewType",
            view,
            &VIEW_TYPES,
            "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
        );
    }
    DynamoWireError::violations(v)?;
    let invalid = |m: &str| {
        DynamoWireError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    if input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input.stream_specification.is_none()
        && input.global_secondary_index_updates.is_none()
    {
        return Err(DynamoWireError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required",
        ));
    }
    let current = table(ctx, &input.table_name)?;
    let mut update = TableUpdate {
        billing_mode: input.billing_mode.clone(),
        ..TableUpdate::default()
    };
    let mode = input
        .billing_mode
        .as_deref()
        .unwrap_or(&current.billing_mode);
    match (mode, &input.provisioned_throughput) {
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        ("PROVISIONED", None) if current.billing_mode == "PAY_PER_REQUEST" => {
            return Err(invalid(
                "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
            ));
        }
        (_, Some(t)) => {
            let (Some(r), Some(w)) = (t.read_capacity_units, t.write_capacity_units) else {
                return Err(invalid(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified",
                ));
            };
            let (r, w) = (r as u64, w as u64);
            if current.billing_mode == "PROVISIONED"
                && r == current.read_capacity
                && w == current.write_capacity
            {
                return Err(DynamoWireError::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {r}. Requested ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for the table: {w}. Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
                )));
            }
            update.throughput = Some((r, w));
        }
        _ => {}
    }
    update.stream = match input.stream_specification {
        Some(StreamSpecification {
            stream_enabled: true,
            stream_view_type: Some(view),
        }) => Some(Some(view)),
        Some(StreamSpecification {
            stream_enabled: true,
            stream_view_type: None,
        }) => {
            return Err(invalid(
                "If stream is being enabled then UpdateViewType is required",
            ));
        }
        Some(StreamSpecification {
            stream_enabled: false,
            stream_view_type: Some(_),
        }) => {
            return Err(invalid(
                "If stream is being disabled, then UpdateViewType must not be specified",
            ));
        }
        Some(StreamSpecification {
            stream_enabled: false,
            stream_view_type: None,
        }) => Some(None),
        None => None,
    };
    if let Some(list) = input.global_secondary_index_updates {
        if update.stream.is_some() {
            return Err(invalid(
                "You cannot create or delete index while changing stream status",
            ));
        }
        let mode = update
            .billing_mode
            .clone()
            .unwrap_or_else(|| current.billing_mode.clone());
        update.indexes = plan_index_updates(
            &current,
            &mode,
            input.attribute_definitions.unwrap_or_default(),
            list,
        )?;
    }
    let t = ctx
        .store
        .update_table(&input.table_name, &update, ctx.now_ms)?;
    Ok(json!({"TableDescription": table_description(ctx, &t, "UPDATING")}))
}

/// GlobalSecondaryIndexUpdates into index changes, with AWS's checks of the request; the
/// store checks them against the table (exists, is global).
fn plan_index_updates(
    current: &TableRecord,
    billing_mode: &str,
    definitions: Vec<AttributeDefinition>,
    list: Vec<IndexUpdate>,
) -> Result<Vec<IndexChange>, DynamoWireError> {
    let invalid = |m: String| {
        DynamoWireError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    if list.is_empty() {
        return Err(invalid(
            "List of GlobalSecondaryIndexUpdates is empty".into(),
        ));
    }
    let requested: Vec<KeyAttr> = definitions
        .into_iter()
        .map(|a| KeyAttr {
            name: a.attribute_name,
            ty: a.attribute_type,
        })
        .collect();
    // The request's definitions, then the table's for attributes it does not redefine.
    let mut defined = requested.clone();
    for a in &current.attributes {
        if !defined.iter().any(|d| d.name == a.name) {
            defined.push(a.clone());
        }
    }
    let spec = TableSpec {
        name: current.name.clone(),
        hash: current.hash.clone(),
        range: current.range.clone(),
        attributes: defined.clone(),
        billing_mode: billing_mode.to_owned(),
        read_capacity: current.read_capacity,
        write_capacity: current.write_capacity,
        stream_view_type: None,
        stream_label: None,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(list.len());
    for u in list {
        let name = match (&u.create, &u.delete, &u.update) {
            (Some(c), None, None) => c.index_name.clone(),
            (None, Some(d), None) => d.index_name.clone(),
            (None, None, Some(up)) => up.index_name.clone(),
            (None, None, None) => {
                return Err(invalid(
                    "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null".into(),
                ));
            }
            _ => {
                return Err(invalid(
                    "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object".into(),
                ));
            }
        };
        if seen.contains(&name) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
        seen.push(name.clone());
        if let Some(c) = u.create {
            let mut created = plan_indexes(&spec, &defined, Some(vec![c]), None, false)?;
            let Some(index) = created.pop() else {
                continue;
            };
            let attrs = std::iter::once(&index.hash)
                .chain(index.range.as_ref())
                .cloned()
                .collect();
            out.push(IndexChange::Create(index, attrs));
        } else if u.delete.is_some() {
            out.push(IndexChange::Delete(name));
        } else if let Some(up) = u.update {
            if billing_mode == "PAY_PER_REQUEST" {
                return Err(invalid(format!(
                    "The only Updates for index: {name} when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
                )));
            }
            match up
                .provisioned_throughput
                .and_then(|t| t.read_capacity_units.zip(t.write_capacity_units))
            {
                Some((r, w)) if r >= 1 && w >= 1 => {
                    out.push(IndexChange::Throughput(name, r as u64, w as u64));
                }
                _ => {
                    return Err(invalid(format!(
                        "Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: {name}"
                    )));
                }
            }
        }
    }
    Ok(out)
}
