#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use sluice_core::function::{FunctionOrigin, FunctionRecord};

use super::*;

async fn serve() -> String {
    let app = Router::new()
        .route(
            "/ok",
            post(|body: String| async move { format!("{{\"echo\":{body}}}") }),
        )
        .route(
            "/fail",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/doc",
            post(|| async {
                let mut h = HeaderMap::new();
                h.insert("x-amz-function-error", "Handled".parse().unwrap());
                (h, r#"{"errorMessage":"bad","errorType":"ValueError"}"#)
            }),
        )
        .route("/hang", post(std::future::pending::<String>));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn request(url: String, timeout: Duration) -> InvokeRequest {
    InvokeRequest {
        function: FunctionRecord {
            name: "f".into(),
            code: FunctionCode::Url { url },
            origin: FunctionOrigin::Config,
            runtime: None,
            handler: None,
            role: String::new(),
            description: String::new(),
            timeout,
            memory_size: 128,
            environment: BTreeMap::new(),
            last_modified: String::new(),
            revision_id: String::new(),
            version: None,
        },
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        payload: br#"{"a":1}"#.to_vec(),
        timeout,
    }
}

#[tokio::test]
async fn outcomes_follow_the_http_answer() {
    let base = serve().await;
    let inv = HttpInvoker::default();
    let t = Duration::from_secs(10);
    assert_eq!(
        inv.invoke(request(format!("{base}/ok"), t)).await.unwrap(),
        Invocation::Ok(br#"{"echo":{"a":1}}"#.to_vec())
    );
    match inv
        .invoke(request(format!("{base}/fail"), t))
        .await
        .unwrap()
    {
        Invocation::FunctionError {
            error_type,
            payload,
        } => {
            assert_eq!(error_type, "Unhandled");
            let doc: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(doc["errorMessage"], "The function answered HTTP 500: boom");
        }
        other => panic!("{other:?}"),
    }
    match inv.invoke(request(format!("{base}/doc"), t)).await.unwrap() {
        Invocation::FunctionError {
            error_type,
            payload,
        } => {
            assert_eq!(error_type, "Handled");
            assert_eq!(
                payload,
                br#"{"errorMessage":"bad","errorType":"ValueError"}"#.to_vec()
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_function_that_never_answers_times_out() {
    let base = serve().await;
    let out = HttpInvoker::default()
        .invoke(request(format!("{base}/hang"), Duration::from_millis(200)))
        .await
        .unwrap();
    match out {
        Invocation::FunctionError {
            error_type,
            payload,
        } => {
            assert_eq!(error_type, "Sandbox.Timedout");
            let doc: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(doc["errorMessage"], "Task timed out after 0.20 seconds");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_closed_port_is_unreachable_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = HttpInvoker::default()
        .invoke(request(format!("http://{addr}/"), Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
