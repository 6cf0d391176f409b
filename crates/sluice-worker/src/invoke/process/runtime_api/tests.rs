#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::http::{Request, header::CONTENT_TYPE};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// An event for `slot` and the receivers of its pick and its answer.
fn event(
    id: &str,
    client_context: Option<&str>,
) -> (Event, oneshot::Receiver<Instant>, oneshot::Receiver<Reply>) {
    let (picked, picked_rx) = oneshot::channel();
    let (reply, reply_rx) = oneshot::channel();
    let ev = Event {
        request_id: id.into(),
        payload: Bytes::from_static(br#"{"k":"v"}"#),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
        timeout: Duration::from_secs(3),
        trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
            .into(),
        client_context: client_context.map(str::to_owned),
        cognito_identity: None,
        picked,
        reply,
    };
    (ev, picked_rx, reply_rx)
}

async fn call(slot: &Arc<RuntimeSlot>, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let resp = router(slot.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).body(body.into()).unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

/// A slot whose runtime has taken event `id`.
async fn running(id: &str) -> (Arc<RuntimeSlot>, oneshot::Receiver<Reply>) {
    let slot = Arc::new(RuntimeSlot::new());
    let (ev, _picked, reply) = event(id, None);
    slot.offer(ev).unwrap();
    let (status, _, _) = call(&slot, get(NEXT)).await;
    assert_eq!(status, StatusCode::OK);
    (slot, reply)
}

#[tokio::test]
async fn next_hands_out_the_event_with_lambda_headers() {
    let slot = Arc::new(RuntimeSlot::new());
    let (ev, picked, _reply) = event("req-1", Some(r#"{"custom":{"a":"b"}}"#));
    slot.offer(ev).unwrap();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let (status, h, body) = call(&slot, get(NEXT)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, br#"{"k":"v"}"#);
    assert_eq!(h["lambda-runtime-aws-request-id"], "req-1");
    assert_eq!(
        h["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:f"
    );
    assert!(
        h["lambda-runtime-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(
        h["lambda-runtime-client-context"],
        r#"{"custom":{"a":"b"}}"#
    );
    assert!(h.get("lambda-runtime-cognito-identity").is_none());
    assert_eq!(h[CONTENT_TYPE], "application/json");
    let deadline: u128 = h["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = (before + Duration::from_secs(3)).as_millis();
    assert!(
        deadline >= expected && deadline < expected + 1000,
        "{deadline} vs {expected}"
    );
    assert!(
        picked.await.is_ok(),
        "the invoker is told the event was taken"
    );
    assert_eq!(slot.phase(), Phase::Running);
}

#[tokio::test]
async fn next_waits_for_an_event() {
    let slot = Arc::new(RuntimeSlot::new());
    let waiting = tokio::spawn({
        let slot = slot.clone();
        async move { call(&slot, get(NEXT)).await }
    });
    // The runtime is parked in `next` (Ready) until an event arrives.
    let (ev, picked, _reply) = event("late", None);
    slot.offer(ev).unwrap();
    picked.await.unwrap();
    let (status, h, _) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["lambda-runtime-aws-request-id"], "late");
}

#[tokio::test]
async fn response_is_accepted_once() {
    let (slot, reply) = running("req-1").await;
    let uri = "/2018-06-01/runtime/invocation/req-1/response";
    let (status, h, body) = call(&slot, post(uri, r#"{"ok":true}"#)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, br#"{"status":"OK"}"#);
    assert_eq!(h[CONTENT_TYPE], "application/json");
    assert_eq!(
        reply.await.unwrap().answer,
        Answer::Response(Bytes::from_static(br#"{"ok":true}"#))
    );
    assert_eq!(slot.phase(), Phase::ResponseSent);

    for (path, target) in [
        ("response", "InvocationResponse"),
        ("error", "InvocationErrorResponse"),
    ] {
        let uri = format!("/2018-06-01/runtime/invocation/req-1/{path}");
        let (status, _, body) = call(&slot, post(&uri, "{}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            json(&body),
            serde_json::json!({
                "errorMessage": format!("State transition from RuntimeResponseSentState to {target} failed for runtime. Error: State transition is not allowed"),
                "errorType": "InvalidStateTransition",
            })
        );
    }
}

#[tokio::test]
async fn unknown_request_ids_are_400() {
    let fresh = Arc::new(RuntimeSlot::new());
    let (status, _, body) = call(
        &fresh,
        post("/2018-06-01/runtime/invocation/nope/response", "{}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json(&body),
        serde_json::json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
    );

    let (slot, mut reply) = running("req-1").await;
    for path in ["response", "error"] {
        let uri = format!("/2018-06-01/runtime/invocation/other/{path}");
        let (status, _, body) = call(&slot, post(&uri, "{}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json(&body)["errorType"], "InvalidRequestID");
    }
    // The invocation is still waiting for its own answer.
    assert!(reply.try_recv().is_err());
    assert_eq!(slot.phase(), Phase::Running);
}

#[tokio::test]
async fn an_oversized_response_is_413_and_a_function_error() {
    let (slot, reply) = running("req-1").await;
    let big = vec![b'x'; MAX_RESPONSE + 1];
    let (status, _, body) = call(
        &slot,
        post("/2018-06-01/runtime/invocation/req-1/response", big),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json(&body),
        serde_json::json!({
            "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "RequestEntityTooLarge",
        })
    );
    assert_eq!(reply.await.unwrap().answer, Answer::TooLarge);
    assert_eq!(slot.phase(), Phase::ResponseSent);

    // Exactly the limit is accepted.
    let (slot, reply) = running("req-2").await;
    let (status, _, _) = call(
        &slot,
        post(
            "/2018-06-01/runtime/invocation/req-2/response",
            vec![b'x'; MAX_RESPONSE],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(matches!(reply.await.unwrap().answer, Answer::Response(b) if b.len() == MAX_RESPONSE));
}

#[tokio::test]
async fn an_error_post_carries_its_type_and_document() {
    let (slot, reply) = running("req-1").await;
    let doc = r#"{"errorMessage":"bad","errorType":"ValueError","stackTrace":[]}"#;
    let req = Request::post("/2018-06-01/runtime/invocation/req-1/error")
        .header("lambda-runtime-function-error-type", "Runtime.HandlerError")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(doc))
        .unwrap();
    let (status, _, body) = call(&slot, req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, br#"{"status":"OK"}"#);
    assert_eq!(
        reply.await.unwrap().answer,
        Answer::Error {
            error_type: "Runtime.HandlerError".into(),
            body: Bytes::from_static(doc.as_bytes()),
        }
    );
    // The runtime goes on: the next `next` is allowed.
    let (ev, _p, _r) = event("req-2", None);
    slot.offer(ev).unwrap();
    let (status, h, _) = call(&slot, get(NEXT)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["lambda-runtime-aws-request-id"], "req-2");
}

#[test]
fn error_types_are_kept_as_the_emulator_keeps_them() {
    let cases = [
        (Some("Runtime.ExitError"), "Runtime.ExitError"),
        (
            Some("Function.ResponseSizeTooLarge"),
            "Function.ResponseSizeTooLarge",
        ),
        (Some("Function.bad"), "Function.Unknown"),
        (Some("Unhandled"), "Runtime.Unknown"),
        (Some("ValueError"), "Runtime.Unknown"),
        (Some("Runtime."), "Runtime.Unknown"),
        (None, "Runtime.Unknown"),
    ];
    for (given, kept) in cases {
        let mut h = HeaderMap::new();
        if let Some(g) = given {
            h.insert("lambda-runtime-function-error-type", g.parse().unwrap());
        }
        assert_eq!(error_type(&h), kept, "{given:?}");
    }
}

#[tokio::test]
async fn init_error_fails_the_instance_before_the_first_next_only() {
    let slot = Arc::new(RuntimeSlot::new());
    let doc = r#"{"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError"}"#;
    let req = Request::post("/2018-06-01/runtime/init/error")
        .header(
            "lambda-runtime-function-error-type",
            "Runtime.ImportModuleError",
        )
        .body(Body::from(doc))
        .unwrap();
    let (status, _, body) = call(&slot, req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, br#"{"status":"OK"}"#);
    assert_eq!(
        *slot.health().borrow(),
        Health::InitFailed {
            error_type: "Runtime.ImportModuleError".into(),
            body: Bytes::from_static(doc.as_bytes()),
        }
    );
    // Nothing more after an init error; an exit does not overwrite why.
    let (status, _, body) = call(&slot, get(NEXT)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body)["errorMessage"],
        "State transition from InitError to Ready failed for runtime. Error: State transition is not allowed"
    );
    slot.mark_exited("exit status 1".into());
    assert!(matches!(*slot.health().borrow(), Health::InitFailed { .. }));

    let (slot, _reply) = running("req-1").await;
    let (status, _, body) = call(&slot, post("/2018-06-01/runtime/init/error", "{}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body)["errorMessage"],
        "State transition from Running to InitError failed for runtime. Error: State transition is not allowed"
    );
    assert!(slot.is_alive());
}

#[tokio::test]
async fn next_before_answering_is_refused() {
    let (slot, mut reply) = running("req-1").await;
    let (status, _, body) = call(&slot, get(NEXT)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body),
        serde_json::json!({
            "errorMessage": "State transition from Running to Ready failed for runtime. Error: State transition is not allowed",
            "errorType": "InvalidStateTransition",
        })
    );
    assert!(reply.try_recv().is_err());
    assert_eq!(slot.phase(), Phase::Running);
}

#[test]
fn the_transition_table() {
    use Phase::*;
    use Transition::*;
    let all = [Started, Ready, Running, ResponseSent, Phase::InitError];
    let allowed = [
        (Started, Next, Ready),
        (Ready, Next, Ready),
        (ResponseSent, Next, Ready),
        (Running, Response, ResponseSent),
        (Running, ErrorResponse, ResponseSent),
        (Started, Transition::InitError, Phase::InitError),
    ];
    for from in all {
        for t in [Next, Response, ErrorResponse, Transition::InitError] {
            let expected = allowed
                .iter()
                .find(|(f, tt, _)| *f == from && *tt == t)
                .map(|(_, _, to)| *to);
            assert_eq!(transition(from, t), expected, "{from:?} --{t:?}-->");
        }
    }
}

#[tokio::test]
async fn a_waiting_next_ends_when_the_process_is_gone() {
    let slot = Arc::new(RuntimeSlot::new());
    let waiting = tokio::spawn({
        let slot = slot.clone();
        async move { call(&slot, get(NEXT)).await }
    });
    slot.mark_exited("signal: killed".into());
    let (status, _, body) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json(&body)["errorType"], "InternalServerError");
}

#[test]
fn offer_takes_one_event_at_a_time() {
    let slot = RuntimeSlot::new();
    let (a, _, _) = event("a", None);
    let (b, _, _) = event("b", None);
    assert!(slot.offer(a).is_ok());
    assert_eq!(slot.offer(b).unwrap_err().request_id, "b");
}
