//! The query protocol (SQS for older SDKs, SNS): form-encoded `Action=...` bodies, XML answers.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A query-protocol error, rendered as AWS's `ErrorResponse` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub request_id: String,
}

impl QueryError {
    pub fn invalid_action(action: &str, request_id: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidAction".into(),
            message: format!("The action {action} is not valid for this endpoint."),
            request_id,
        }
    }
}

/// Escapes text for an XML element.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        let body = format!(
            "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message><Detail/></Error><RequestId>{}</RequestId></ErrorResponse>",
            xml_escape(&self.code),
            xml_escape(&self.message),
            xml_escape(&self.request_id)
        );
        let mut resp = (self.status, body).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/xml"));
        resp
    }
}
