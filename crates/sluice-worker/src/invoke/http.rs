//! HTTP functions: POST the event JSON to the function's URL.
//!
//! A 2xx answer's body is the result. A non-2xx answer, or a 2xx answer with
//! `X-Amz-Function-Error`, is a function error; its body is passed on when it is Lambda's
//! error document (`{"errorMessage", "errorType"}`), wrapped in one otherwise. No answer
//! within the function's timeout is a function error too, worded as Lambda words it. A
//! connection that cannot be made is an [`InvokeError::Unreachable`]: the function did not
//! run, so callers may retry without counting an attempt.

use std::time::Duration;

use sluice_core::function::{
    FunctionCode, Invocation, InvokeError, InvokeFuture, InvokeRequest, Invoker,
};

/// POSTs events to `url` functions.
#[derive(Debug, Clone)]
pub struct HttpInvoker {
    client: reqwest::Client,
}

impl Default for HttpInvoker {
    fn default() -> Self {
        Self {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }
}

impl Invoker for HttpInvoker {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        Box::pin(async move {
            let FunctionCode::Url { url } = &request.function.code else {
                return Err(InvokeError::Unsupported(
                    request.function.name.clone(),
                    "not an HTTP function".into(),
                ));
            };
            let name = request.function.name.clone();
            let timeout = request.timeout;
            let call = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .header("lambda-runtime-invoked-function-arn", &request.function_arn)
                .body(request.payload)
                .send();
            let outcome = tokio::time::timeout(timeout, async {
                let resp = call.await?;
                let status = resp.status();
                let error_header = resp
                    .headers()
                    .get("x-amz-function-error")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, error_header, body))
            })
            .await;
            match outcome {
                Err(_elapsed) => Ok(timed_out(timeout)),
                Ok(Err(e)) if e.is_connect() => Err(InvokeError::Unreachable(name, e.to_string())),
                Ok(Err(e)) => Ok(Invocation::function_error(
                    "Runtime.Unknown",
                    &format!("The function's HTTP endpoint failed: {e}"),
                )),
                Ok(Ok((status, error_header, body))) => {
                    if status.is_success() && error_header.is_none() {
                        return Ok(Invocation::Ok(body.to_vec()));
                    }
                    let error_type = error_header.unwrap_or_else(|| "Unhandled".to_owned());
                    Ok(error_document(&error_type, status.as_u16(), &body))
                }
            }
        })
    }
}

/// Lambda's timeout error.
fn timed_out(timeout: Duration) -> Invocation {
    Invocation::function_error(
        "Sandbox.Timedout",
        &format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
    )
}

/// The function's own error document when it sent one; otherwise one describing the answer.
fn error_document(error_type: &str, status: u16, body: &[u8]) -> Invocation {
    let is_lambda_doc = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("errorMessage").is_some() || v.get("errorType").is_some());
    if is_lambda_doc {
        return Invocation::FunctionError {
            error_type: error_type.to_owned(),
            payload: body.to_vec(),
        };
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(1024)]).into_owned();
    Invocation::function_error(
        error_type,
        &format!("The function answered HTTP {status}: {text}"),
    )
}

#[cfg(test)]
mod tests;
