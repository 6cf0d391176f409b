//! Invokers: run a function by its code kind.
//!
//! [`FunctionInvoker`] dispatches on [`FunctionCode`]: `url` functions are POSTed to
//! ([`http`]); `command` functions run as local processes speaking the Lambda Runtime API
//! ([`process`]); zip deployments run as `command` functions too, their package unpacked
//! under the data dir and their command derived from the runtime ([`zip`]).

pub mod http;
pub mod process;
pub mod zip;

use sluice_core::function::{
    FunctionCode, InvokeContext, InvokeError, InvokeFuture, InvokeReport, InvokeReportFuture,
    InvokeRequest, Invoker,
};
use sluice_store::DataDir;

pub use http::HttpInvoker;
pub use process::{ProcessInvoker, ProcessSettings};

/// Runs any function through the invoker for its code kind.
#[derive(Debug, Clone, Default)]
pub struct FunctionInvoker {
    http: HttpInvoker,
    processes: ProcessInvoker,
    /// Where zip functions' packages are; without it they answer `Unsupported`.
    code: Option<DataDir>,
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
            code: None,
        }
    }

    /// Runs zip functions from the packages kept in `dir`.
    pub fn with_code(mut self, dir: DataDir) -> Self {
        self.code = Some(dir);
        self
    }

    /// A zip function's request, turned into its `command` function's request.
    async fn prepare_zip(&self, mut request: InvokeRequest) -> Result<InvokeRequest, InvokeError> {
        let Some(dir) = self.code.clone() else {
            return Err(InvokeError::Unsupported(
                request.function.name.clone(),
                "zip-deployed functions need a data dir".into(),
            ));
        };
        let f = request.function.clone();
        let name = f.name.clone();
        request.function = tokio::task::spawn_blocking(move || zip::as_command(&dir, &f))
            .await
            .map_err(|e| InvokeError::Unreachable(name, e.to_string()))??;
        Ok(request)
    }
}

impl Invoker for FunctionInvoker {
    fn invoke_with(
        &self,
        request: InvokeRequest,
        context: InvokeContext,
    ) -> InvokeReportFuture<'_> {
        match &request.function.code {
            FunctionCode::Command { .. } => return self.processes.invoke_with(request, context),
            FunctionCode::Zip { .. } => {
                return Box::pin(async move {
                    match self.prepare_zip(request).await {
                        Ok(request) => self.processes.invoke_with(request, context).await,
                        Err(e) => InvokeReport {
                            outcome: Err(e),
                            request_id: None,
                            log_tail: None,
                        },
                    }
                });
            }
            FunctionCode::Url { .. } => {}
        }
        let call = self.invoke(request);
        Box::pin(async move {
            InvokeReport {
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
            FunctionCode::Zip { .. } => Box::pin(async move {
                self.invoke_with(request, InvokeContext::default())
                    .await
                    .outcome
            }),
        }
    }
}
