//! Invokers: run a function by its code kind.
//!
//! [`FunctionInvoker`] dispatches on [`FunctionCode`]: `url` functions are POSTed to
//! ([`http`]); Runtime API processes and zip deployments are answered with
//! [`InvokeError::Unsupported`] until the functions work lands.

pub mod http;

use sluice_core::function::{FunctionCode, InvokeError, InvokeFuture, InvokeRequest, Invoker};

pub use http::HttpInvoker;

/// Runs any function through the invoker for its code kind.
#[derive(Debug, Clone, Default)]
pub struct FunctionInvoker {
    http: HttpInvoker,
}

impl FunctionInvoker {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Invoker for FunctionInvoker {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        match &request.function.code {
            FunctionCode::Url { .. } => self.http.invoke(request),
            FunctionCode::Command { .. } => {
                let name = request.function.name.clone();
                Box::pin(async move {
                    Err(InvokeError::Unsupported(
                        name,
                        "functions run as local processes (`command`) are not supported by this Sluice yet; use `url`".into(),
                    ))
                })
            }
            FunctionCode::Zip { .. } => {
                let name = request.function.name.clone();
                Box::pin(async move {
                    Err(InvokeError::Unsupported(
                        name,
                        "zip-deployed functions cannot run in this Sluice yet; declare the function with `url` in the config file".into(),
                    ))
                })
            }
        }
    }
}
