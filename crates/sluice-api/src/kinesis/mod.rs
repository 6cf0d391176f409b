//! The Kinesis API (JSON 1.1 and CBOR 1.1, `X-Amz-Target: Kinesis_20131202.<Op>`), on the
//! embedded [`sluice_store::kinesis::KinesisStore`]. One file per operation under [`ops`].
//!
//! Requests are decoded to a JSON value (CBOR bodies through [`crate::protocol::cbor`]), each
//! operation checks its input against the model (ValidationException with AWS's texts) and
//! answers a JSON value, encoded back in the client's protocol.

pub mod ops;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sluice_core::arn::Arn;
use sluice_core::constraint::Violations;
use sluice_store::kinesis::{KinesisError, KinesisStore, StreamRecord};

use crate::AppState;
use crate::protocol::cbor;

const JSON: &str = "application/x-amz-json-1.1";
const CBOR: &str = "application/x-amz-cbor-1.1";

/// A Kinesis error on the wire.
#[derive(Debug)]
pub struct KinesisWireError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl KinesisWireError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    pub fn validation(violations: Vec<String>) -> Self {
        Self::new("ValidationException", Violations::message(&violations))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidArgumentException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }
}

impl From<KinesisError> for KinesisWireError {
    fn from(e: KinesisError) -> Self {
        let code = match &e {
            KinesisError::ResourceNotFound(_) => "ResourceNotFoundException",
            KinesisError::ResourceInUse(_) => "ResourceInUseException",
            KinesisError::InvalidArgument(_) => "InvalidArgumentException",
            KinesisError::LimitExceeded(_) => "LimitExceededException",
            KinesisError::ExpiredIterator(_) => "ExpiredIteratorException",
            KinesisError::Validation(_) => "ValidationException",
            KinesisError::ProvisionedThroughputExceeded(_) => {
                "ProvisionedThroughputExceededException"
            }
            KinesisError::Store(inner) => {
                tracing::error!(error = %inner, "Kinesis storage failure.");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "InternalFailure",
                    message: "An internal error occurred.".into(),
                };
            }
        };
        Self::new(code, e.to_string())
    }
}

impl From<sluice_store::StoreError> for KinesisWireError {
    fn from(e: sluice_store::StoreError) -> Self {
        KinesisError::Store(e).into()
    }
}

/// What a handler gets.
pub struct Ctx<'a> {
    pub app: &'a AppState,
    pub kinesis: &'a KinesisStore,
    pub now_ms: u64,
}

impl Ctx<'_> {
    /// Resolves `StreamName` / `StreamARN` (either may address a stream; both must agree).
    pub fn stream_name(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<String, KinesisWireError> {
        let mut v = Violations::default();
        if let Some(n) = name {
            stream_name_constraints(&mut v, "streamName", n);
        }
        if let Some(a) = arn {
            v.length("streamARN", a, 1, 2048);
        }
        v.finish().map_err(KinesisWireError::validation)?;
        let from_arn = match arn {
            None => None,
            Some(a) => Some(self.parse_stream_arn(a)?),
        };
        match (name, from_arn) {
            (Some(n), Some(a)) if n != a => Err(KinesisWireError::invalid(format!(
                "StreamARN {} and StreamName {n} do not refer to the same stream.",
                arn.unwrap_or_default()
            ))),
            (Some(n), _) => Ok(n.to_owned()),
            (None, Some(a)) => Ok(a),
            (None, None) => Err(KinesisWireError::invalid(
                "Either StreamName or StreamARN must be provided.",
            )),
        }
    }

    fn parse_stream_arn(&self, arn: &str) -> Result<String, KinesisWireError> {
        let bad = || KinesisWireError::invalid(format!("Invalid StreamARN: {arn}"));
        let parsed = Arn::parse(arn).ok_or_else(bad)?;
        let name = parsed
            .resource
            .strip_prefix("stream/")
            .filter(|n| !n.contains('/'))
            .ok_or_else(bad)?;
        if parsed.service != "kinesis" {
            return Err(bad());
        }
        if parsed.account != self.kinesis.account() || parsed.region != self.kinesis.region() {
            return Err(self.kinesis.not_found(name).into());
        }
        Ok(name.to_owned())
    }

    pub fn stream(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<StreamRecord, KinesisWireError> {
        let n = self.stream_name(name, arn)?;
        Ok(self.kinesis.stream(&n)?)
    }

    pub fn active_stream(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<StreamRecord, KinesisWireError> {
        let n = self.stream_name(name, arn)?;
        Ok(self.kinesis.active_stream(&n)?)
    }
}

/// `StreamName` constraints of the model.
pub fn stream_name_constraints(v: &mut Violations, member: &str, name: &str) {
    if v.length(member, name, 1, 128) {
        let ok = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
        v.pattern(member, name, ok, "[a-zA-Z0-9_.-]+");
    }
}

/// A request body: JSON bytes (parsed straight into the operation's input, no intermediate
/// tree), or a value decoded from CBOR.
pub enum Body {
    Json(Bytes),
    Value(Value),
}

/// An operation's answer: a value (encoded for the client's protocol), or JSON already
/// written (GetRecords' hot path; only for JSON clients).
pub enum Reply {
    Value(Value),
    Json(Vec<u8>),
}

/// Parses a request body into an operation's input.
pub fn input<T: DeserializeOwned>(body: Body) -> Result<T, KinesisWireError> {
    let parsed = match body {
        Body::Json(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
            serde_json::from_slice(b"{}")
        }
        Body::Json(bytes) => serde_json::from_slice(&bytes),
        Body::Value(value) => serde_json::from_value(value),
    };
    parsed.map_err(|e| KinesisWireError::serialization(e.to_string()))
}

/// Decodes a base64 blob member.
pub fn blob(member: &str, b64: &str) -> Result<Vec<u8>, KinesisWireError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| KinesisWireError::serialization(format!("Invalid base64 in {member}.")))
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Epoch seconds as Kinesis writes timestamps.
pub fn epoch(ms: u64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}

/// Serves one Kinesis request.
pub async fn handle(app: AppState, op: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let is_cbor = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with(CBOR));
    let outcome = async {
        let request = if is_cbor {
            let value = cbor::decode_request(&body, &cbor::KINESIS)
                .map_err(|e| KinesisWireError::serialization(e.to_string()))?;
            if !value.is_object() {
                return Err(KinesisWireError::serialization(
                    "Start of structure or map found where not expected.",
                ));
            }
            Body::Value(value)
        } else {
            let first = body.iter().find(|b| !b.is_ascii_whitespace());
            if first.is_some_and(|b| *b != b'{') {
                return Err(KinesisWireError::serialization(
                    "Start of structure or map found where not expected.",
                ));
            }
            Body::Json(body)
        };
        ops::dispatch(&app, op, request).await
    }
    .await;
    let (status, reply) = match outcome {
        Ok(r) => (StatusCode::OK, r),
        Err(e) => (
            e.status,
            Reply::Value(serde_json::json!({"__type": e.code, "message": e.message})),
        ),
    };
    let (content_type, bytes) = match (is_cbor, reply) {
        (true, Reply::Value(value)) => (CBOR, cbor::encode_response(&value, &cbor::KINESIS)),
        (true, Reply::Json(json)) => {
            let value: Value = serde_json::from_slice(&json).unwrap_or_default();
            (CBOR, cbor::encode_response(&value, &cbor::KINESIS))
        }
        (false, Reply::Value(value)) => (JSON, serde_json::to_vec(&value).unwrap_or_default()),
        (false, Reply::Json(json)) => (JSON, json),
    };
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    resp
}
