//! The SQS API on the embedded [`sluice_store::sqs::SqsStore`], in both protocols clients
//! use: JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`, current SDKs) and the query protocol
//! (form-encoded `Action=<Op>`, XML answers; older SDKs and hand-written clients). One file
//! per operation under [`ops`].
//!
//! Every operation takes its input as the JSON 1.0 value (a query request is first turned
//! into that value by [`query::input`]) and answers a JSON value (rendered as AWS's XML for
//! the query protocol by [`query::render`]), so the two protocols share every check.
//!
//! Errors carry both of AWS's names: the JSON `__type` (`com.amazonaws.sqs#QueueDoesNotExist`)
//! with the `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender` header that
//! lets SDKs report the query-era code, and the query `ErrorResponse` with that code.
//!
//! Queue URLs are `<endpoint>/<account>/<name>`; incoming QueueUrl values are resolved by
//! their last two path segments, whatever the host.

pub mod ops;
pub mod query;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use sluice_store::sqs::{AttributeValue, MessageAttributeValue, SqsError, SqsStore};

use crate::AppState;

const JSON: &str = "application/x-amz-json-1.0";

/// Which protocol a request came in; some texts differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
}

/// An SQS error code: its JSON shape, its query code and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    QueueDoesNotExist,
    QueueNameExists,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MissingParameter,
    InvalidMessageContents,
    ReceiptHandleIsInvalid,
    MessageNotInflight,
    PurgeQueueInProgress,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    InvalidBatchEntryId,
    BatchRequestTooLong,
    UnsupportedOperation,
    ResourceNotFound,
    InvalidAddress,
    InvalidAction,
    Serialization,
    Internal,
}

impl Code {
    /// The JSON protocol's `__type`.
    pub fn json_type(self) -> &'static str {
        match self {
            Code::QueueDoesNotExist => "com.amazonaws.sqs#QueueDoesNotExist",
            Code::QueueNameExists => "com.amazonaws.sqs#QueueNameExists",
            Code::InvalidAttributeName => "com.amazonaws.sqs#InvalidAttributeName",
            Code::InvalidAttributeValue => "com.amazonaws.sqs#InvalidAttributeValue",
            Code::InvalidParameterValue => {
                "com.amazon.coral.service#InvalidParameterValueException"
            }
            Code::MissingParameter => "com.amazon.coral.service#MissingRequiredParameterException",
            Code::InvalidMessageContents => "com.amazonaws.sqs#InvalidMessageContents",
            Code::ReceiptHandleIsInvalid => "com.amazonaws.sqs#ReceiptHandleIsInvalid",
            Code::MessageNotInflight => "com.amazonaws.sqs#MessageNotInflight",
            Code::PurgeQueueInProgress => "com.amazonaws.sqs#PurgeQueueInProgress",
            Code::EmptyBatchRequest => "com.amazonaws.sqs#EmptyBatchRequest",
            Code::TooManyEntriesInBatchRequest => "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
            Code::BatchEntryIdsNotDistinct => "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
            Code::InvalidBatchEntryId => "com.amazonaws.sqs#InvalidBatchEntryId",
            Code::BatchRequestTooLong => "com.amazonaws.sqs#BatchRequestTooLong",
            Code::UnsupportedOperation => "com.amazonaws.sqs#UnsupportedOperation",
            Code::ResourceNotFound => "com.amazonaws.sqs#ResourceNotFoundException",
            Code::InvalidAddress => "com.amazonaws.sqs#InvalidAddress",
            Code::InvalidAction => "com.amazon.coral.service#UnknownOperationException",
            Code::Serialization => "com.amazon.coral.service#SerializationException",
            Code::Internal => "com.amazon.coral.service#InternalFailure",
        }
    }

    /// The query protocol's code (and the JSON `x-amzn-query-error` header's).
    pub fn query_code(self) -> &'static str {
        match self {
            Code::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Code::QueueNameExists => "QueueAlreadyExists",
            Code::InvalidAttributeName => "InvalidAttributeName",
            Code::InvalidAttributeValue => "InvalidAttributeValue",
            Code::InvalidParameterValue => "InvalidParameterValue",
            Code::MissingParameter => "MissingParameter",
            Code::InvalidMessageContents => "InvalidMessageContents",
            Code::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Code::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Code::PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Code::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            Code::TooManyEntriesInBatchRequest => {
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
            }
            Code::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            Code::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Code::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            Code::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            Code::ResourceNotFound => "ResourceNotFoundException",
            Code::InvalidAddress => "InvalidAddress",
            Code::InvalidAction => "InvalidAction",
            Code::Serialization => "MalformedInput",
            Code::Internal => "InternalError",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::PurgeQueueInProgress => StatusCode::FORBIDDEN,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn sender(self) -> bool {
        self != Code::Internal
    }
}

/// An SQS error on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsWireError {
    pub code: Code,
    pub message: String,
}

impl SqsWireError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidParameterValue, message)
    }

    /// MissingParameter for a required member.
    pub fn missing(member: &str) -> Self {
        Self::new(
            Code::MissingParameter,
            format!("The request must contain the parameter {member}."),
        )
    }

    pub fn internal() -> Self {
        Self::new(Code::Internal, "An internal error occurred.")
    }

    /// The text for `protocol`: the query protocol names a missing queue AWS's older way.
    fn message_for(&self, protocol: Protocol) -> String {
        if self.code == Code::QueueDoesNotExist && protocol == Protocol::Query {
            "The specified queue does not exist for this wsdl version.".to_owned()
        } else {
            self.message.clone()
        }
    }

    /// The JSON 1.0 error answer.
    pub fn json_response(&self) -> Response {
        let body = json!({"__type": self.code.json_type(), "message": self.message});
        let mut resp = (self.code.status(), body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static(JSON));
        if self.code != Code::Serialization && self.code != Code::InvalidAction {
            let fault = if self.code.sender() {
                "Sender"
            } else {
                "Receiver"
            };
            if let Ok(v) = HeaderValue::from_str(&format!("{};{fault}", self.code.query_code())) {
                h.insert("x-amzn-query-error", v);
            }
        }
        resp
    }

    /// The query protocol's `ErrorResponse`.
    pub fn query_response(&self, request_id: &str) -> Response {
        let fault = if self.code.sender() {
            "Sender"
        } else {
            "Receiver"
        };
        let body = format!(
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message><Detail/></Error><RequestId>{}</RequestId></ErrorResponse>",
            query::NAMESPACE,
            query::escape(self.code.query_code()),
            query::escape(&self.message_for(Protocol::Query)),
            query::escape(request_id),
        );
        xml_response(self.code.status(), body, request_id)
    }

    /// A batch's failed entry for this error.
    pub fn failed_entry(&self, id: &str) -> Value {
        json!({
            "Id": id,
            "SenderFault": self.code.sender(),
            "Code": self.code.query_code(),
            "Message": self.message,
        })
    }
}

impl From<SqsError> for SqsWireError {
    fn from(e: SqsError) -> Self {
        let code = match &e {
            SqsError::QueueDoesNotExist => Code::QueueDoesNotExist,
            SqsError::QueueNameExists(_) => Code::QueueNameExists,
            SqsError::InvalidAttributeName(_) => Code::InvalidAttributeName,
            SqsError::InvalidAttributeValue(_) => Code::InvalidAttributeValue,
            SqsError::InvalidParameterValue(_) => Code::InvalidParameterValue,
            SqsError::MissingParameter(_) => Code::MissingParameter,
            SqsError::InvalidMessageContents(_) => Code::InvalidMessageContents,
            SqsError::ReceiptHandleIsInvalid(_) => Code::ReceiptHandleIsInvalid,
            SqsError::MessageNotInflight(_) => Code::MessageNotInflight,
            SqsError::PurgeQueueInProgress(_) => Code::PurgeQueueInProgress,
            SqsError::Store(inner) => {
                tracing::error!(error = %inner, "SQS storage failure.");
                return Self::internal();
            }
        };
        Self::new(code, e.to_string())
    }
}

impl From<sluice_store::StoreError> for SqsWireError {
    fn from(e: sluice_store::StoreError) -> Self {
        SqsError::Store(e).into()
    }
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}

/// What a handler gets.
pub struct Ctx<'a> {
    pub app: &'a AppState,
    pub sqs: &'a SqsStore,
    pub protocol: Protocol,
    /// The queue named by the request path (`/<account>/<name>`), which query-protocol
    /// clients may address instead of passing QueueUrl.
    pub path_queue: Option<String>,
}

impl Ctx<'_> {
    /// The URL this server hands out for queue `name`.
    pub fn queue_url(&self, name: &str) -> String {
        format!(
            "{}/{}/{name}",
            self.app.endpoint.trim_end_matches('/'),
            self.sqs.account()
        )
    }

    /// The queue a QueueUrl names (existence is checked by the store).
    pub fn queue_name(&self, url: Option<&str>) -> Result<String, SqsWireError> {
        let url = match url {
            Some(u) if !u.is_empty() => u,
            _ => {
                return self
                    .path_queue
                    .clone()
                    .ok_or_else(|| SqsWireError::missing("QueueUrl"));
            }
        };
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
            None => url.trim_start_matches('/'),
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.rsplit('/').filter(|s| !s.is_empty());
        let (Some(name), Some(account)) = (segments.next(), segments.next()) else {
            return Err(SqsWireError::new(
                Code::InvalidAddress,
                format!("The address {url} is not valid for this endpoint."),
            ));
        };
        if account != self.sqs.account() {
            return Err(SqsError::QueueDoesNotExist.into());
        }
        Ok(name.to_owned())
    }
}

/// The queue `/<account>/<name>` of a request path, if it is one.
fn path_queue(path: &str) -> Option<String> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let (account, name) = (segments.next()?, segments.next()?);
    let ok = segments.next().is_none()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| name.to_owned())
}

/// Parses an operation's input.
pub fn input<T: DeserializeOwned>(value: Value) -> Result<T, SqsWireError> {
    serde_json::from_value(value).map_err(|e| SqsWireError::new(Code::Serialization, e.to_string()))
}

/// Store work that may block (control-plane writes fsync) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SqsWireError> + Send + 'static,
) -> Result<T, SqsWireError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "SQS task failed.");
        SqsWireError::internal()
    })?
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A message attribute value as the wire carries it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireAttribute {
    pub string_value: Option<String>,
    pub binary_value: Option<String>,
    pub string_list_values: Option<Vec<String>>,
    pub binary_list_values: Option<Vec<String>>,
    pub data_type: Option<String>,
}

fn decode_b64(member: &str, s: &str) -> Result<Vec<u8>, SqsWireError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| {
            SqsWireError::invalid(format!(
                "Value for parameter {member} is invalid. Reason: Invalid base64."
            ))
        })
}

/// Wire message attributes to the store's, keeping what AWS then checks (empty values,
/// wrong kinds) for the store's checks.
pub fn message_attributes(
    wire: Option<BTreeMap<String, WireAttribute>>,
) -> Result<BTreeMap<String, MessageAttributeValue>, SqsWireError> {
    let mut out = BTreeMap::new();
    for (name, a) in wire.unwrap_or_default() {
        let data_type = a.data_type.unwrap_or_default();
        let value = if let Some(s) = a.string_value {
            AttributeValue::String(s)
        } else if let Some(b) = a.binary_value {
            AttributeValue::Binary(decode_b64("BinaryValue", &b)?)
        } else if let Some(l) = a.string_list_values.filter(|l| !l.is_empty()) {
            AttributeValue::StringList(l)
        } else if let Some(l) = a.binary_list_values.filter(|l| !l.is_empty()) {
            AttributeValue::BinaryList(
                l.iter()
                    .map(|b| decode_b64("BinaryListValue", b))
                    .collect::<Result<_, _>>()?,
            )
        } else if data_type.starts_with("Binary") {
            AttributeValue::Binary(Vec::new())
        } else {
            AttributeValue::String(String::new())
        };
        out.insert(name, MessageAttributeValue { data_type, value });
    }
    Ok(out)
}

/// Message attributes as the wire shows them.
pub fn message_attributes_json(attrs: &BTreeMap<String, MessageAttributeValue>) -> Value {
    let mut out = Map::new();
    for (name, v) in attrs {
        let mut o = Map::new();
        match &v.value {
            AttributeValue::String(s) => {
                o.insert("StringValue".into(), json!(s));
            }
            AttributeValue::Binary(b) => {
                o.insert("BinaryValue".into(), json!(b64(b)));
            }
            AttributeValue::StringList(l) => {
                o.insert("StringListValues".into(), json!(l));
            }
            AttributeValue::BinaryList(l) => {
                o.insert(
                    "BinaryListValues".into(),
                    json!(l.iter().map(|b| b64(b)).collect::<Vec<_>>()),
                );
            }
        }
        o.insert("DataType".into(), json!(v.data_type));
        out.insert(name.clone(), Value::Object(o));
    }
    Value::Object(out)
}

/// `MessageSystemAttributes` of a send: only `AWSTraceHeader` (a String) is allowed.
pub fn trace_header(
    wire: Option<BTreeMap<String, WireAttribute>>,
) -> Result<Option<String>, SqsWireError> {
    let mut out = None;
    for (name, a) in wire.unwrap_or_default() {
        if name != "AWSTraceHeader" {
            return Err(SqsWireError::invalid(format!(
                "Message system attribute name '{name}' is invalid."
            )));
        }
        if a.data_type.as_deref() != Some("String") {
            return Err(SqsWireError::invalid(
                "Message system attribute 'AWSTraceHeader' must be of type 'String'.",
            ));
        }
        out = a.string_value;
    }
    Ok(out)
}

/// Batch entry ids: 1 to 80 of `[A-Za-z0-9_-]`.
pub fn check_batch_id(id: &str) -> Result<(), SqsWireError> {
    let ok = (1..=80).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SqsWireError::new(
            Code::InvalidBatchEntryId,
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        ))
    }
}

/// The checks every batch operation makes on its entry list, in AWS's order: empty, too
/// many, ids well formed, ids distinct. `ids` are the entries' Ids in request order.
pub fn check_batch(op_entry: &str, ids: &[Option<&str>]) -> Result<(), SqsWireError> {
    if ids.is_empty() {
        return Err(SqsWireError::new(
            Code::EmptyBatchRequest,
            format!("There should be at least one {op_entry} in the request."),
        ));
    }
    if ids.len() > 10 {
        return Err(SqsWireError::new(
            Code::TooManyEntriesInBatchRequest,
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                ids.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        let id = id.ok_or_else(|| SqsWireError::missing(&format!("{op_entry}.Id")))?;
        check_batch_id(id)?;
        if !seen.insert(id) {
            return Err(SqsWireError::new(
                Code::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

/// Serves one JSON 1.0 request (`X-Amz-Target: AmazonSQS.<op>`).
pub async fn handle_json(app: AppState, op: &str, body: Bytes) -> Response {
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Value::Object(Map::new()))
    } else {
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| SqsWireError::new(Code::Serialization, e.to_string()))
            .and_then(|v| {
                if v.is_object() {
                    Ok(v)
                } else {
                    Err(SqsWireError::new(
                        Code::Serialization,
                        "Start of structure or map found where not expected.",
                    ))
                }
            })
    };
    let ctx = Ctx {
        app: &app,
        sqs: &app.sqs,
        protocol: Protocol::Json,
        path_queue: None,
    };
    let outcome = match value {
        Ok(v) => ops::dispatch(&ctx, op, v).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(v) => {
            let mut resp = (StatusCode::OK, v.to_string()).into_response();
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static(JSON));
            resp
        }
        Err(e) => e.json_response(),
    }
}

/// Whether `action` is an SQS operation (routes an unsigned query request here).
pub fn is_action(action: &str) -> bool {
    ops::OPERATIONS.contains(&action) || ops::NOT_SUPPORTED.contains(&action)
}

/// Serves one query-protocol request: the form's pairs (body and URL query) and the path
/// (a queue URL's path may name the queue).
pub async fn handle_query(
    app: AppState,
    path: &str,
    _headers: &HeaderMap,
    pairs: Vec<(String, String)>,
) -> Response {
    let request_id = crate::protocol::request_id();
    let action = pairs
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ctx = Ctx {
        app: &app,
        sqs: &app.sqs,
        protocol: Protocol::Query,
        path_queue: path_queue(path),
    };
    let outcome = match query::input(&action, &pairs) {
        Ok(v) => ops::dispatch(&ctx, &action, v).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(v) => xml_response(
            StatusCode::OK,
            query::render(&action, &v, &request_id),
            &request_id,
        ),
        Err(e) => e.query_response(&request_id),
    }
}
