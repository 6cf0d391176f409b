//! `command` functions end to end: Python handlers run by the unmodified awslambdaric
//! runtime client (PyPI, pinned in compat/requirements.txt) and a Rust handler on the
//! `lambda_runtime` crate (`crates/sluice-testfn`), invoked through Lambda Invoke with
//! aws-sdk-lambda and through a Kinesis mapping.
//!
//! The Python is `compat/.venv/bin/python` (made by `./scripts/test` before the Rust tests),
//! or `SLUICE_TEST_PYTHON`: an interpreter that can `import awslambdaric`. The Rust handler
//! is `target/<profile>/sluice-testfn`, built by `cargo build --workspace` (the first step
//! of `./scripts/test`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob as LambdaBlob;
use aws_sdk_lambda::types::{EventSourcePosition, FunctionResponseType, LogType};
use base64::Engine;

use crate::harness::{ScriptedFunction, kinesis_client, lambda_client, start_server};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An interpreter with awslambdaric; fails with what to do when there is none.
fn python() -> String {
    let python = std::env::var("SLUICE_TEST_PYTHON").unwrap_or_else(|_| {
        repo()
            .join("compat/.venv/bin/python")
            .to_string_lossy()
            .into_owned()
    });
    let ok = std::process::Command::new(&python)
        .args(["-c", "import awslambdaric"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{python} cannot import awslambdaric: run ./scripts/test once (it makes compat/.venv \
         from compat/requirements.txt) or set SLUICE_TEST_PYTHON"
    );
    python
}

/// The `lambda_runtime` handler binary, next to this test binary's `deps/` folder.
pub(crate) fn testfn() -> String {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("sluice-testfn");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` (./scripts/test does)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// A server whose functions run `compat/functions` handlers; `report_url` is where the
/// mapping handlers report what they got.
async fn start(report_url: &str, marker: &str) -> Sluice {
    let py = python();
    let workdir = repo().join("compat/functions");
    let workdir = workdir.to_string_lossy();
    let f = |name: &str, handler: &str, extra: &str| {
        format!(
            "[[functions]]\nname = {name:?}\ncommand = [{py:?}, \"-m\", \"awslambdaric\", {handler:?}]\nworkdir = {workdir:?}\n{extra}\n"
        )
    };
    let env = format!("env = {{ REPORT_URL = {report_url:?}, MARKER = {marker:?} }}");
    let mut config = String::new();
    config += &f(
        "echo",
        "handlers.echo",
        "env = { GREETING = \"hello\" }\nmemory_size = 512",
    );
    config += &f("fail", "handlers.fail", "");
    config += &f("slow", "handlers.slow", "timeout = 1");
    config += &f("wide", "handlers.slow", "timeout = 30\nconcurrency = 3");
    config += &f("crash", "handlers.crash", "");
    config += &f("broken", "broken_init.handler", "");
    config += &f("big", "handlers.big", "");
    config += &f("partial", "handlers.partial", &env);
    config += &f("crash_once", "handlers.crash_once", &env);
    config += &format!(
        "[[functions]]\nname = \"rust\"\ncommand = [{:?}]\ntimeout = 2\n{env}\n",
        testfn()
    );
    config += "[[streams]]\nname = \"flow\"\n";
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let path = tmp.path().join("sluice.toml");
    std::fs::write(&path, config).unwrap();
    let server = start_server(&dir, &path).await;
    Sluice { server, _tmp: tmp }
}

/// A running server and its temporary directory.
struct Sluice {
    server: sluice::Server,
    _tmp: tempfile::TempDir,
}

impl Sluice {
    fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn lambda(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.endpoint())
    }

    fn kinesis(&self) -> aws_sdk_kinesis::Client {
        kinesis_client(&self.endpoint())
    }

    /// Shuts down as on SIGTERM: every function instance is stopped before this returns.
    async fn stop(self) {
        self.server.shutdown().await.unwrap();
    }
}

/// A recorder for the handlers' reports (every report answered 200).
async fn recorder() -> ScriptedFunction {
    ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await
}

struct Answer {
    status: i32,
    function_error: Option<String>,
    payload: serde_json::Value,
    log: String,
    request_id: String,
}

async fn invoke(s: &Sluice, name: &str, payload: serde_json::Value) -> Answer {
    let out = s
        .lambda()
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .payload(LambdaBlob::new(payload.to_string()))
        .send()
        .await
        .unwrap();
    let log = out
        .log_result()
        .map(|b| {
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
        })
        .unwrap_or_default();
    Answer {
        status: out.status_code(),
        function_error: out.function_error().map(str::to_owned),
        payload: serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap(),
        log,
        request_id: out.request_id().unwrap_or_default().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awslambdaric_handler_answers_invoke_with_lambdas_context_and_logs() {
    let r = recorder().await;
    let s = start(&r.url, "/nonexistent").await;
    let first = invoke(&s, "echo", serde_json::json!({"hello": "world"})).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.function_error, None);
    let p = &first.payload;
    assert_eq!(p["event"], serde_json::json!({"hello": "world"}));
    assert_eq!(p["request_id"], first.request_id.as_str());
    assert_eq!(p["function_name"], "echo");
    assert_eq!(p["function_version"], "$LATEST");
    assert_eq!(
        p["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert_eq!(p["memory_limit_in_mb"], "512");
    assert!(p["remaining_ms"].as_u64().unwrap() > 2000);
    assert_eq!(p["log_group_name"], "/aws/lambda/echo");
    assert_eq!(p["env"]["GREETING"], "hello");
    assert_eq!(p["env"]["AWS_ENDPOINT_URL"], s.endpoint());
    assert_eq!(p["env"]["AWS_REGION"], "us-east-1");
    // The log tail: Lambda's START/END/REPORT around the handler's own lines.
    let log = &first.log;
    assert!(
        log.starts_with(&format!(
            "START RequestId: {} Version: $LATEST\necho got {{\"hello\": \"world\"}}\nEND RequestId: {}\nREPORT RequestId: {}",
            first.request_id, first.request_id, first.request_id
        )),
        "{log}"
    );

    let second = invoke(&s, "echo", serde_json::json!({"n": 2})).await;
    assert_eq!(
        second.payload["pid"], first.payload["pid"],
        "a warm instance"
    );
    assert!(!second.log.contains("hello"), "each tail is its own");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raised_errors_timeouts_crashes_and_init_errors_are_function_errors() {
    let r = recorder().await;
    let s = start(&r.url, "/nonexistent").await;

    let raised = invoke(&s, "fail", serde_json::json!({"why": "no name"})).await;
    assert_eq!(raised.status, 200);
    assert_eq!(raised.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(raised.payload["errorType"], "BadInput");
    assert_eq!(raised.payload["errorMessage"], "bad input: no name");
    assert!(raised.payload["stackTrace"].is_array());
    assert!(
        raised.log.contains("[ERROR] BadInput: bad input: no name"),
        "{}",
        raised.log
    );

    let first = invoke(&s, "slow", serde_json::json!({"seconds": 0})).await;
    assert_eq!(first.function_error, None);
    let timed_out = invoke(&s, "slow", serde_json::json!({"seconds": 20})).await;
    assert_eq!(timed_out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(timed_out.payload["errorType"], "Sandbox.Timedout");
    let msg = timed_out.payload["errorMessage"].as_str().unwrap();
    assert!(
        msg.ends_with(&format!(
            " {} Task timed out after 1.00 seconds",
            timed_out.request_id
        )),
        "{msg}"
    );
    assert!(timed_out.log.contains("slow start"), "{}", timed_out.log);
    let after = invoke(&s, "slow", serde_json::json!({"seconds": 0})).await;
    assert_eq!(after.function_error, None);
    assert_ne!(
        after.payload["pid"], first.payload["pid"],
        "the timed-out instance was killed and replaced"
    );

    let crashed = invoke(&s, "crash", serde_json::json!({"code": 5})).await;
    assert_eq!(crashed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        crashed.payload,
        serde_json::json!({
            "errorMessage": format!("RequestId: {} Error: Runtime exited with error: exit status 5", crashed.request_id),
            "errorType": "Runtime.ExitError",
        })
    );
    assert!(
        crashed.log.contains("about to crash\ncrashing now\n"),
        "{}",
        crashed.log
    );

    let broken = invoke(&s, "broken", serde_json::json!({})).await;
    assert_eq!(broken.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(broken.payload["errorType"], "RuntimeError");
    assert_eq!(
        broken.payload["errorMessage"],
        "cannot start: missing configuration"
    );

    let big = invoke(&s, "big", serde_json::json!({})).await;
    assert_eq!(big.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(big.payload["errorType"], "Function.ResponseSizeTooLarge");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_invocations_run_on_as_many_instances_as_concurrency_allows() {
    let r = recorder().await;
    let s = Arc::new(start(&r.url, "/nonexistent").await);
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { invoke(&s, "wide", serde_json::json!({"seconds": 1})).await })
        })
        .collect();
    let mut pids = HashSet::new();
    for c in calls {
        let a = c.await.unwrap();
        assert_eq!(a.function_error, None, "{:?}", a.payload);
        pids.insert(a.payload["pid"].as_u64().unwrap());
    }
    assert_eq!(pids.len(), 3);
    Arc::into_inner(s).unwrap().stop().await;
}

async fn put(s: &Sluice, data: &str) {
    s.kinesis()
        .put_record()
        .stream_name("flow")
        .partition_key("k")
        .data(Blob::new(data.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

async fn map(s: &Sluice, function: &str, batch: i32) {
    s.lambda()
        .create_event_source_mapping()
        .function_name(function)
        .event_source_arn("arn:aws:kinesis:us-east-1:000000000000:stream/flow")
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(batch)
        .maximum_retry_attempts(1)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
}

fn data(report: &serde_json::Value) -> Vec<String> {
    report["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kinesis_mapping_honours_batch_item_failures_from_a_python_handler() {
    let mut r = recorder().await;
    let s = start(&r.url, "/nonexistent").await;
    for d in ["r0", "r1", "fail", "r3"] {
        put(&s, d).await;
    }
    map(&s, "partial", 4).await;
    assert_eq!(data(&r.next().await), ["r0", "r1", "fail", "r3"]);
    // Checkpointed before the failed item; the retry starts there.
    assert_eq!(data(&r.next().await), ["fail", "r3"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_under_a_mapping_is_retried_on_a_new_instance() {
    let mut r = recorder().await;
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("crashed");
    let s = start(&r.url, &marker.to_string_lossy()).await;
    put(&s, "a").await;
    put(&s, "b").await;
    map(&s, "crash_once", 10).await;
    let first = r.next().await;
    assert_eq!(first["crashing"], true);
    assert_eq!(data(&first), ["a", "b"]);
    let retry = r.next().await;
    assert_eq!(retry["crashing"], false);
    assert_eq!(data(&retry), ["a", "b"]);
    assert_ne!(retry["pid"], first["pid"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_runtime_rust_handler_runs_with_lambdas_contract() {
    let r = recorder().await;
    let s = start(&r.url, "/nonexistent").await;
    let a = invoke(&s, "rust", serde_json::json!({"n": 1})).await;
    assert_eq!(a.function_error, None, "{:?}", a.payload);
    assert_eq!(a.payload["event"], serde_json::json!({"n": 1}));
    assert_eq!(a.payload["request_id"], a.request_id.as_str());
    assert_eq!(
        a.payload["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:rust"
    );
    assert_eq!(a.payload["env"]["AWS_LAMBDA_FUNCTION_NAME"], "rust");
    assert!(a.log.contains("rust handler got {\"n\":1}\n"), "{}", a.log);
    let b = invoke(&s, "rust", serde_json::json!({"n": 2})).await;
    assert_eq!(a.payload["pid"], b.payload["pid"], "a warm instance");

    let refused = invoke(
        &s,
        "rust",
        serde_json::json!({"action": "error", "why": "odd"}),
    )
    .await;
    assert_eq!(refused.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(refused.payload["errorMessage"], "refused: odd");
    assert!(refused.payload["errorType"].is_string());

    let slow = invoke(
        &s,
        "rust",
        serde_json::json!({"action": "sleep", "seconds": 10}),
    )
    .await;
    assert_eq!(slow.payload["errorType"], "Sandbox.Timedout");
    assert!(
        slow.payload["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 2.00 seconds")
    );

    let crashed = invoke(
        &s,
        "rust",
        serde_json::json!({"action": "crash", "code": 6}),
    )
    .await;
    assert_eq!(crashed.payload["errorType"], "Runtime.ExitError");
    assert!(
        crashed.log.contains("rust handler exiting\n"),
        "{}",
        crashed.log
    );
    let c = invoke(&s, "rust", serde_json::json!({})).await;
    assert_eq!(c.function_error, None);
    assert_ne!(c.payload["pid"], a.payload["pid"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kinesis_mapping_drives_the_rust_handler() {
    let mut r = recorder().await;
    let s = start(&r.url, "/nonexistent").await;
    for d in ["x0", "fail", "x2"] {
        put(&s, d).await;
    }
    map(&s, "rust", 3).await;
    assert_eq!(data(&r.next().await), ["x0", "fail", "x2"]);
    assert_eq!(data(&r.next().await), ["fail", "x2"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_function_can_be_a_lambda_invoke_endpoint() {
    // B runs the Python handlers; A's `url` functions are B's Invoke URLs (as they would be
    // `sam local start-lambda` or `cargo lambda watch`).
    let r = recorder().await;
    let b = start(&r.url, "/nonexistent").await;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("a.toml");
    let invocations =
        |name: &str| format!("{}/2015-03-31/functions/{name}/invocations", b.endpoint());
    std::fs::write(
        &config,
        format!(
            "[[functions]]\nname = \"remote\"\nurl = {:?}\n\n[[functions]]\nname = \"remote_fail\"\nurl = {:?}\n",
            invocations("echo"),
            invocations("fail")
        ),
    )
    .unwrap();
    let a = Sluice {
        server: start_server(&tmp.path().join("data"), &config).await,
        _tmp: tmp,
    };
    let ok = invoke(&a, "remote", serde_json::json!({"via": "a"})).await;
    assert_eq!(ok.function_error, None);
    assert_eq!(ok.payload["event"], serde_json::json!({"via": "a"}));
    assert_eq!(ok.payload["function_name"], "echo");

    let failed = invoke(&a, "remote_fail", serde_json::json!({"why": "remote"})).await;
    assert_eq!(failed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(failed.payload["errorType"], "BadInput");
    assert_eq!(failed.payload["errorMessage"], "bad input: remote");
    a.stop().await;
    b.stop().await;
}
