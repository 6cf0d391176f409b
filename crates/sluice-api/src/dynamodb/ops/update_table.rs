//! UpdateTable: enable, disable or replace the stream (each enable is a new stream with a
//! new label and ARN; a disabled stream stays readable as DISABLED), and billing mode /
//! provisioned throughput changes. The answer shows `UPDATING`; DescribeTable is `ACTIVE`
//! at once.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::TableUpdate;
use sluice_store::dynamodb::stream::VIEW_TYPES;

use super::create_table::{StreamSpecification, Throughput};
use crate::dynamodb::{Ctx, DynamoWireError, table, table_description, table_name};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<Throughput>,
    pub stream_specification: Option<StreamSpecification>,
    pub global_secondary_index_updates: Option<Vec<Value>>,
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
    if input.global_secondary_index_updates.is_some() {
        return Err(invalid(
            "GlobalSecondaryIndexUpdates are not supported by this Sluice yet",
        ));
    }
    if input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input.stream_specification.is_none()
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
    let t = ctx
        .store
        .update_table(&input.table_name, &update, ctx.now_ms)?;
    Ok(json!({"TableDescription": table_description(ctx, &t, "UPDATING")}))
}
