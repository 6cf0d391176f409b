//! Zip functions end to end through [`FunctionInvoker`]: real packages in a data dir, the
//! embedded Python and Node runtime clients, a `provided` bootstrap.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use sluice_core::function::{
    FunctionOrigin, Invocation, InvokeContext, InvokeReport, InvokeRequest, Invoker,
};
use zip::write::SimpleFileOptions;

use super::*;
use crate::invoke::{FunctionInvoker, ProcessInvoker, ProcessSettings};

fn package(files: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, content) in files {
        let opts = SimpleFileOptions::default().unix_permissions(*mode);
        w.start_file(*name, opts).unwrap();
        w.write_all(content.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

struct Fixture {
    _root: tempfile::TempDir,
    dir: DataDir,
    invoker: FunctionInvoker,
    processes: ProcessInvoker,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let dir = DataDir::open(root.path()).unwrap();
    let processes = ProcessInvoker::new(ProcessSettings {
        init_limit: Duration::from_secs(20),
        ..ProcessSettings::default()
    });
    Fixture {
        invoker: FunctionInvoker::with_processes(processes.clone()).with_code(dir.clone()),
        processes,
        dir,
        _root: root,
    }
}

impl Fixture {
    /// Stores `zip` as function `name`'s package (as CreateFunction does) and returns the
    /// function.
    fn function(&self, name: &str, runtime: &str, handler: &str, zip: &[u8]) -> FunctionRecord {
        let sha = format!("{:x}", zip.len()) + &uuid::Uuid::new_v4().simple().to_string();
        let path = sluice_store::code::zip_path(&self.dir, name, &sha);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, zip).unwrap();
        FunctionRecord {
            name: name.into(),
            code: FunctionCode::Zip {
                sha256: sha,
                size: zip.len() as u64,
            },
            origin: FunctionOrigin::Api,
            runtime: Some(runtime.into()),
            handler: Some(handler.into()),
            role: String::new(),
            description: String::new(),
            timeout: Duration::from_secs(10),
            memory_size: 256,
            environment: BTreeMap::from([("GREETING".into(), "hi".into())]),
            last_modified: String::new(),
            revision_id: String::new(),
            version: None,
        }
    }

    async fn call(&self, f: &FunctionRecord, event: serde_json::Value) -> InvokeReport {
        let request = InvokeRequest {
            function: f.clone(),
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{}", f.name),
            payload: event.to_string().into_bytes(),
            timeout: f.timeout,
        };
        tokio::time::timeout(
            Duration::from_secs(60),
            self.invoker.invoke_with(request, InvokeContext::default()),
        )
        .await
        .expect("invocation hung")
    }
}

fn ok(report: &InvokeReport) -> serde_json::Value {
    match report.outcome.as_ref().unwrap() {
        Invocation::Ok(b) => serde_json::from_slice(b).unwrap(),
        other => panic!("expected a result, got {other:?}"),
    }
}

fn error(report: &InvokeReport) -> (String, serde_json::Value) {
    match report.outcome.as_ref().unwrap() {
        Invocation::FunctionError {
            error_type,
            payload,
        } => (error_type.clone(), serde_json::from_slice(payload).unwrap()),
        other => panic!("expected a function error, got {other:?}"),
    }
}

const PY_APP: &str = r#"
import os, time
import helper

def handler(event, context):
    action = event.get("action")
    if action == "fail":
        raise ValueError("bad input: %s" % event.get("n"))
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "unserializable":
        return {"x": object()}
    print("handling", event.get("n"), flush=True)
    return {
        "n": event.get("n"),
        "helper": helper.VALUE,
        "greeting": os.environ.get("GREETING"),
        "function": context.function_name,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 10000,
        "memory": context.memory_limit_in_mb,
        "cwd": os.getcwd(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
    }
"#;

#[tokio::test]
async fn python_zip_returns_results_raises_errors_and_keeps_its_instance() {
    let fx = fixture();
    let zip = package(&[
        ("app.py", 0o644, PY_APP),
        ("helper.py", 0o644, "VALUE = 42\n"),
    ]);
    let f = fx.function("py", "python3.12", "app.handler", &zip);
    let first = fx.call(&f, serde_json::json!({"n": 1})).await;
    let out = ok(&first);
    assert_eq!(out["n"], 1);
    assert_eq!(out["helper"], 42);
    assert_eq!(out["greeting"], "hi");
    assert_eq!(out["function"], "py");
    assert_eq!(
        out["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:py"
    );
    assert_eq!(
        out["request_id"],
        first.request_id.clone().unwrap().as_str()
    );
    assert_eq!(out["remaining_ok"], true);
    assert_eq!(out["memory"], "256");
    assert_eq!(out["cwd"], out["task_root"]);
    let folder = sluice_store::code::unpacked_path(
        &fx.dir,
        "py",
        match &f.code {
            FunctionCode::Zip { sha256, .. } => sha256,
            _ => unreachable!(),
        },
    );
    assert_eq!(out["task_root"], folder.to_string_lossy().as_ref());
    let tail = String::from_utf8_lossy(first.log_tail.as_deref().unwrap()).into_owned();
    assert!(tail.contains("handling 1"), "{tail}");

    let failed = fx
        .call(&f, serde_json::json!({"action": "fail", "n": 2}))
        .await;
    let (error_type, doc) = error(&failed);
    assert_eq!(error_type, "ValueError");
    assert_eq!(doc["errorMessage"], "bad input: 2");
    assert_eq!(doc["errorType"], "ValueError");
    let trace = doc["stackTrace"].as_array().unwrap();
    assert!(
        trace.iter().any(|l| l.as_str().unwrap().contains("app.py")),
        "{doc}"
    );
    let tail = String::from_utf8_lossy(failed.log_tail.as_deref().unwrap()).into_owned();
    assert!(tail.contains("[ERROR] ValueError: bad input: 2"), "{tail}");

    let (error_type, doc) = error(
        &fx.call(&f, serde_json::json!({"action": "unserializable"}))
            .await,
    );
    assert_eq!(error_type, "Runtime.MarshalError");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Unable to marshal response")
    );

    // The error did not cost the instance: the same process answers again.
    assert_eq!(ok(&fx.call(&f, serde_json::json!({"n": 3})).await)["n"], 3);
    assert_eq!(fx.processes.idle_instances("py"), 1);
    fx.processes.shutdown().await;
}

#[tokio::test]
async fn python_zip_import_errors_and_timeouts_are_function_errors() {
    let fx = fixture();
    let zip = package(&[
        ("app.py", 0o644, PY_APP),
        ("helper.py", 0o644, "VALUE = 1\n"),
    ]);
    let missing = fx.function("nomod", "python3.11", "nothere.handler", &zip);
    let (error_type, doc) = error(&fx.call(&missing, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.ImportModuleError");
    assert_eq!(
        doc["errorMessage"],
        "Unable to import module 'nothere': No module named 'nothere'"
    );
    let no_fn = fx.function("nofn", "python3.11", "app.nope", &zip);
    let (error_type, doc) = error(&fx.call(&no_fn, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.HandlerNotFound");
    assert_eq!(
        doc["errorMessage"],
        "Handler 'nope' missing on module 'app'"
    );

    let mut slow = fx.function("slow", "python3.11", "app.handler", &zip);
    slow.timeout = Duration::from_secs(1);
    let (error_type, doc) = error(
        &fx.call(&slow, serde_json::json!({"action": "sleep", "seconds": 30}))
            .await,
    );
    assert_eq!(error_type, "Sandbox.Timedout");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{doc}"
    );
    fx.processes.shutdown().await;
}

#[tokio::test]
async fn node_zip_runs_async_callback_and_module_handlers() {
    let fx = fixture();
    let zip = package(&[
        (
            "index.js",
            0o644,
            r#"
exports.handler = async (event, context) => {
  if (event.fail) throw new TypeError("nope " + event.n);
  return { n: event.n, fn: context.functionName, env: process.env.GREETING, id: context.awsRequestId };
};
exports.cb = (event, context, callback) => { setTimeout(() => callback(null, { cb: event.n }), 1); };
"#,
        ),
        (
            "esm.mjs",
            0o644,
            "export const handler = async (event) => ({ esm: event.n });\n",
        ),
    ]);
    let f = fx.function("node", "nodejs20.x", "index.handler", &zip);
    let report = fx.call(&f, serde_json::json!({"n": 7})).await;
    let out = ok(&report);
    assert_eq!(out["n"], 7);
    assert_eq!(out["fn"], "node");
    assert_eq!(out["env"], "hi");
    assert_eq!(out["id"], report.request_id.clone().unwrap().as_str());

    let (error_type, doc) = error(&fx.call(&f, serde_json::json!({"fail": true, "n": 8})).await);
    assert_eq!(error_type, "TypeError");
    assert_eq!(doc["errorMessage"], "nope 8");
    assert!(
        doc["trace"][0]
            .as_str()
            .unwrap()
            .starts_with("TypeError: nope 8")
    );

    let cb = fx.function("cb", "nodejs22.x", "index.cb", &zip);
    assert_eq!(
        ok(&fx.call(&cb, serde_json::json!({"n": 9})).await)["cb"],
        9
    );
    let esm = fx.function("esm", "nodejs20.x", "esm.handler", &zip);
    assert_eq!(
        ok(&fx.call(&esm, serde_json::json!({"n": 10})).await)["esm"],
        10
    );
    let missing = fx.function("missing", "nodejs20.x", "index.absent", &zip);
    let (error_type, _) = error(&fx.call(&missing, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.HandlerNotFound");
    fx.processes.shutdown().await;
}

#[tokio::test]
async fn provided_zip_runs_its_executable_bootstrap_and_survives_a_lost_folder() {
    let fx = fixture();
    // A `bootstrap` that is a runtime client itself (Sluice's Python one, with a shebang).
    let bootstrap = format!("#!/usr/bin/env python3\n{PYTHON_BOOTSTRAP}");
    let zip = package(&[
        ("bootstrap", 0o755, &bootstrap),
        ("app.py", 0o644, PY_APP),
        ("helper.py", 0o644, "VALUE = 7\n"),
    ]);
    let f = fx.function("custom", "provided.al2023", "app.handler", &zip);
    assert_eq!(
        ok(&fx.call(&f, serde_json::json!({"n": 1})).await)["helper"],
        7
    );

    // The folder is gone (a wiped disk, a restart): unpacked again from the archive.
    fx.processes.shutdown().await;
    let FunctionCode::Zip { sha256, .. } = &f.code else {
        unreachable!()
    };
    std::fs::remove_dir_all(sluice_store::code::unpacked_path(&fx.dir, "custom", sha256)).unwrap();
    let processes = ProcessInvoker::default();
    let fx2 = Fixture {
        invoker: FunctionInvoker::with_processes(processes.clone()).with_code(fx.dir.clone()),
        processes,
        dir: fx.dir.clone(),
        _root: tempfile::tempdir().unwrap(),
    };
    assert_eq!(ok(&fx2.call(&f, serde_json::json!({"n": 2})).await)["n"], 2);

    // Without the executable bit, the bootstrap cannot start: Lambda's error.
    let zip = package(&[("bootstrap", 0o644, &bootstrap)]);
    let plain = fx2.function("plain", "provided.al2", "x", &zip);
    let (error_type, _) = error(&fx2.call(&plain, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.InvalidEntrypoint");
    fx2.processes.shutdown().await;
}

#[tokio::test]
async fn new_code_retires_the_old_instances_and_unknown_runtimes_are_refused() {
    let fx = fixture();
    let v1 = package(&[("app.py", 0o644, "def handler(e, c):\n    return 'one'\n")]);
    let v2 = package(&[("app.py", 0o644, "def handler(e, c):\n    return 'two'\n")]);
    let f1 = fx.function("f", "python3.12", "app.handler", &v1);
    assert_eq!(ok(&fx.call(&f1, serde_json::json!({})).await), "one");
    let f2 = fx.function("f", "python3.12", "app.handler", &v2);
    assert_eq!(ok(&fx.call(&f2, serde_json::json!({})).await), "two");
    assert_eq!(fx.processes.idle_instances("f"), 1);

    let java = fx.function("j", "java21", "x::y", &v1);
    let report = fx.call(&java, serde_json::json!({})).await;
    let err = report.outcome.unwrap_err();
    assert!(matches!(err, InvokeError::Unsupported(..)), "{err}");
    assert!(
        err.to_string()
            .contains("runtime 'java21' is not supported")
    );
    fx.processes.shutdown().await;
}

#[test]
fn unpack_missing_restores_the_folders_of_functions_and_versions() {
    let fx = fixture();
    let store = sluice_store::MetaStore::open(&fx.dir).unwrap();
    let zip = package(&[("app.py", 0o644, "def handler(e, c):\n    return 1\n")]);
    let f = fx.function("kept", "python3.12", "app.handler", &zip);
    store.put_function(&f).unwrap();
    let v1 = store
        .publish_version("kept", |l, _, _| Ok::<_, ()>(Some(l.clone())))
        .unwrap()
        .unwrap()
        .unwrap();
    let FunctionCode::Zip { sha256, .. } = &v1.code else {
        unreachable!()
    };
    let folder = sluice_store::code::unpacked_path(&fx.dir, "kept", sha256);
    assert!(!folder.exists());
    unpack_missing(&store, &fx.dir);
    assert!(folder.join("app.py").is_file());
}
