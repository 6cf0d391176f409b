//! CreateTable: key schema, attribute definitions, billing mode, stream specification, and
//! global / local secondary indexes.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::stream::VIEW_TYPES;
use sluice_store::dynamodb::{IndexDef, KeyAttr, Projection, TableSpec};

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
pub struct ProjectionInput {
    pub projection_type: Option<String>,
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexInput {
    #[serde(default)]
    pub index_name: String,
    #[serde(default)]
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Option<ProjectionInput>,
    pub provisioned_throughput: Option<Throughput>,
}

/// Most GSIs and LSIs per table.
const MAX_GSIS: usize = 20;
const MAX_LSIS: usize = 5;

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
    pub global_secondary_indexes: Option<Vec<IndexInput>>,
    pub local_secondary_indexes: Option<Vec<IndexInput>>,
}

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, DynamoWireError> {
    let gsis = input.global_secondary_indexes.take();
    let lsis = input.local_secondary_indexes.take();
    let mut v = Violations::default();
    for (list, member) in [
        (&gsis, "globalSecondaryIndexes"),
        (&lsis, "localSecondaryIndexes"),
    ] {
        for (i, index) in list.iter().flatten().enumerate() {
            let m = format!("{member}.{}.member", i + 1);
            table_name(&mut v, &format!("{m}.indexName"), &index.index_name);
            if let Some(t) = index
                .projection
                .as_ref()
                .and_then(|p| p.projection_type.as_ref())
            {
                v.one_of(
                    &format!("{m}.projection.projectionType"),
                    t,
                    &["ALL", "KEYS_ONLY", "INCLUDE"],
                    "[ALL, KEYS_ONLY, INCLUDE]",
                );
            }
        }
    }
    DynamoWireError::violations(v)?;
    let defined: Vec<KeyAttr> = input
        .attribute_definitions
        .iter()
        .map(|a| KeyAttr {
            name: a.attribute_name.clone(),
            ty: a.attribute_type.clone(),
        })
        .collect();
    let has_indexes = gsis.is_some() || lsis.is_some();
    let spec = plan(input, has_indexes)?;
    let indexes = plan_indexes(&spec, &defined, gsis, lsis, true)?;
    let t = ctx
        .store
        .create_table_with_indexes(spec, indexes, ctx.now_ms)?;
    Ok(json!({"TableDescription": table_description(ctx, &t, "ACTIVE")}))
}

/// Checks the secondary indexes against the table and the attribute definitions.
/// `check_unused`: CreateTable refuses definitions no key uses; UpdateTable (which adds
/// indexes to a table with other definitions) does not.
pub(super) fn plan_indexes(
    spec: &TableSpec,
    defined: &[KeyAttr],
    gsis: Option<Vec<IndexInput>>,
    lsis: Option<Vec<IndexInput>>,
    check_unused: bool,
) -> Result<Vec<IndexDef>, DynamoWireError> {
    let invalid = |m: String| {
        DynamoWireError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    for (list, what, max) in [
        (&gsis, "GlobalSecondaryIndexes", MAX_GSIS),
        (&lsis, "LocalSecondaryIndexes", MAX_LSIS),
    ] {
        match list {
            Some(l) if l.is_empty() => return Err(invalid(format!("List of {what} is empty"))),
            Some(l) if l.len() > max => {
                return Err(invalid(if what.starts_with('G') {
                    format!("GlobalSecondaryIndex count exceeds the per-table limit of {max}")
                } else {
                    format!("Number of LocalSecondaryIndexes exceeds per-table limit of {max}")
                }));
            }
            _ => {}
        }
    }
    if lsis.is_some() && spec.range.is_none() {
        return Err(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex".into(),
        ));
    }
    let mut out: Vec<IndexDef> = Vec::new();
    let mut used: Vec<String> = std::iter::once(spec.hash.name.clone())
        .chain(spec.range.iter().map(|r| r.name.clone()))
        .collect();
    let mut undefined: Vec<String> = Vec::new();
    let all = gsis
        .into_iter()
        .flatten()
        .map(|i| (true, i))
        .chain(lsis.into_iter().flatten().map(|i| (false, i)));
    for (global, index) in all {
        let name = index.index_name.clone();
        if out.iter().any(|o| o.name == name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        let mut attr = |n: &str| -> KeyAttr {
            if !used.iter().any(|u| u == n) {
                used.push(n.to_owned());
            }
            match defined.iter().find(|d| d.name == n) {
                Some(d) => d.clone(),
                None => {
                    if !undefined.iter().any(|u| u == n) {
                        undefined.push(n.to_owned());
                    }
                    KeyAttr {
                        name: n.to_owned(),
                        ty: String::new(),
                    }
                }
            }
        };
        let hash = match index.key_schema.first() {
            Some(k) if k.key_type == "HASH" && index.key_schema.len() <= 2 => {
                attr(&k.attribute_name)
            }
            _ => {
                return Err(invalid(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type".into(),
                ));
            }
        };
        let range = match index.key_schema.get(1) {
            Some(k) if k.key_type == "RANGE" => {
                if k.attribute_name == hash.name {
                    return Err(invalid(
                        "Both the Hash Key and the Range Key element in the KeySchema have the same name".into(),
                    ));
                }
                Some(attr(&k.attribute_name))
            }
            Some(_) => {
                return Err(invalid(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type".into(),
                ));
            }
            None => None,
        };
        if !global {
            if hash.name != spec.hash.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                    hash.name, spec.hash.name
                )));
            }
            if range.is_none() {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            }
        }
        let projection = match index.projection {
            None => return Err(invalid("Unknown ProjectionType: null".into())),
            Some(p) => {
                let kind = match p.projection_type {
                    Some(k) => k,
                    None => return Err(invalid("Unknown ProjectionType: null".into())),
                };
                match (kind.as_str(), &p.non_key_attributes) {
                    ("INCLUDE", None) => {
                        return Err(invalid(
                            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
                                .into(),
                        ));
                    }
                    ("ALL" | "KEYS_ONLY", Some(_)) => {
                        return Err(invalid(format!(
                            "ProjectionType is {kind}, but NonKeyAttributes is specified"
                        )));
                    }
                    _ => {}
                }
                let non_key = p.non_key_attributes.unwrap_or_default();
                let mut seen = std::collections::HashSet::new();
                if let Some(d) = non_key.iter().find(|n| !seen.insert(n.as_str())) {
                    return Err(invalid(format!(
                        "Duplicate element in NonKeyAttributes: {d}"
                    )));
                }
                Projection { kind, non_key }
            }
        };
        let (read, write) = match (
            &spec.billing_mode[..],
            global,
            &index.provisioned_throughput,
        ) {
            (_, false, _) => (spec.read_capacity, spec.write_capacity),
            ("PAY_PER_REQUEST", true, Some(_)) => {
                return Err(invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                )));
            }
            ("PAY_PER_REQUEST", true, None) => (0, 0),
            (_, true, None) => {
                return Err(invalid(format!(
                    "ProvisionedThroughput is not specified for index: {name}"
                )));
            }
            (_, true, Some(t)) => match (t.read_capacity_units, t.write_capacity_units) {
                (Some(r), Some(w)) if r >= 1 && w >= 1 => (r as u64, w as u64),
                _ => {
                    return Err(invalid(
                        "ReadCapacityUnits and WriteCapacityUnits must both be specified and greater than or equal to 1".into(),
                    ));
                }
            },
        };
        out.push(IndexDef {
            name,
            global,
            hash,
            range,
            projection,
            read_capacity: read,
            write_capacity: write,
        });
    }
    let names = |v: &[String]| v.join(", ");
    let defined_names: Vec<String> = defined.iter().map(|d| d.name.clone()).collect();
    if !undefined.is_empty() {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            names(&undefined),
            names(&defined_names)
        )));
    }
    if check_unused && defined.iter().any(|d| !used.contains(&d.name)) {
        return Err(invalid(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
            names(&defined_names),
            names(&used)
        )));
    }
    Ok(out)
}

/// Validates the request (its indexes taken out) into a table spec.
fn plan(input: Input, has_indexes: bool) -> Result<TableSpec, DynamoWireError> {
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
    // With indexes, the attribute definitions are checked against every key they use.
    if !has_indexes && input.attribute_definitions.len() != used {
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
