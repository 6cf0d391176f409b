//! Starting Sluice, a scripted HTTP function, and SDK clients.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use sluice::{Options, Server};

pub const ACCOUNT: &str = "000000000000";
pub const KINESIS: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
pub const SQS: &str = "arn:aws:sqs:us-east-1:000000000000:jobs";
pub const FIFO: &str = "arn:aws:sqs:us-east-1:000000000000:jobs.fifo";
pub const DLQ: &str = "arn:aws:sqs:us-east-1:000000000000:dlq";
pub const DDB: &str =
    "arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2026-01-01T00:00:00.000";

/// A function endpoint that records what it receives and answers by script.
#[derive(Clone, Default)]
pub struct FakeFunction {
    pub received: Arc<Mutex<Vec<String>>>,
    /// Status to answer with (200 when unset).
    pub status: Arc<Mutex<Option<u16>>>,
}

impl FakeFunction {
    pub async fn start() -> (Self, String) {
        let f = FakeFunction::default();
        let g = f.clone();
        let app = Router::new().route(
            "/",
            post(move |body: String| {
                let g = g.clone();
                async move {
                    g.received.lock().unwrap().push(body.clone());
                    let status = g.status.lock().unwrap().unwrap_or(200);
                    (
                        StatusCode::from_u16(status).unwrap(),
                        format!("{{\"got\":{body}}}"),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (f, format!("http://{addr}/"))
    }
}

pub struct Sluice {
    pub server: Option<Server>,
    pub dir: PathBuf,
    pub config: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub fn config_text(function_url: &str) -> String {
    format!(
        r#"
[[functions]]
name = "echo"
url = "{function_url}"

[[functions]]
name = "other"
url = "{function_url}"

[[streams]]
name = "orders"

[[queues]]
name = "jobs"
[[queues]]
name = "jobs.fifo"
[[queues]]
name = "dlq"

[[topics]]
name = "alerts"

[[tables]]
name = "users"
stream_label = "2026-01-01T00:00:00.000"
"#
    )
}

impl Sluice {
    pub async fn start(function_url: &str) -> Self {
        Self::start_with(function_url, "").await
    }

    /// Starts with `extra` appended to the standard config file.
    pub async fn start_with(function_url: &str, extra: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let config = tmp.path().join("sluice.toml");
        std::fs::write(&config, config_text(function_url) + extra).unwrap();
        let server = start_server(&dir, &config).await;
        Self {
            server: Some(server),
            dir,
            config,
            _tmp: Some(tmp),
        }
    }

    pub fn endpoint(&self) -> String {
        self.server.as_ref().unwrap().endpoint()
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.endpoint())
    }

    /// Stops the server cleanly and starts it again on the same data dir.
    pub async fn restart(&mut self) {
        self.server.take().unwrap().shutdown().await.unwrap();
        self.server = Some(start_server(&self.dir, &self.config).await);
    }
}

pub async fn start_server(dir: &Path, config: &Path) -> Server {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_TEST_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_test_writer()
        .try_init();
    Server::start(Options {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        config: Some(config.to_path_buf()),
        region: "us-east-1".into(),
        account_id: ACCOUNT.into(),
        fsync: true,
    })
    .await
    .unwrap()
}

pub fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// Polls Get until the mapping reaches `state` (the coordinator settles on each change).
pub async fn wait_state(client: &aws_sdk_lambda::Client, uuid: &str, state: &str) {
    // Each Get is a full round trip; the coordinator settles within a few of them.
    for _ in 0..2000 {
        let got = client
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .unwrap();
        if got.state() == Some(state) {
            return;
        }
    }
    panic!("mapping {uuid} never reached {state}");
}

pub fn kinesis_client(endpoint: &str) -> aws_sdk_kinesis::Client {
    let conf = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(endpoint)
        // Tests see every error as the server sent it (throttling included).
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

impl Sluice {
    pub fn kinesis(&self) -> aws_sdk_kinesis::Client {
        kinesis_client(&self.endpoint())
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        sqs_client(&self.endpoint())
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        let conf = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sns::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .endpoint_url(self.endpoint())
            .build();
        aws_sdk_sns::Client::from_conf(conf)
    }
}

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

/// The function's answer to one event: HTTP status and body.
pub type Script = Arc<dyn Fn(&serde_json::Value) -> (u16, String) + Send + Sync>;

/// A function endpoint that answers by `script` and hands every event it gets to the test.
pub struct ScriptedFunction {
    pub events: tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
    pub url: String,
}

impl ScriptedFunction {
    pub async fn start(script: Script) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let app = Router::new().route(
            "/",
            post(move |body: String| {
                let script = script.clone();
                let tx = tx.clone();
                async move {
                    let event: serde_json::Value =
                        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                    let (status, answer) = script(&event);
                    let _ = tx.send(event);
                    (StatusCode::from_u16(status).unwrap(), answer)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            events: rx,
            url: format!("http://{addr}/"),
        }
    }

    /// The next event the function got (a generous deadline guards a hung engine).
    pub async fn next(&mut self) -> serde_json::Value {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.events.recv())
            .await
            .expect("the function was not invoked in time")
            .expect("function server stopped")
    }

    /// Invocations until `n` records have been seen; returns them in delivery order.
    pub async fn records(&mut self, n: usize) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        while out.len() < n {
            let e = self.next().await;
            out.extend(e["Records"].as_array().cloned().unwrap_or_default());
        }
        out
    }
}

/// Base64 data of a delivered Kinesis record, decoded to text.
pub fn data_of(record: &serde_json::Value) -> String {
    use base64::Engine;
    let b64 = record["kinesis"]["data"].as_str().unwrap_or_default();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}
