//! CreateTable: key schema, attribute definitions, billing mode and stream specification.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::stream::VIEW_TYPES;
use sluice_store::dynamodb::{KeyAttr, TableSpec};

use crate::dynamodb::{Ctx, DynamoWireError, table_description, table_name};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Throughput {
    pub read_capacity_units: Option<i64>,
    pub write_capacity_units: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    pub stream_enabled: bool,
    pub stream_view_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    #[serde(default)]
    pub attribute_definitions: Vec<AttributeDefinition>,
    #[serde(default)]
    pub key_schema: Vec<KeySchemaElement>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<Throughput>,
    pub stream_specification: Option<StreamSpecification>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let spec = plan(input)?;
    let t = ctx.store.create_table(spec, ctx.now_ms)?;
    Ok(json!({"TableDescription": table_description(ctx, &t, "ACTIVE")}))
}

/// Validates the request into a table spec (also used for config-declared tables).
pub fn plan(input: Input) -> Result<TableSpec, DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", &input.table_name);
    if input.key_schema.is_empty() || input.key_schema.len() > 2 {
        v.push(format!(
            "Value '{}' at 'keySchema' failed to satisfy constraint: Member must have length {}",
            input.key_schema.len(),
            if input.key_schema.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 2"
            }
        ));
    }
    for (i, a) in input.attribute_definitions.iter().enumerate() {
        v.one_of(
            &format!("attributeDefinitions.{}.member.attributeType", i + 1),
            &a.attribute_type,
            &["B", "N", "S"],
            "[B, N, S]",
        );
    }
    for (i, k) in input.key_schema.iter().enumerate() {
        v.one_of(
            &format!("keySchema.{}.member.keyType", i + 1),
            &k.key_type,
            &["HASH", "RANGE"],
            "[HASH, RANGE]",
        );
    }
    if let Some(b) = &input.billing_mode {
        v.one_of(
            "billingMode",
            b,
            &["PROVISIONED", "PAY_PER_REQUEST"],
            "[PROVISIONED, PAY_PER_REQUEST]",
        );
    }
    if let Some(s) = input
        .stream_specification
        .as_ref()
        .and_then(|s| s.stream_view_type.as_ref())
    {
        v.one_of(
            "streamSpecification.streamViewType",
            s,
            &VIEW_TYPES,
            "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
        );
    }
    DynamoWireError::violations(v)?;
    let invalid = |m: &str| {
        DynamoWireError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    let attr = |name: &str| -> Result<KeyAttr, DynamoWireError> {
        input
            .attribute_definitions
            .iter()
            .find(|a| a.attribute_name == name)
            .map(|a| KeyAttr {
                name: name.to_owned(),
                ty: a.attribute_type.clone(),
            })
            .ok_or_else(|| invalid("Some index key attribute have no definition"))
    };
    let hash = match input.key_schema.first() {
        Some(k) if k.key_type == "HASH" => attr(&k.attribute_name)?,
        _ => {
            return Err(invalid(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
    };
    let range = match input.key_schema.get(1) {
        Some(k) if k.key_type == "RANGE" => {
            if k.attribute_name == hash.name {
                return Err(invalid(
                    "Both the Hash Key and the Range Key element in the KeySchema have the same name",
                ));
            }
            Some(attr(&k.attribute_name)?)
        }
        Some(_) => {
            return Err(invalid(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        None => None,
    };
    let used = 1 + usize::from(range.is_some());
    if input.attribute_definitions.len() != used {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let billing_mode = input.billing_mode.unwrap_or_else(|| "PROVISIONED".into());
    let (read, write) = match (&billing_mode[..], &input.provisioned_throughput) {
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        ("PAY_PER_REQUEST", None) => (0, 0),
        (_, Some(t)) => match (t.read_capacity_units, t.write_capacity_units) {
            (Some(r), Some(w)) if r >= 1 && w >= 1 => (r as u64, w as u64),
            _ => {
                return Err(DynamoWireError::validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified and greater than or equal to 1",
                ));
            }
        },
        (_, None) => {
            return Err(DynamoWireError::validation(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
    };
    let stream_view_type = match input.stream_specification {
        Some(StreamSpecification {
            stream_enabled: true,
            stream_view_type: Some(t),
        }) => Some(t),
        Some(StreamSpecification {
            stream_enabled: true,
            stream_view_type: None,
        }) => {
            return Err(DynamoWireError::validation(
                "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true",
            ));
        }
        Some(StreamSpecification {
            stream_enabled: false,
            stream_view_type: Some(_),
        }) => {
            return Err(DynamoWireError::validation(
                "One or more parameter values were invalid: StreamViewType can not be specified when StreamEnabled is false",
            ));
        }
        _ => None,
    };
    Ok(TableSpec {
        name: input.table_name,
        hash,
        range,
        attributes: input
            .attribute_definitions
            .into_iter()
            .map(|a| KeyAttr {
                name: a.attribute_name,
                ty: a.attribute_type,
            })
            .collect(),
        billing_mode,
        read_capacity: read,
        write_capacity: write,
        stream_view_type,
        stream_label: None,
    })
}
