//! Invokers: run a function by its code kind.
//!
//! [`FunctionInvoker`] dispatches on [`FunctionCode`]: `url` functions are POSTed to
//! ([`http`]); `command` functions run as local processes speaking the Lambda Runtime API
//! ([`process`]); zip deployments are answered with [`InvokeError::Unsupported`] until they
//! can run.

pub mod http;
pub mod process;

use sluice_core::function::{
    FunctionCode, InvokeContext, InvokeError, InvokeFuture, InvokeReportFuture, InvokeRequest,
    Invoker,
};

pub use http::HttpInvoker;
pub use process::{ProcessInvoker, ProcessSettings};

/// Runs any function through the invoker for its code kind.
#[derive(Debug, Clone, Default)]
pub struct FunctionInvoker {
    http: HttpInvoker,
    processes: ProcessInvoker,
}

impl FunctionInvoker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `command` functions through `processes` (which the caller shuts down).
    pub fn with_processes(processes: ProcessInvoker) -> Self {
        Self {
            http: HttpInvoker::default(),
            processes,
        }
    }
}

impl Invoker for FunctionInvoker {
    fn invoke_with(
        &self,
        request: InvokeRequest,
        context: InvokeContext,
    ) -> InvokeReportFuture<'_> {
        if let FunctionCode::Command { .. } = &request.function.code {
            return self.processes.invoke_with(request, context);
        }
        let call = self.invoke(request);
        Box::pin(async move {
            sluice_core::function::InvokeReport {
                outcome: call.await,
                request_id: None,
                log_tail: None,
            }
        })
    }

    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_> {
        match &request.function.code {
            FunctionCode::Url { .. } => self.http.invoke(request),
            FunctionCode::Command { .. } => self.processes.invoke(request),
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
