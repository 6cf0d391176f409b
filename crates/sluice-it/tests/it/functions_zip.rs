//! Zip functions through aws-sdk-lambda: CreateFunction with a ZipFile, Invoke, and what
//! CreateFunction refuses (unsafe or broken archives, runtimes Sluice cannot run).

use std::io::Write;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, LogType, Runtime};
use zip::write::SimpleFileOptions;

use crate::harness::*;

/// A zip of `(name, unix mode, content)`.
pub fn package(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, content) in files {
        w.start_file(*name, SimpleFileOptions::default().unix_permissions(*mode))
            .unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub const PY_HANDLER: &str = r#"
import os, time

def handler(event, context):
    if event.get("fail"):
        raise KeyError("missing " + event["fail"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("processing", event.get("n"))
    return {"n": event.get("n"), "version": context.function_version,
            "colour": os.environ.get("COLOUR"), "arn": context.invoked_function_arn}
"#;

pub async fn create_python(c: &aws_sdk_lambda::Client, name: &str, code: &[u8], timeout: i32) {
    c.create_function()
        .function_name(name)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .timeout(timeout)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("COLOUR", "blue")
                .build(),
        )
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
        .unwrap();
}

pub async fn invoke(
    c: &aws_sdk_lambda::Client,
    name: &str,
    event: serde_json::Value,
) -> aws_sdk_lambda::operation::invoke::InvokeOutput {
    c.invoke()
        .function_name(name)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .unwrap()
}

pub fn json(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> serde_json::Value {
    serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_zip_returns_raises_and_times_out() {
    let (_f, url) = FakeFunction::start().await;
    let mut s = Sluice::start(&url).await;
    let c = s.lambda();
    let zip = package(&[("app.py", 0o644, PY_HANDLER.as_bytes())]);
    create_python(&c, "py", &zip, 1).await;

    let out = c
        .invoke()
        .function_name("py")
        .payload(Blob::new(r#"{"n": 1}"#))
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(
        json(&out),
        serde_json::json!({"n": 1, "version": "$LATEST", "colour": "blue",
            "arn": "arn:aws:lambda:us-east-1:000000000000:function:py"})
    );
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let log = base64_decode(out.log_result().unwrap());
    assert!(log.contains("processing 1"), "{log}");

    let out = invoke(&c, "py", serde_json::json!({"fail": "key"})).await;
    assert_eq!(out.function_error(), Some("Unhandled"));
    let doc = json(&out);
    assert_eq!(doc["errorType"], "KeyError");
    assert_eq!(doc["errorMessage"], "'missing key'");
    assert!(!doc["stackTrace"].as_array().unwrap().is_empty());

    let out = invoke(&c, "py", serde_json::json!({"sleep": 30})).await;
    assert_eq!(out.function_error(), Some("Unhandled"));
    let doc = json(&out);
    assert_eq!(doc["errorType"], "Sandbox.Timedout");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds")
    );

    // The code survives a restart, even with its unpacked folder gone.
    s.restart().await;
    for entry in std::fs::read_dir(s.dir.join("functions/py")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        }
    }
    let c = s.lambda();
    assert_eq!(
        json(&invoke(&c, "py", serde_json::json!({"n": 2})).await)["n"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provided_zip_runs_its_bootstrap_binary() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let binary = std::fs::read(crate::functions_runtime::testfn()).unwrap();
    let zip = package(&[("bootstrap", 0o755, &binary)]);
    c.create_function()
        .function_name("rust")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .unwrap();
    let out = invoke(&c, "rust", serde_json::json!({"hello": "zip"})).await;
    assert_eq!(out.function_error(), None);
    let doc = json(&out);
    assert_eq!(doc["event"]["hello"], "zip", "{doc}");
    let out = invoke(
        &c,
        "rust",
        serde_json::json!({"action": "error", "why": "test"}),
    )
    .await;
    assert_eq!(out.function_error(), Some("Unhandled"));
    assert_eq!(json(&out)["errorMessage"], "refused: test");
}

fn base64_decode(s: &str) -> String {
    use base64::Engine;
    String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(s).unwrap())
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_function_refuses_what_it_could_not_run() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let good = package(&[("app.py", 0o644, PY_HANDLER.as_bytes())]);
    let mut slip = package(&[("xx/evil.py", 0o644, b"x = 1\n")]);
    for i in 0..slip.len() - 3 {
        if &slip[i..i + 3] == b"xx/" {
            slip[i..i + 3].copy_from_slice(b"../");
        }
    }
    let unzip = "Could not unzip uploaded file. Please check your file, then try to upload again.";
    type Case<'a> = (&'a str, Option<Runtime>, Option<&'a str>, Vec<u8>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "slip",
            Some(Runtime::Python312),
            Some("app.handler"),
            slip,
            "Could not unzip uploaded file. Please check your file, then try to upload again. Sluice refuses the entry '../evil.py': its path leaves the function's folder.",
        ),
        (
            "corrupt",
            Some(Runtime::Python312),
            Some("app.handler"),
            b"PK\x03\x04garbage".to_vec(),
            unzip,
        ),
        (
            "java",
            Some(Runtime::Java21),
            Some("example.Handler::handleRequest"),
            good.clone(),
            "The runtime parameter of java21 is not supported by Sluice for creating or updating functions. Supported runtimes: provided.al2023, provided.al2, provided, python3.9 to python3.14, nodejs18.x to nodejs24.x.",
        ),
        (
            "noruntime",
            None,
            Some("app.handler"),
            good.clone(),
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ),
        (
            "nohandler",
            Some(Runtime::Nodejs20x),
            None,
            good.clone(),
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ),
    ];
    for (name, runtime, handler, zip, message) in cases {
        let e = c
            .create_function()
            .function_name(name)
            .role("arn:aws:iam::000000000000:role/lambda-role")
            .set_runtime(runtime)
            .set_handler(handler.map(str::to_owned))
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("InvalidParameterValueException"), "{name}");
        assert_eq!(e.message(), Some(message), "{name}");
        let missing = c
            .get_function()
            .function_name(name)
            .send()
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Some("ResourceNotFoundException"), "{name}");
        assert!(!s.dir.join("functions").join(name).join("evil.py").exists());
    }
    assert!(!s.dir.join("functions/evil.py").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_code_and_configuration_apply_to_the_next_invocation() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let v1 = package(&[("app.py", 0o644, PY_HANDLER.as_bytes())]);
    create_python(&c, "upd", &v1, 3).await;
    assert_eq!(
        json(&invoke(&c, "upd", serde_json::json!({"n": 1})).await)["colour"],
        "blue"
    );
    let before = c
        .get_function_configuration()
        .function_name("upd")
        .send()
        .await
        .unwrap();

    // Code: a stale RevisionId changes nothing; the current one swaps the code.
    let v2 = package(&[(
        "app.py",
        0o644,
        b"def handler(event, context):\n    return {'code': 'v2'}\n\ndef other(event, context):\n    return 'other'\n",
    )]);
    let stale = c
        .update_function_code()
        .function_name("upd")
        .zip_file(Blob::new(v2.clone()))
        .revision_id("not-the-revision")
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Some("PreconditionFailedException"));
    assert_eq!(
        stale.message(),
        Some(
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )
    );
    assert_eq!(
        json(&invoke(&c, "upd", serde_json::json!({"n": 2})).await)["n"],
        2
    );
    // DryRun: checked and described, not applied.
    let dry = c
        .update_function_code()
        .function_name("upd")
        .zip_file(Blob::new(v2.clone()))
        .dry_run(true)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.code_size(), v2.len() as i64);
    assert_eq!(dry.revision_id(), before.revision_id());
    assert_eq!(
        json(&invoke(&c, "upd", serde_json::json!({"n": 3})).await)["n"],
        3
    );
    let updated = c
        .update_function_code()
        .function_name("upd")
        .zip_file(Blob::new(v2.clone()))
        .revision_id(before.revision_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.code_size(), v2.len() as i64);
    assert_ne!(updated.code_sha256(), before.code_sha256());
    assert_ne!(updated.revision_id(), before.revision_id());
    assert_eq!(
        json(&invoke(&c, "upd", serde_json::json!({})).await),
        serde_json::json!({"code": "v2"})
    );

    // Configuration: the handler, then environment and timeout.
    let cfg = c
        .update_function_configuration()
        .function_name("upd")
        .handler("app.other")
        .memory_size(512)
        .description("second")
        .send()
        .await
        .unwrap();
    assert_eq!(cfg.handler(), Some("app.other"));
    assert_eq!(cfg.memory_size(), Some(512));
    assert_eq!(cfg.description(), Some("second"));
    assert_eq!(cfg.code_sha256(), updated.code_sha256());
    assert_eq!(
        json(&invoke(&c, "upd", serde_json::json!({})).await),
        "other"
    );

    let bad = c
        .update_function_configuration()
        .function_name("upd")
        .memory_size(64)
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
    assert_eq!(
        bad.message(),
        Some(
            "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"
        )
    );
    let java = c
        .update_function_configuration()
        .function_name("upd")
        .runtime(Runtime::Java21)
        .send()
        .await
        .unwrap_err();
    assert_eq!(java.code(), Some("InvalidParameterValueException"));
    let stale = c
        .update_function_configuration()
        .function_name("upd")
        .timeout(9)
        .revision_id(before.revision_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Some("PreconditionFailedException"));
    let unchanged = c
        .get_function_configuration()
        .function_name("upd")
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.memory_size(), Some(512));
    assert_eq!(unchanged.timeout(), Some(3));
    assert_eq!(unchanged.runtime(), Some(&Runtime::Python312));
    assert_eq!(unchanged.revision_id(), cfg.revision_id());

    // A third package: the first one (used by nothing) is removed, the one it replaced kept.
    let v3 = package(&[("app.py", 0o644, b"def other(e, c):\n    return 'v3'\n")]);
    let third = c
        .update_function_code()
        .function_name("upd")
        .zip_file(Blob::new(v3))
        .send()
        .await
        .unwrap();
    let file = |sha: &str| sha.replace('/', "_").replace('+', "-").replace('=', "x") + ".zip";
    let mut zips: Vec<String> = std::fs::read_dir(s.dir.join("functions/upd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    zips.sort();
    let mut expected = vec![
        file(updated.code_sha256().unwrap()),
        file(third.code_sha256().unwrap()),
    ];
    expected.sort();
    assert_eq!(zips, expected);
    assert_eq!(json(&invoke(&c, "upd", serde_json::json!({})).await), "v3");

    // Functions of the config file change there.
    let e = c
        .update_function_configuration()
        .function_name("echo")
        .timeout(9)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        e.message(),
        Some("Function echo is declared in Sluice's config file; change it there.")
    );
    let e = c
        .update_function_code()
        .function_name("nope")
        .zip_file(Blob::new(v2))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

/// A handler that reports each event (and which code and version ran) to `REPORT_URL`.
fn reporting_handler(code: &str) -> String {
    format!(
        r#"
import json, os, urllib.request

def handler(event, context):
    doc = {{"code": "{code}", "version": context.function_version, "event": event}}
    req = urllib.request.Request(os.environ["REPORT_URL"], data=json.dumps(doc).encode(), method="POST")
    urllib.request.urlopen(req).read()
    return {{"code": "{code}"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_and_aliases_pick_the_code_that_runs_for_invoke_and_mappings() {
    let mut report = ScriptedFunction::start(std::sync::Arc::new(|_| (200, "{}".into()))).await;
    let s = Sluice::start(&report.url).await;
    let c = s.lambda();
    let v1 = package(&[("app.py", 0o644, reporting_handler("v1").as_bytes())]);
    let v2 = package(&[("app.py", 0o644, reporting_handler("v2").as_bytes())]);
    c.create_function()
        .function_name("ver")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("REPORT_URL", &report.url)
                .build(),
        )
        .code(FunctionCode::builder().zip_file(Blob::new(v1)).build())
        .send()
        .await
        .unwrap();
    let first = c
        .publish_version()
        .function_name("ver")
        .description("first")
        .send()
        .await
        .unwrap();
    assert_eq!(first.version(), Some("1"));
    assert_eq!(
        first.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:ver:1")
    );
    assert_eq!(first.description(), Some("first"));
    let updated = c
        .update_function_code()
        .function_name("ver")
        .zip_file(Blob::new(v2))
        .send()
        .await
        .unwrap();
    let bad_sha = c
        .publish_version()
        .function_name("ver")
        .code_sha256(first.code_sha256().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_sha.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        bad_sha.message().unwrap(),
        format!(
            "CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
            first.code_sha256().unwrap(),
            updated.code_sha256().unwrap()
        )
    );
    let second = c
        .publish_version()
        .function_name("ver")
        .code_sha256(updated.code_sha256().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.version(), Some("2"));
    // Nothing changed since version 2: publishing again answers version 2.
    let again = c
        .publish_version()
        .function_name("ver")
        .send()
        .await
        .unwrap();
    assert_eq!(again.version(), Some("2"));
    let versions: Vec<String> = c
        .list_versions_by_function()
        .function_name("ver")
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .map(|v| v.version().unwrap().to_owned())
        .collect();
    assert_eq!(versions, ["$LATEST", "1", "2"]);

    let alias = c
        .create_alias()
        .function_name("ver")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alias.alias_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:ver:live")
    );
    let dup = c
        .create_alias()
        .function_name("ver")
        .name("live")
        .function_version("2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    assert_eq!(
        dup.message(),
        Some("Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:ver:live")
    );
    let missing = c
        .create_alias()
        .function_name("ver")
        .name("later")
        .function_version("7")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        missing.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:ver:7")
    );

    // Invoke: by version, by alias (in the name or as Qualifier), $LATEST.
    for (name, qualifier, code, version) in [
        ("ver", Some("1"), "v1", "1"),
        ("ver:live", None, "v1", "1"),
        ("ver", Some("live"), "v1", "1"),
        ("ver:2", None, "v2", "2"),
        ("ver", None, "v2", "$LATEST"),
    ] {
        let out = c
            .invoke()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .payload(Blob::new("{}"))
            .send()
            .await
            .unwrap();
        assert_eq!(json(&out)["code"], code, "{name} {qualifier:?}");
        assert_eq!(
            out.executed_version(),
            Some(version),
            "{name} {qualifier:?}"
        );
        let seen = report.next().await;
        assert_eq!(seen["version"], version);
    }
    for (name, message) in [
        (
            "ver:7",
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ver:7",
        ),
        (
            "ver:nope",
            "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:ver:nope",
        ),
    ] {
        let e = c.invoke().function_name(name).send().await.unwrap_err();
        assert_eq!(e.code(), Some("ResourceNotFoundException"));
        assert_eq!(e.message(), Some(message));
    }

    // A mapping through the alias runs the alias's version, and follows it when it moves.
    let m = c
        .create_event_source_mapping()
        .function_name("ver:live")
        .event_source_arn(SQS)
        .batch_size(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        m.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:ver:live")
    );
    let sqs = s.sqs();
    let queue = sqs
        .get_queue_url()
        .queue_name("jobs")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    sqs.send_message()
        .queue_url(&queue)
        .message_body("one")
        .send()
        .await
        .unwrap();
    let seen = report.next().await;
    assert_eq!(
        (seen["code"].as_str(), seen["version"].as_str()),
        (Some("v1"), Some("1"))
    );
    assert_eq!(seen["event"]["Records"][0]["body"], "one");
    c.update_alias()
        .function_name("ver")
        .name("live")
        .function_version("2")
        .revision_id(alias.revision_id().unwrap())
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&queue)
        .message_body("two")
        .send()
        .await
        .unwrap();
    let seen = report.next().await;
    assert_eq!(
        (seen["code"].as_str(), seen["version"].as_str()),
        (Some("v2"), Some("2"))
    );
    let stale = c
        .update_alias()
        .function_name("ver")
        .name("live")
        .function_version("1")
        .revision_id(alias.revision_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Some("PreconditionFailedException"));
    let aliases = c.list_aliases().function_name("ver").send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);
    assert_eq!(aliases.aliases()[0].function_version(), Some("2"));

    // A version an alias points at cannot be deleted; another one can.
    let e = c
        .delete_function()
        .function_name("ver")
        .qualifier("2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceConflictException"));
    assert_eq!(
        e.message(),
        Some("Unable to delete version because the following aliases reference it: [live]")
    );
    c.delete_function()
        .function_name("ver:1")
        .send()
        .await
        .unwrap();
    let e = c.invoke().function_name("ver:1").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        json(&invoke(&c, "ver:live", serde_json::json!({})).await)["code"],
        "v2"
    );
    report.next().await;

    c.delete_alias()
        .function_name("ver")
        .name("live")
        .send()
        .await
        .unwrap();
    let e = c
        .get_alias()
        .function_name("ver")
        .name("live")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        Some("Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:ver:live")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_mapping_on_a_version_reports_that_version_on_failure() {
    use aws_sdk_lambda::types::{DestinationConfig, EventSourcePosition, OnFailure};
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let zip = package(&[(
        "app.py",
        0o644,
        b"def handler(event, context):\n    raise ValueError('always')\n",
    )]);
    create_python(&c, "failing", &zip, 3).await;
    c.publish_version()
        .function_name("failing")
        .send()
        .await
        .unwrap();
    let m = c
        .create_event_source_mapping()
        .function_name("failing:1")
        .event_source_arn(KINESIS)
        .starting_position(EventSourcePosition::TrimHorizon)
        .maximum_retry_attempts(0)
        .destination_config(
            DestinationConfig::builder()
                .on_failure(OnFailure::builder().destination(DLQ).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    wait_state(&c, m.uuid().unwrap(), "Enabled").await;
    s.kinesis()
        .put_record()
        .stream_name("orders")
        .partition_key("k")
        .data(aws_sdk_kinesis::primitives::Blob::new("x"))
        .send()
        .await
        .unwrap();
    let sqs = s.sqs();
    let queue = sqs
        .get_queue_url()
        .queue_name("dlq")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let mut record = None;
    for _ in 0..20 {
        let got = sqs
            .receive_message()
            .queue_url(&queue)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        if let Some(m) = got.messages().first() {
            record = Some(serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap());
            break;
        }
    }
    let record = record.expect("no on-failure record");
    assert_eq!(record["responseContext"]["executedVersion"], "1");
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(
        record["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:failing:1"
    );
}
