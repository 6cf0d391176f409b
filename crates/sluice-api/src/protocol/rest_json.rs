//! Lambda's rest-json error envelope.
//!
//! `x-amzn-ErrorType: <Code>` plus a JSON body whose message member is cased per exception
//! shape (`message` for InvalidParameterValueException and its kin, `Message` for
//! ResourceNotFoundException and most others), with `"Type": "User"` (4xx) or `"Service"`
//! (5xx). `ValidationException` carries no `Type`, as AWS's recorded answers show.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sluice_core::mapping::MappingError;

/// One Lambda exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaCode {
    InvalidParameterValue,
    Validation,
    ResourceNotFound,
    ResourceConflict,
    ResourceInUse,
    InvalidRequestContent,
    RequestTooLarge,
    /// CreateFunction / UpdateFunctionCode bodies over the limit (not in the model; AWS
    /// answers it).
    RequestEntityTooLarge,
    /// A `RevisionId` that no longer matches.
    PreconditionFailed,
    UnsupportedMediaType,
    ResourceNotReady,
    Service,
}

impl LambdaCode {
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidParameterValue => "InvalidParameterValueException",
            Self::Validation => "ValidationException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceConflict => "ResourceConflictException",
            Self::ResourceInUse => "ResourceInUseException",
            Self::InvalidRequestContent => "InvalidRequestContentException",
            Self::RequestTooLarge => "RequestTooLargeException",
            Self::RequestEntityTooLarge => "RequestEntityTooLargeException",
            Self::PreconditionFailed => "PreconditionFailedException",
            Self::UnsupportedMediaType => "UnsupportedMediaTypeException",
            Self::ResourceNotReady => "ResourceNotReadyException",
            Self::Service => "ServiceException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidParameterValue
            | Self::Validation
            | Self::ResourceInUse
            | Self::InvalidRequestContent => StatusCode::BAD_REQUEST,
            Self::ResourceNotFound => StatusCode::NOT_FOUND,
            Self::ResourceConflict => StatusCode::CONFLICT,
            Self::RequestTooLarge | Self::RequestEntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ResourceNotReady => StatusCode::BAD_GATEWAY,
            Self::Service => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message member's name in this exception's shape.
    fn message_key(self) -> &'static str {
        match self {
            Self::InvalidParameterValue
            | Self::Validation
            | Self::ResourceConflict
            | Self::InvalidRequestContent
            | Self::RequestTooLarge
            | Self::RequestEntityTooLarge
            | Self::PreconditionFailed
            | Self::UnsupportedMediaType
            | Self::ResourceNotReady => "message",
            Self::ResourceNotFound | Self::ResourceInUse | Self::Service => "Message",
        }
    }
}

/// A Lambda API error, ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.name())]
pub struct LambdaError {
    pub code: LambdaCode,
    pub message: String,
}

impl LambdaError {
    pub fn new(code: LambdaCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(LambdaCode::InvalidParameterValue, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(LambdaCode::ResourceNotFound, message)
    }

    /// For failures that are Sluice's, not the client's: logged with the cause, never echoed.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "Internal error while serving a Lambda request.");
        Self::new(LambdaCode::Service, "An internal error occurred.")
    }

    /// The body AWS sends for this error.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        match self.code {
            LambdaCode::Validation => {}
            LambdaCode::Service => {
                body.insert("Type".into(), "Service".into());
            }
            _ => {
                body.insert("Type".into(), "User".into());
            }
        }
        body.insert(self.code.message_key().into(), self.message.clone().into());
        serde_json::Value::Object(body)
    }
}

impl From<MappingError> for LambdaError {
    fn from(e: MappingError) -> Self {
        let code = match &e {
            MappingError::Validation(_) => LambdaCode::Validation,
            MappingError::InvalidParameter(_) => LambdaCode::InvalidParameterValue,
            MappingError::NotFound(_) => LambdaCode::ResourceNotFound,
            MappingError::Conflict(_) => LambdaCode::ResourceConflict,
            MappingError::InUse(_) => LambdaCode::ResourceInUse,
        };
        Self::new(code, e.to_string())
    }
}

impl From<sluice_store::StoreError> for LambdaError {
    fn from(e: sluice_store::StoreError) -> Self {
        Self::internal(&e)
    }
}

impl IntoResponse for LambdaError {
    fn into_response(self) -> Response {
        let mut resp = (self.code.status(), axum::Json(self.body())).into_response();
        resp.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static(self.code.name()),
        );
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_use_each_exception_casing() {
        let cases = [
            (
                LambdaCode::ResourceNotFound,
                404,
                r#"{"Type":"User","Message":"m"}"#,
            ),
            (
                LambdaCode::InvalidParameterValue,
                400,
                r#"{"Type":"User","message":"m"}"#,
            ),
            (
                LambdaCode::ResourceConflict,
                409,
                r#"{"Type":"User","message":"m"}"#,
            ),
            (
                LambdaCode::ResourceInUse,
                400,
                r#"{"Type":"User","Message":"m"}"#,
            ),
            (LambdaCode::Validation, 400, r#"{"message":"m"}"#),
            (
                LambdaCode::Service,
                500,
                r#"{"Type":"Service","Message":"m"}"#,
            ),
        ];
        for (code, status, body) in cases {
            let e = LambdaError::new(code, "m");
            assert_eq!(e.code.status().as_u16(), status, "{code:?}");
            assert_eq!(e.body().to_string(), body, "{code:?}");
            let resp = e.into_response();
            assert_eq!(
                resp.headers().get("x-amzn-ErrorType").map(|v| v.as_bytes()),
                Some(code.name().as_bytes())
            );
        }
    }
}
