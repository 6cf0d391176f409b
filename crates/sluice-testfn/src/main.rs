//! A Lambda function built on the `lambda_runtime` crate (AWS's Rust runtime client),
//! unmodified, for Sluice's integration tests: it proves a Rust handler runs as a `command`
//! function with Lambda's contract.
//!
//! It acts on the event's `action`:
//!
//! - absent or `echo`: the event, the context (request id, ARN, deadline), the pid and the
//!   `AWS_LAMBDA_*` environment;
//! - `error`: returns an error (the runtime posts `/invocation/{id}/error`);
//! - `sleep`: sleeps `seconds`, then answers its pid;
//! - `crash`: exits with `code` mid-invocation;
//! - a Kinesis event (`Records`): reports the records whose data is `fail` in
//!   `batchItemFailures`, after POSTing the batch's data to `REPORT_URL` when set (so a
//!   test sees each delivery).

use base64::Engine;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let data: Vec<String> = records
            .iter()
            .map(|r| {
                let b64 = r["kinesis"]["data"].as_str().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            })
            .collect();
        if let Ok(url) = std::env::var("REPORT_URL") {
            report(&url, &json!({"data": data, "pid": std::process::id()}))?;
        }
        let failures: Vec<Value> = records
            .iter()
            .filter(|r| {
                let data = r["kinesis"]["data"].as_str().unwrap_or_default();
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .is_ok_and(|d| d == b"fail")
            })
            .map(|r| json!({"itemIdentifier": r["kinesis"]["sequenceNumber"]}))
            .collect();
        return Ok(json!({"batchItemFailures": failures}));
    }
    match payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("echo")
    {
        "error" => Err(format!(
            "refused: {}",
            payload["why"].as_str().unwrap_or("no reason")
        )
        .into()),
        "sleep" => {
            let secs = payload["seconds"].as_f64().unwrap_or(1.0);
            tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
            Ok(json!({"pid": std::process::id()}))
        }
        "crash" => {
            eprintln!("rust handler exiting");
            std::process::exit(payload["code"].as_i64().unwrap_or(4) as i32)
        }
        _ => {
            println!("rust handler got {payload}");
            let env: serde_json::Map<String, Value> = std::env::vars()
                .filter(|(k, _)| k.starts_with("AWS_LAMBDA_"))
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Ok(json!({
                "event": payload,
                "request_id": context.request_id,
                "invoked_function_arn": context.invoked_function_arn,
                "deadline": context.deadline,
                "pid": std::process::id(),
                "env": env,
            }))
        }
    }
}

/// POSTs `doc` to `url` (`http://host:port/path`) with a plain HTTP/1.1 request.
fn report(url: &str, doc: &Value) -> Result<(), Error> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or("REPORT_URL must be http://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = doc.to_string();
    let mut conn = std::net::TcpStream::connect(host)?;
    write!(
        conn,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
