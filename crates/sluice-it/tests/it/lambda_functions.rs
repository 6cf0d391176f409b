//! Functions and Invoke through aws-sdk-lambda.

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, InvocationType, LogType, Runtime};

use crate::harness::*;
use crate::lambda_esm::minimal_zip;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_are_created_listed_and_deleted() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let created = c
        .create_function()
        .function_name("api-fn")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .timeout(30)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(minimal_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.function_arn(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:api-fn")
    );
    assert_eq!(created.timeout(), Some(30));
    assert_eq!(created.code_size(), minimal_zip().len() as i64);
    let dup = c
        .create_function()
        .function_name("api-fn")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(minimal_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    assert_eq!(dup.message(), Some("Function already exist: api-fn"));

    let names: Vec<String> = c
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .iter()
        .map(|f| f.function_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["api-fn", "echo", "other"]);

    c.delete_function()
        .function_name("api-fn")
        .send()
        .await
        .unwrap();
    let e = c
        .get_function()
        .function_name("api-fn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        e.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:api-fn")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_runs_url_functions() {
    let (f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    let out = c
        .invoke()
        .function_name("echo")
        .payload(Blob::new(br#"{"hello":"world"}"#.to_vec()))
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(
        out.payload().unwrap().as_ref(),
        br#"{"got":{"hello":"world"}}"#
    );
    assert_eq!(out.executed_version(), Some("$LATEST"));
    assert!(out.log_result().is_some());
    assert_eq!(
        f.received.lock().unwrap().as_slice(),
        [r#"{"hello":"world"}"#]
    );

    *f.status.lock().unwrap() = Some(500);
    let out = c
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:echo")
        .payload(Blob::new(b"{}".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_error(), Some("Unhandled"));

    let dry = c
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);

    let e = c
        .invoke()
        .function_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_payloads_over_lambdas_limits_are_refused() {
    let (f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.lambda();
    // JSON strings of the given total size.
    let payload = |n: usize| format!("\"{}\"", "x".repeat(n - 2));
    let e = c
        .invoke()
        .function_name("echo")
        .payload(Blob::new(payload(6_291_457)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("RequestTooLargeException"));
    assert_eq!(
        e.message(),
        Some("Request must be smaller than 6291456 bytes for the InvokeFunction operation")
    );
    let e = c
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload(1_048_577)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("RequestTooLargeException"));
    assert_eq!(
        e.message(),
        Some(
            "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
        )
    );
    assert!(f.received.lock().unwrap().is_empty());
    // At the limits, both run.
    let out = c
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload(1_048_576)))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
    let out = c
        .invoke()
        .function_name("echo")
        .payload(Blob::new(payload(1_048_577)))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
}
