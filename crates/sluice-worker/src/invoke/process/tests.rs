//! The process invoker against a minimal Runtime API client (Python's standard library
//! only, so these tests need no package): instances, outcomes, logs, reaping, shutdown.
//! awslambdaric itself is exercised by the integration and compat suites.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_core::function::{FunctionOrigin, FunctionRecord};

use super::*;

/// A Runtime API client: takes events, acts on `event["action"]`, answers.
const RUNTIME: &str = r#"
import json, os, subprocess, sys, time, urllib.request
base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"

def post(path, doc, error_type=None):
    req = urllib.request.Request(base + path, data=json.dumps(doc).encode(), method="POST")
    if error_type:
        req.add_header("Lambda-Runtime-Function-Error-Type", error_type)
    return urllib.request.urlopen(req).status

if len(sys.argv) > 1 and sys.argv[1] == "slow-init":
    print("initialising slowly", flush=True)
    time.sleep(600)

if len(sys.argv) > 1 and sys.argv[1] == "init-error":
    print("init failing", flush=True)
    post("/init/error", {"errorMessage": "no config", "errorType": "Runtime.ConfigError"}, "Runtime.ConfigError")
    sys.exit(1)

while True:
    r = urllib.request.urlopen(base + "/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(r.read())
    action = event.get("action", "echo")
    print("got " + rid, flush=True)
    if action == "sleep":
        time.sleep(event["seconds"])
    elif action == "crash":
        print("crashing", file=sys.stderr, flush=True)
        os._exit(3)
    elif action == "error":
        post("/invocation/" + rid + "/error",
             {"errorMessage": "it broke", "errorType": "ValueError", "stackTrace": []}, "Runtime.Unknown")
        continue
    elif action == "log":
        for i in range(event["lines"]):
            print("line %04d %s" % (i, "x" * 60), flush=True)
    elif action == "spawn":
        child = subprocess.Popen(["sleep", "600"])
        event["child"] = child.pid
    result = {
        "pid": os.getpid(),
        "event": event,
        "cwd": os.getcwd(),
        "deadline": r.headers["Lambda-Runtime-Deadline-Ms"],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "TZ", "MY_"))},
    }
    post("/invocation/" + rid + "/response", result)
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    script: String,
    workdir: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("runtime.py");
    std::fs::write(&script, RUNTIME).unwrap();
    Fixture {
        script: script.to_string_lossy().into_owned(),
        workdir: dir.path().to_string_lossy().into_owned(),
        _dir: dir,
    }
}

impl Fixture {
    fn function(&self, name: &str, args: &[&str], concurrency: Option<u32>) -> FunctionRecord {
        let mut command = vec!["python3".to_owned(), self.script.clone()];
        command.extend(args.iter().map(|a| (*a).to_owned()));
        FunctionRecord {
            name: name.into(),
            code: FunctionCode::Command {
                command,
                workdir: Some(self.workdir.clone()),
                concurrency,
            },
            origin: FunctionOrigin::Config,
            runtime: None,
            handler: Some("runtime.handler".into()),
            role: String::new(),
            description: String::new(),
            timeout: Duration::from_secs(3),
            memory_size: 256,
            environment: BTreeMap::from([("MY_SETTING".into(), "on".into())]),
            last_modified: String::new(),
            revision_id: String::new(),
            version: None,
        }
    }
}

fn request(f: &FunctionRecord, event: serde_json::Value) -> InvokeRequest {
    InvokeRequest {
        function: f.clone(),
        function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{}", f.name),
        payload: event.to_string().into_bytes(),
        timeout: f.timeout,
    }
}

fn invoker() -> ProcessInvoker {
    ProcessInvoker::new(ProcessSettings {
        endpoint: Some("http://127.0.0.1:9".into()),
        region: "eu-west-1".into(),
        idle_timeout: Duration::from_secs(300),
        init_limit: Duration::from_secs(10),
    })
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

async fn call(inv: &ProcessInvoker, f: &FunctionRecord, event: serde_json::Value) -> InvokeReport {
    tokio::time::timeout(
        Duration::from_secs(30),
        inv.invoke_with(request(f, event), InvokeContext::default()),
    )
    .await
    .expect("invocation hung")
}

/// Waits (deadline 20 s) until `n` instances have ended.
async fn ended(inv: &ProcessInvoker, n: u64) {
    let mut rx = inv.ended_instances();
    tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|e| *e >= n))
        .await
        .expect("instances did not end in time")
        .unwrap();
}

fn gone(pid: u64) -> bool {
    // Gone, or a zombie waiting for init to reap it: not running either way.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_instance_answers_with_lambdas_environment() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("envy", &[], None);
    let first = call(&inv, &f, serde_json::json!({"n": 1})).await;
    let a = ok(&first);
    assert_eq!(a["event"], serde_json::json!({"n": 1}));
    let env = &a["env"];
    let expected = [
        ("AWS_LAMBDA_FUNCTION_NAME", "envy"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/envy"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("_HANDLER", "runtime.handler"),
        ("TZ", ":UTC"),
        ("MY_SETTING", "on"),
    ];
    for (k, v) in expected {
        assert_eq!(env[k], v, "{k}");
    }
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("/[$LATEST]")
    );
    let root = std::fs::canonicalize(&fx.workdir).unwrap();
    assert_eq!(
        std::fs::canonicalize(a["cwd"].as_str().unwrap()).unwrap(),
        root
    );
    assert_eq!(
        std::fs::canonicalize(env["LAMBDA_TASK_ROOT"].as_str().unwrap()).unwrap(),
        root
    );

    let second = call(&inv, &f, serde_json::json!({"n": 2})).await;
    let b = ok(&second);
    assert_eq!(b["pid"], a["pid"], "the warm instance is reused");
    assert_ne!(first.request_id, second.request_id);
    assert_eq!(inv.idle_instances("envy"), 1);
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_request_id_and_client_context_reach_the_function() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("ids", &[], None);
    let report = inv
        .invoke_with(
            request(&f, serde_json::json!({"action": "log", "lines": 1})),
            InvokeContext {
                request_id: Some("c0ffee00-0000-4000-8000-000000000001".into()),
                client_context: Some(r#"{"custom":{}}"#.into()),
            },
        )
        .await;
    assert_eq!(
        report.request_id.as_deref(),
        Some("c0ffee00-0000-4000-8000-000000000001")
    );
    let tail = String::from_utf8(report.log_tail.clone().unwrap()).unwrap();
    assert!(
        tail.starts_with("got c0ffee00-0000-4000-8000-000000000001\n"),
        "{tail}"
    );
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_tail_is_the_invocations_last_4kb() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("chatty", &[], None);
    let small = call(&inv, &f, serde_json::json!({"action": "log", "lines": 2})).await;
    let rid = small.request_id.clone().unwrap();
    let tail = String::from_utf8(small.log_tail.unwrap()).unwrap();
    let x60 = "x".repeat(60);
    assert_eq!(
        tail,
        format!("got {rid}\nline 0000 {x60}\nline 0001 {x60}\n")
    );

    let big = call(&inv, &f, serde_json::json!({"action": "log", "lines": 200})).await;
    let tail = String::from_utf8(big.log_tail.unwrap()).unwrap();
    assert_eq!(tail.len(), log::TAIL_BYTES);
    assert!(tail.ends_with(&format!("line 0199 {x60}\n")));
    assert!(!tail.contains("got "), "older lines are cut");
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_post_is_a_function_error_and_the_instance_stays() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("erring", &[], None);
    let a = ok(&call(&inv, &f, serde_json::json!({})).await);
    let report = call(&inv, &f, serde_json::json!({"action": "error"})).await;
    let (error_type, doc) = error(&report);
    assert_eq!(error_type, "ValueError");
    assert_eq!(
        doc,
        serde_json::json!({"errorMessage": "it broke", "errorType": "ValueError", "stackTrace": []})
    );
    let b = ok(&call(&inv, &f, serde_json::json!({})).await);
    assert_eq!(a["pid"], b["pid"]);
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_kills_the_instance() {
    let fx = fixture();
    let inv = invoker();
    let mut f = fx.function("sleepy", &[], None);
    f.timeout = Duration::from_secs(1);
    let a = ok(&call(&inv, &f, serde_json::json!({})).await);
    let report = call(
        &inv,
        &f,
        serde_json::json!({"action": "sleep", "seconds": 30}),
    )
    .await;
    let rid = report.request_id.clone().unwrap();
    let (error_type, doc) = error(&report);
    assert_eq!(error_type, "Sandbox.Timedout");
    assert_eq!(doc["errorType"], "Sandbox.Timedout");
    let msg = doc["errorMessage"].as_str().unwrap();
    let (stamp, rest) = msg.split_once(' ').unwrap();
    assert_eq!(rest, format!("{rid} Task timed out after 1.00 seconds"));
    assert!(
        stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        "{stamp}"
    );
    let tail = String::from_utf8(report.log_tail.unwrap()).unwrap();
    assert!(tail.ends_with(&format!("{msg}\n")), "{tail}");
    ended(&inv, 1).await;
    assert!(gone(a["pid"].as_u64().unwrap()));
    let b = ok(&call(&inv, &f, serde_json::json!({})).await);
    assert_ne!(a["pid"], b["pid"], "a fresh instance replaces it");
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_is_an_exit_error_and_the_instance_is_replaced() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("crashy", &[], None);
    let a = ok(&call(&inv, &f, serde_json::json!({})).await);
    let report = call(&inv, &f, serde_json::json!({"action": "crash"})).await;
    let rid = report.request_id.clone().unwrap();
    let (error_type, doc) = error(&report);
    assert_eq!(error_type, "Runtime.ExitError");
    assert_eq!(
        doc,
        serde_json::json!({
            "errorMessage": format!("RequestId: {rid} Error: Runtime exited with error: exit status 3"),
            "errorType": "Runtime.ExitError",
        })
    );
    let tail = String::from_utf8(report.log_tail.unwrap()).unwrap();
    assert!(
        tail.starts_with(&format!("got {rid}\ncrashing\n")),
        "{tail}"
    );
    let b = ok(&call(&inv, &f, serde_json::json!({})).await);
    assert_ne!(a["pid"], b["pid"]);
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_error_is_the_runtimes_document() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("broken", &["init-error"], None);
    for _ in 0..2 {
        let report = call(&inv, &f, serde_json::json!({})).await;
        let (error_type, doc) = error(&report);
        assert_eq!(error_type, "Runtime.ConfigError");
        assert_eq!(
            doc,
            serde_json::json!({"errorMessage": "no config", "errorType": "Runtime.ConfigError"})
        );
    }
    assert_eq!(
        inv.idle_instances("broken"),
        0,
        "failed instances are not kept"
    );
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_phase_over_the_limit_is_a_timeout() {
    let fx = fixture();
    let inv = ProcessInvoker::new(ProcessSettings {
        init_limit: Duration::from_millis(500),
        ..ProcessSettings::default()
    });
    let f = fx.function("stuck", &["slow-init"], None);
    let report = call(&inv, &f, serde_json::json!({})).await;
    let rid = report.request_id.clone().unwrap();
    let (error_type, doc) = error(&report);
    assert_eq!(error_type, "Sandbox.Timedout");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" {rid} Init timed out after 0.50 seconds")),
        "{doc}"
    );
    ended(&inv, 1).await;
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_start_is_a_function_error() {
    let fx = fixture();
    let inv = invoker();
    let mut f = fx.function("missing", &[], None);
    f.code = FunctionCode::Command {
        command: vec!["./no-such-bootstrap".into()],
        workdir: Some(fx.workdir.clone()),
        concurrency: None,
    };
    let (error_type, doc) = error(&call(&inv, &f, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.InvalidEntrypoint");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no-such-bootstrap")
    );

    f.code = FunctionCode::Command {
        command: vec!["python3".into()],
        workdir: Some(format!("{}/nowhere", fx.workdir)),
        concurrency: None,
    };
    let (error_type, _) = error(&call(&inv, &f, serde_json::json!({})).await);
    assert_eq!(error_type, "Runtime.InvalidWorkingDir");
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_run_on_separate_instances_up_to_the_limit() {
    let fx = fixture();
    let inv = invoker();
    let slow = serde_json::json!({"action": "sleep", "seconds": 0.5});
    let f = fx.function("wide", &[], Some(3));
    let pids = pids_of(&inv, &f, &slow, 3).await;
    assert_eq!(pids.len(), 3, "three at once need three instances");
    assert_eq!(inv.idle_instances("wide"), 3);

    // Concurrency 1: the second invocation waits for the first one's instance.
    let g = fx.function("narrow", &[], Some(1));
    let started = Instant::now();
    let pids = pids_of(&inv, &g, &slow, 2).await;
    assert_eq!(pids.len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    inv.shutdown().await;
}

/// Runs `n` invocations at once; the distinct pids that answered.
async fn pids_of(
    inv: &ProcessInvoker,
    f: &FunctionRecord,
    event: &serde_json::Value,
    n: usize,
) -> std::collections::HashSet<u64> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (inv, f, event) = (inv.clone(), f.clone(), event.clone());
            tokio::spawn(async move { call(&inv, &f, event).await })
        })
        .collect();
    let mut pids = std::collections::HashSet::new();
    for t in tasks {
        pids.insert(ok(&t.await.unwrap())["pid"].as_u64().unwrap());
    }
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instances_are_reaped() {
    let fx = fixture();
    let inv = ProcessInvoker::new(ProcessSettings {
        idle_timeout: Duration::from_millis(200),
        ..ProcessSettings::default()
    });
    let f = fx.function("idler", &[], None);
    let a = ok(&call(&inv, &f, serde_json::json!({})).await);
    ended(&inv, 1).await;
    assert_eq!(inv.idle_instances("idler"), 0);
    assert!(gone(a["pid"].as_u64().unwrap()));
    let b = ok(&call(&inv, &f, serde_json::json!({})).await);
    assert_ne!(a["pid"], b["pid"]);
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_function_gets_new_instances() {
    let fx = fixture();
    let inv = invoker();
    let mut f = fx.function("changing", &[], None);
    let a = ok(&call(&inv, &f, serde_json::json!({})).await);
    f.environment.insert("MY_SETTING".into(), "off".into());
    let b = ok(&call(&inv, &f, serde_json::json!({})).await);
    assert_ne!(a["pid"], b["pid"]);
    assert_eq!(b["env"]["MY_SETTING"], "off");
    ended(&inv, 1).await;
    inv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_invocations_end_then_kills_every_process() {
    let fx = fixture();
    let inv = invoker();
    let f = fx.function("stopping", &[], Some(2));
    // Two instances; one of them started a helper process in its group.
    let spawner = tokio::spawn({
        let (inv, f) = (inv.clone(), f.clone());
        async move { call(&inv, &f, serde_json::json!({"action": "spawn"})).await }
    });
    let other = call(
        &inv,
        &f,
        serde_json::json!({"action": "sleep", "seconds": 0.3}),
    )
    .await;
    let spawner = ok(&spawner.await.unwrap());
    let helper = spawner["event"]["child"].as_u64().unwrap();
    let pids = [
        spawner["pid"].as_u64().unwrap(),
        ok(&other)["pid"].as_u64().unwrap(),
    ];
    assert_ne!(pids[0], pids[1]);
    assert!(!gone(helper));
    assert_eq!(inv.idle_instances("stopping"), 2);

    // One invocation in flight when shutdown starts: its first poll takes an idle instance
    // and hands it the event (nothing before that waits).
    let mut busy = Box::pin(call(
        &inv,
        &f,
        serde_json::json!({"action": "sleep", "seconds": 0.3}),
    ));
    std::future::poll_fn(|cx| {
        assert!(busy.as_mut().poll(cx).is_pending());
        std::task::Poll::Ready(())
    })
    .await;
    assert_eq!(inv.idle_instances("stopping"), 1);
    let (busy, ()) = tokio::join!(busy, inv.shutdown());
    let busy_pid = ok(&busy)["pid"].as_u64().unwrap();
    assert!(
        pids.contains(&busy_pid),
        "the in-flight invocation ended normally"
    );
    for pid in pids {
        assert!(gone(pid), "{pid} still runs");
    }
    assert!(gone(helper), "the instance's process group is killed");
    let after = call(&inv, &f, serde_json::json!({})).await;
    assert!(matches!(after.outcome, Err(InvokeError::Unreachable(..))));
}
