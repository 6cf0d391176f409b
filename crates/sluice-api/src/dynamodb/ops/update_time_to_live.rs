//! UpdateTimeToLive: enables TTL on an attribute (items whose Number value there, in epoch
//! seconds, is past are deleted by the background expirer), or disables it.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use crate::dynamodb::{Ctx, DynamoWireError, table_name};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Specification {
    pub enabled: Option<bool>,
    pub attribute_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    #[serde(default)]
    pub table_name: String,
    pub time_to_live_specification: Option<Specification>,
}

pub fn handle(ctx: &Ctx, input: Input) -> Result<Value, DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", &input.table_name);
    match &input.time_to_live_specification {
        None => v.not_null("timeToLiveSpecification"),
        Some(spec) => {
            match &spec.attribute_name {
                Some(a) => {
                    v.length("timeToLiveSpecification.attributeName", a, 1, 255);
                }
                None => v.not_null("timeToLiveSpecification.attributeName"),
            }
            if spec.enabled.is_none() {
                v.not_null("timeToLiveSpecification.enabled");
            }
        }
    }
    DynamoWireError::violations(v)?;
    let spec = input
        .time_to_live_specification
        .ok_or_else(|| DynamoWireError::validation("TimeToLiveSpecification is required"))?;
    let (enabled, attribute) = (
        spec.enabled.unwrap_or_default(),
        spec.attribute_name.unwrap_or_default(),
    );
    ctx.store
        .update_ttl(&input.table_name, enabled, &attribute)?;
    Ok(json!({"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}))
}
