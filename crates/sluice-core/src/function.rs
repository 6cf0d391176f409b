//! The function registry's record and the [`Invoker`] seam.
//!
//! A function is either an HTTP endpoint (`url`), a local process speaking the Lambda
//! Runtime API (`command`), or code deployed through the Lambda API (`zip`). The engine and
//! the Invoke API reach all three through [`Invoker`]; a function error is an outcome
//! ([`Invocation::FunctionError`]), never an `Err`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where a function's code runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionCode {
    /// POST the event to this URL; a 2xx body is the result.
    Url { url: String },
    /// A local process speaking the Lambda Runtime API.
    Command {
        command: Vec<String>,
        workdir: Option<String>,
        /// Most instances run at once (config `concurrency`); `None` means the default, 10.
        /// Kept here rather than on the record: only local processes have instances to count.
        #[serde(default)]
        concurrency: Option<u32>,
    },
    /// A zip deployed through CreateFunction; the archive is kept in the data dir.
    Zip {
        /// Base64 SHA-256 of the archive, as `CodeSha256`.
        sha256: String,
        size: u64,
    },
}

/// Where a function was declared: a restart re-reads the config file, not the API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionOrigin {
    Config,
    Api,
}

/// A function as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    pub name: String,
    pub code: FunctionCode,
    pub origin: FunctionOrigin,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: String,
    pub description: String,
    pub timeout: Duration,
    pub memory_size: u32,
    pub environment: BTreeMap<String, String>,
    /// `LastModified` as Lambda writes it: `2019-10-23T20:03:26.045+0000`.
    pub last_modified: String,
    pub revision_id: String,
    /// `None` for `$LATEST`; `Some(n)` for published version `n`, an immutable snapshot of
    /// `$LATEST`'s code and configuration (PublishVersion).
    #[serde(default)]
    pub version: Option<u64>,
}

impl FunctionRecord {
    /// `Version` as Lambda writes it: `$LATEST` or the number.
    pub fn version_name(&self) -> String {
        self.version
            .map_or_else(|| "$LATEST".to_owned(), |n| n.to_string())
    }

    /// Default `timeout` of a function, as on Lambda.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
    /// Default `MemorySize`, as on Lambda.
    pub const DEFAULT_MEMORY: u32 = 128;
    /// The execution role Sluice reports for functions declared without one.
    pub fn default_role(account: &str) -> String {
        format!("arn:aws:iam::{account}:role/sluice-function")
    }
}

/// A function alias: a name for one version (`$LATEST` or a number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub function: String,
    pub name: String,
    /// `$LATEST` or a published version number.
    pub function_version: String,
    pub description: String,
    pub revision_id: String,
}

/// One invocation, synchronous.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    pub function: FunctionRecord,
    /// The invoked ARN, qualifier included.
    pub function_arn: String,
    pub payload: Vec<u8>,
    pub timeout: Duration,
}

/// What the function did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// The function returned this result.
    Ok(Vec<u8>),
    /// The function failed (an error, a crash or a timeout); the payload is Lambda's
    /// `{"errorMessage", "errorType"}` document.
    FunctionError {
        error_type: String,
        payload: Vec<u8>,
    },
}

impl Invocation {
    /// A function error with Lambda's error document.
    pub fn function_error(error_type: &str, message: &str) -> Self {
        let doc = serde_json::json!({"errorMessage": message, "errorType": error_type});
        Self::FunctionError {
            error_type: error_type.to_owned(),
            payload: doc.to_string().into_bytes(),
        }
    }
}

/// The function could not be run at all (not a function error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function's code kind cannot be run by this Sluice yet.
    #[error("function {0} cannot be invoked: {1}")]
    Unsupported(String, String),
    /// The endpoint or process could not be reached; trying again may work.
    #[error("function {0} is unreachable: {1}")]
    Unreachable(String, String),
}

impl InvokeError {
    /// True when the same invocation may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unreachable(..))
    }
}

/// Boxed future returned by [`Invoker::invoke`].
pub type InvokeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Invocation, InvokeError>> + Send + 'a>>;

/// What the Lambda Invoke API adds to an invocation; the engine sends none of it.
#[derive(Debug, Clone, Default)]
pub struct InvokeContext {
    /// The request id the caller already answers with (`x-amzn-RequestId`), so the function
    /// sees the same one; a fresh one is made when absent.
    pub request_id: Option<String>,
    /// `X-Amz-Client-Context`, base64-decoded (a JSON document).
    pub client_context: Option<String>,
}

/// An invocation's outcome with what the invoker saw of it.
#[derive(Debug, Clone)]
pub struct InvokeReport {
    pub outcome: Result<Invocation, InvokeError>,
    /// The request id the function was given, when the invoker gives one.
    pub request_id: Option<String>,
    /// The last bytes (at most 4 KB) of the function's log lines during this invocation,
    /// when the invoker captures them (local processes do; HTTP endpoints do not).
    pub log_tail: Option<Vec<u8>>,
}

/// Boxed future returned by [`Invoker::invoke_with`].
pub type InvokeReportFuture<'a> = Pin<Box<dyn Future<Output = InvokeReport> + Send + 'a>>;

/// Runs functions. Implemented by the worker (HTTP, Runtime API processes, Lambda Invoke).
pub trait Invoker: Send + Sync {
    fn invoke(&self, request: InvokeRequest) -> InvokeFuture<'_>;

    /// [`Invoker::invoke`] for the Invoke API: takes its context and reports the request id
    /// and log tail when the invoker has them. The default has neither.
    fn invoke_with(
        &self,
        request: InvokeRequest,
        context: InvokeContext,
    ) -> InvokeReportFuture<'_> {
        let _ = context;
        let call = self.invoke(request);
        Box::pin(async move {
            InvokeReport {
                outcome: call.await,
                request_id: None,
                log_tail: None,
            }
        })
    }
}

/// How a zip function's code is started, by its `Runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// OS-only runtimes: the package's own `bootstrap` executable.
    Provided,
    /// `python3.x`: Sluice's embedded Python runtime client imports `module.function`.
    Python,
    /// `nodejsN.x`: Sluice's embedded Node runtime client loads `file.export`.
    Node,
}

/// The runtimes Sluice runs zip functions with, as listed in its error messages.
pub const SUPPORTED_RUNTIMES: &str =
    "provided.al2023, provided.al2, provided, python3.9 to python3.14, nodejs18.x to nodejs24.x";

impl RuntimeKind {
    /// The kind of a Lambda `Runtime` value; `None` for runtimes Sluice cannot run
    /// (java, dotnet, ruby, retired versions, unknown names).
    pub fn of(runtime: &str) -> Option<Self> {
        match runtime {
            "provided" | "provided.al2" | "provided.al2023" => Some(Self::Provided),
            "python3.9" | "python3.10" | "python3.11" | "python3.12" | "python3.13"
            | "python3.14" => Some(Self::Python),
            "nodejs18.x" | "nodejs20.x" | "nodejs22.x" | "nodejs24.x" => Some(Self::Node),
            _ => None,
        }
    }
}
