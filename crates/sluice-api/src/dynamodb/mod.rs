//! The DynamoDB API (`DynamoDB_20120810.<Op>`) and the DynamoDB Streams API
//! (`DynamoDBStreams_20120810.<Op>`), both JSON 1.0, on the embedded
//! [`sluice_store::dynamodb::DynamoStore`]. One file per operation under [`ops`].
//!
//! Inputs are parsed into the operation's input struct (a body that does not fit is a
//! SerializationException), checked against the model (ValidationException with AWS's
//! texts), then run on a blocking thread. Errors are
//! `{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message": "..."}`.

pub mod ops;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_store::dynamodb::expr::Substitutions;
use sluice_store::dynamodb::value::{Av, Item, item_from_json, item_to_json};
use sluice_store::dynamodb::{CancelReason, DynamoError, DynamoStore, TableRecord};

use crate::AppState;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";

/// A DynamoDB (or DynamoDB Streams) error on the wire.
#[derive(Debug)]
pub struct DynamoWireError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Members beside `__type` and `message`: the `Item` of a failed condition (when
    /// `ReturnValuesOnConditionCheckFailure` asked), a transaction's `CancellationReasons`.
    /// Boxed: errors travel in every `Result` of the handlers.
    pub extra: Option<Box<serde_json::Map<String, Value>>>,
}

impl DynamoWireError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            extra: None,
        }
    }

    /// Adds member `name` to the error body.
    pub fn with_member(mut self, name: &str, value: Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(name.to_owned(), value);
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    pub fn violations(v: Violations) -> Result<(), Self> {
        v.finish()
            .map_err(|list| Self::validation(Violations::message(&list)))
    }

    pub fn not_found() -> Self {
        Self::new("ResourceNotFoundException", "Requested resource not found")
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "DynamoDB storage failure.");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "InternalServerError",
            message: "Internal server error".into(),
            extra: None,
        }
    }
}

impl DynamoWireError {
    /// TransactionCanceledException with its CancellationReasons; `with_item(i)` says
    /// whether action `i` asked for the old item (`ReturnValuesOnConditionCheckFailure`).
    pub fn canceled(reasons: &[CancelReason], with_item: impl Fn(usize) -> bool) -> Self {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code).collect();
        let list: Vec<Value> = reasons
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut m = serde_json::Map::new();
                if let (Some(item), true) = (&r.item, with_item(i)) {
                    m.insert("Item".into(), item_to_json(item));
                }
                m.insert("Code".into(), json!(r.code));
                if let Some(msg) = &r.message {
                    m.insert("Message".into(), json!(msg));
                }
                Value::Object(m)
            })
            .collect();
        let e = Self::new(
            "TransactionCanceledException",
            format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        );
        e.with_member("CancellationReasons", Value::Array(list))
    }
}

impl From<DynamoError> for DynamoWireError {
    fn from(e: DynamoError) -> Self {
        match e {
            DynamoError::Validation(m) => Self::validation(m),
            DynamoError::ResourceNotFound(m) => Self::new("ResourceNotFoundException", m),
            DynamoError::ResourceInUse(m) => Self::new("ResourceInUseException", m),
            DynamoError::ConditionalCheckFailed(_) => Self::new(
                "ConditionalCheckFailedException",
                "The conditional request failed",
            ),
            DynamoError::TransactionCanceled(reasons) => Self::canceled(&reasons, |_| false),
            e @ DynamoError::IdempotentParameterMismatch => {
                Self::new("IdempotentParameterMismatchException", e.to_string())
            }
            DynamoError::Store(s) => Self::internal(s),
        }
    }
}

impl IntoResponse for DynamoWireError {
    fn into_response(self) -> Response {
        let mut body =
            json!({"__type": format!("{NAMESPACE}#{}", self.code), "message": self.message});
        if let (Some(extra), Value::Object(map)) = (self.extra, &mut body) {
            map.extend(*extra);
        }
        reply(self.status, &body)
    }
}

fn reply(status: StatusCode, body: &Value) -> Response {
    // No `x-amz-crc32`: clients verify it only when present.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    resp
}

/// What a handler gets.
pub struct Ctx {
    pub store: DynamoStore,
    pub now_ms: u64,
}

/// Parses a request body into an operation's input.
pub fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoWireError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| DynamoWireError::new("SerializationException", e.to_string()))
}

/// Serves one DynamoDB request.
pub async fn handle(app: AppState, op: &str, body: Bytes) -> Response {
    let ctx = Ctx {
        store: app.dynamodb.clone(),
        now_ms: crate::lambda::now_ms(),
    };
    let op = op.to_owned();
    let outcome = tokio::task::spawn_blocking(move || ops::dispatch(&ctx, &op, &body)).await;
    respond(outcome)
}

/// Serves one DynamoDB Streams request.
pub async fn handle_streams(app: AppState, op: &str, body: Bytes) -> Response {
    let ctx = Ctx {
        store: app.dynamodb.clone(),
        now_ms: crate::lambda::now_ms(),
    };
    let op = op.to_owned();
    let outcome =
        tokio::task::spawn_blocking(move || ops::dispatch_streams(&ctx, &op, &body)).await;
    respond(outcome)
}

fn respond(outcome: Result<Result<Value, DynamoWireError>, tokio::task::JoinError>) -> Response {
    match outcome {
        Ok(Ok(v)) => reply(StatusCode::OK, &v),
        Ok(Err(e)) => e.into_response(),
        Err(e) => DynamoWireError::internal(e).into_response(),
    }
}

/// `TableName` constraints of the model.
pub fn table_name(v: &mut Violations, member: &str, name: &str) {
    if v.length(member, name, 3, 255) {
        let ok = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        v.pattern(member, name, ok, "[a-zA-Z0-9_.-]+");
    }
}

/// The table, after checking its name.
pub fn table(ctx: &Ctx, name: &str) -> Result<TableRecord, DynamoWireError> {
    let mut v = Violations::default();
    table_name(&mut v, "tableName", name);
    DynamoWireError::violations(v)?;
    Ok(ctx.store.table(name)?)
}

/// An item or key map from DynamoDB JSON.
pub fn item(v: &Value) -> Result<Item, DynamoWireError> {
    item_from_json(v).map_err(DynamoWireError::validation)
}

/// The request's ExpressionAttributeNames / Values.
pub fn substitutions(
    names: Option<BTreeMap<String, String>>,
    values: Option<&Value>,
) -> Result<Substitutions, DynamoWireError> {
    if names.as_ref().is_some_and(BTreeMap::is_empty) {
        return Err(DynamoWireError::validation(
            "ExpressionAttributeNames must not be empty",
        ));
    }
    let values: BTreeMap<String, Av> = match values {
        Some(v) => {
            let it = item(v)?;
            if it.is_empty() {
                return Err(DynamoWireError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            it.into_iter().collect()
        }
        None => BTreeMap::new(),
    };
    Ok(Substitutions::new(names.unwrap_or_default(), values))
}

/// `ReturnValues` of a write: the old or new item, or nothing.
pub fn returned(
    mode: Option<&str>,
    old: Option<&Item>,
    new: Option<&Item>,
    allowed: &[&str],
) -> Result<Option<Value>, DynamoWireError> {
    let mode = mode.unwrap_or("NONE");
    if !allowed.contains(&mode) {
        return Err(DynamoWireError::validation(format!(
            "Return values set to invalid value: {mode}"
        )));
    }
    Ok(match mode {
        "ALL_OLD" => old.map(sluice_store::dynamodb::value::item_to_json),
        "ALL_NEW" => new.map(sluice_store::dynamodb::value::item_to_json),
        "UPDATED_OLD" | "UPDATED_NEW" => {
            let (from, other) = if mode == "UPDATED_OLD" {
                (old, new)
            } else {
                (new, old)
            };
            from.map(|f| {
                let changed: Item = f
                    .iter()
                    .filter(|(k, v)| other.and_then(|o| o.get(*k)) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                sluice_store::dynamodb::value::item_to_json(&changed)
            })
        }
        _ => None,
    })
}

/// Epoch seconds as DynamoDB writes timestamps.
pub fn epoch(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// The TableDescription of DescribeTable / CreateTable / DeleteTable.
pub fn table_description(ctx: &Ctx, t: &TableRecord, status: &str) -> Value {
    let (count, size) = ctx.store.table_stats(&t.name).unwrap_or((0, 0));
    let mut key_schema = vec![json!({"AttributeName": t.hash.name, "KeyType": "HASH"})];
    if let Some(r) = &t.range {
        key_schema.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
    }
    let mut d = json!({
        "TableName": t.name,
        "TableStatus": status,
        "TableArn": t.arn(ctx.store.region(), ctx.store.account()),
        "TableId": t.id,
        "KeySchema": key_schema,
        "AttributeDefinitions": t.attributes.iter()
            .map(|a| json!({"AttributeName": a.name, "AttributeType": a.ty}))
            .collect::<Vec<_>>(),
        "CreationDateTime": epoch(t.created_ms),
        "ItemCount": count,
        "TableSizeBytes": size,
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": t.read_capacity,
            "WriteCapacityUnits": t.write_capacity,
        },
        "BillingModeSummary": {"BillingMode": t.billing_mode},
        "DeletionProtectionEnabled": false,
    });
    let key_schema_of = |hash: &str, range: Option<&str>| {
        let mut k = vec![json!({"AttributeName": hash, "KeyType": "HASH"})];
        if let Some(r) = range {
            k.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
        }
        k
    };
    let (mut gsis, mut lsis) = (Vec::new(), Vec::new());
    for index in &t.indexes {
        let (count, size) = ctx.store.index_stats(t, index).unwrap_or((0, 0));
        let mut projection = json!({"ProjectionType": index.projection.kind});
        if !index.projection.non_key.is_empty() {
            projection["NonKeyAttributes"] = json!(index.projection.non_key);
        }
        let mut desc = json!({
            "IndexName": index.name,
            "KeySchema": key_schema_of(&index.hash.name, index.range.as_ref().map(|r| r.name.as_str())),
            "Projection": projection,
            "IndexSizeBytes": size,
            "ItemCount": count,
            "IndexArn": format!("{}/index/{}", t.arn(ctx.store.region(), ctx.store.account()), index.name),
        });
        if index.global {
            desc["IndexStatus"] = json!("ACTIVE");
            desc["ProvisionedThroughput"] = json!({
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": index.read_capacity,
                "WriteCapacityUnits": index.write_capacity,
            });
            gsis.push(desc);
        } else {
            lsis.push(desc);
        }
    }
    if let Value::Object(map) = &mut d {
        if !gsis.is_empty() {
            map.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
        }
        if !lsis.is_empty() {
            map.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
        }
    }
    if let (Some(s), Value::Object(map)) = (&t.stream, &mut d) {
        map.insert(
            "StreamSpecification".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type}),
        );
    }
    // A disabled stream's ARN and label stay on the table (AWS keeps them too).
    if let (Some(s), Value::Object(map)) = (t.stream.as_ref().or(t.latest_stream.as_ref()), &mut d)
    {
        map.insert("LatestStreamArn".into(), json!(s.arn));
        map.insert("LatestStreamLabel".into(), json!(s.label));
    }
    d
}
