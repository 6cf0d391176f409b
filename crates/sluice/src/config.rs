//! The config file: one TOML file declares a project's whole local setup.
//!
//! ```toml
//! [[functions]]
//! name = "echo"
//! url = "http://127.0.0.1:9000/"   # or: command = ["python3", "handler.py"]
//! timeout = 3                       # seconds
//! # workdir = "…", env = { KEY = "value" }, memory_size = 128
//! # concurrency = 10                (command functions: most instances at once)
//!
//! [[streams]]                       # Kinesis (created at start if missing)
//! name = "orders"
//! shards = 2
//!
//! [[queues]]                        # SQS (created at start if missing); FIFO when the
//! name = "jobs"                     # name ends in .fifo
//! attributes = { VisibilityTimeout = "60" }   # as CreateQueue's Attributes
//!
//! [[topics]]                        # SNS (created at start if missing)
//! name = "alerts"
//! # attributes = { DisplayName = "Alerts" }   (as CreateTopic's Attributes)
//!
//! [[tables]]                        # DynamoDB table with a stream
//! name = "users"
//! key = "id"                       # hash key (type S); `pk` when omitted
//! stream_view_type = "NEW_AND_OLD_IMAGES"
//! # stream_label = "2026-01-01T00:00:00.000"   (kept from the first start if omitted)
//!
//! [kinesis]
//! shard_limits = false              # true: per-shard throughput limits as on AWS
//!
//! [dynamodb]
//! shard_rollover_seconds = 14400    # stream shards roll over this often (AWS: ~4 h)
//!
//! [[mappings]]                      # members exactly as CreateEventSourceMapping's
//! FunctionName = "echo"
//! EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
//! StartingPosition = "TRIM_HORIZON"
//! ```
//!
//! Applying the file at start is idempotent: functions declared here are (re)written, and
//! config-declared functions no longer in the file are removed; sources are registered;
//! a mapping is created unless one already maps the same source to the same function. Any
//! error refuses the start with the file, the line and the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use sluice_api::AppState;
use sluice_api::lambda::model::function_timestamp;
use sluice_api::lambda::ops::create_event_source_mapping;
use sluice_api::protocol::rest_json::LambdaCode;
use sluice_core::function::{FunctionCode, FunctionOrigin, FunctionRecord};
use sluice_core::mapping::CreateRequest;
use sluice_store::kinesis::KinesisError;
use sluice_store::{SourceRecord, SourceType};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDecl {
    pub name: String,
    pub url: Option<String>,
    pub command: Option<Vec<String>>,
    pub timeout: Option<u64>,
    pub workdir: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub memory_size: Option<u32>,
    /// Most instances of a `command` function run at once (default 10).
    pub concurrency: Option<u32>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDecl {
    pub name: String,
    pub shards: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueDecl {
    pub name: String,
    /// SQS attributes (`VisibilityTimeout`, `RedrivePolicy`, …) as CreateQueue takes them.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDecl {
    pub name: String,
    /// SNS topic attributes (`FifoTopic`, `ContentBasedDeduplication`, `DisplayName`, …) as
    /// CreateTopic takes them.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDecl {
    pub name: String,
    /// The hash key attribute (type S); `pk` when omitted.
    pub key: Option<String>,
    pub stream_view_type: Option<String>,
    pub stream_label: Option<String>,
}

/// The file as parsed; entries keep their position for error messages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(skip)]
    path: PathBuf,
    #[serde(skip)]
    text: String,
    #[serde(default)]
    pub functions: Vec<Spanned<FunctionDecl>>,
    #[serde(default)]
    pub streams: Vec<Spanned<StreamDecl>>,
    #[serde(default)]
    pub queues: Vec<Spanned<QueueDecl>>,
    #[serde(default)]
    pub topics: Vec<Spanned<TopicDecl>>,
    #[serde(default)]
    pub tables: Vec<Spanned<TableDecl>>,
    #[serde(default)]
    pub mappings: Vec<Spanned<CreateRequest>>,
    /// `[kinesis]` settings of the embedded Kinesis.
    #[serde(default)]
    pub kinesis: KinesisSettings,
    /// `[dynamodb]` settings of the embedded DynamoDB.
    #[serde(default)]
    pub dynamodb: DynamoDbSettings,
}

/// `[dynamodb]`: `shard_rollover_seconds`, how long a stream shard stays open before it
/// closes and a child shard takes over (DynamoDB does this about every 4 hours).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamoDbSettings {
    #[serde(default = "default_rollover")]
    pub shard_rollover_seconds: u64,
}

impl Default for DynamoDbSettings {
    fn default() -> Self {
        Self {
            shard_rollover_seconds: default_rollover(),
        }
    }
}

fn default_rollover() -> u64 {
    4 * 3600
}

/// `[kinesis]`: `shard_limits = true` switches on per-shard throughput limits (1 MiB or 1,000
/// records/s in, 2 MiB and 5 GetRecords/s out), off by default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KinesisSettings {
    #[serde(default)]
    pub shard_limits: bool,
}

const VIEW_TYPES: [&str; 4] = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"];

impl ConfigFile {
    /// Reads and parses `path`; syntax and type errors name the line.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> anyhow::Result<Self> {
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| line_of(&text, s.start))
                .map_or(String::new(), |l| format!(":{l}"));
            anyhow::anyhow!("config file {}{line}: {}", path.display(), e.message())
        })?;
        file.path = path.to_path_buf();
        file.text = text;
        file.check()?;
        Ok(file)
    }

    fn at(&self, span: std::ops::Range<usize>) -> String {
        format!(
            "config file {}:{}",
            self.path.display(),
            line_of(&self.text, span.start)
        )
    }

    /// Checks what the types cannot say.
    fn check(&self) -> anyhow::Result<()> {
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let mut seen = std::collections::HashSet::new();
        for f in &self.functions {
            let at = self.at(f.span());
            let d = f.get_ref();
            if !name_ok(&d.name) {
                bail!(
                    "{at}: function name {:?} must be 1 to 64 letters, digits, '-' or '_'",
                    d.name
                );
            }
            if !seen.insert(d.name.clone()) {
                bail!("{at}: function {:?} is declared twice", d.name);
            }
            match (&d.url, &d.command) {
                (Some(_), Some(_)) | (None, None) => {
                    bail!(
                        "{at}: function {:?} must set exactly one of `url` or `command`",
                        d.name
                    )
                }
                // TLS to function endpoints is not built in yet: refuse now, not at invoke.
                (Some(url), None) if !url.starts_with("http://") => {
                    bail!(
                        "{at}: function {:?}: url must start with http:// (https endpoints are not supported yet)",
                        d.name
                    )
                }
                (None, Some(c)) if c.is_empty() => {
                    bail!("{at}: function {:?}: command must not be empty", d.name)
                }
                _ => {}
            }
            if d.timeout.is_some_and(|t| !(1..=900).contains(&t)) {
                bail!(
                    "{at}: function {:?}: timeout must be 1 to 900 seconds",
                    d.name
                );
            }
            if d.concurrency.is_some_and(|c| !(1..=1000).contains(&c)) {
                bail!("{at}: function {:?}: concurrency must be 1 to 1000", d.name);
            }
            if d.concurrency.is_some() && d.command.is_none() {
                bail!(
                    "{at}: function {:?}: concurrency applies to `command` functions only",
                    d.name
                );
            }
            if d.memory_size.is_some_and(|m| !(128..=10_240).contains(&m)) {
                bail!(
                    "{at}: function {:?}: memory_size must be 128 to 10240 MB",
                    d.name
                );
            }
        }
        let resource_ok = |n: &str, max: usize| {
            let base = n.strip_suffix(".fifo").unwrap_or(n);
            !base.is_empty()
                && n.len() <= max
                && base
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        for s in &self.streams {
            let d = s.get_ref();
            if !resource_ok(&d.name, 128) {
                bail!(
                    "{}: stream name {:?} is not a valid Kinesis stream name",
                    self.at(s.span()),
                    d.name
                );
            }
            if d.shards.is_some_and(|n| n == 0 || n > 1000) {
                bail!(
                    "{}: stream {:?}: shards must be 1 to 1000",
                    self.at(s.span()),
                    d.name
                );
            }
        }
        for q in &self.queues {
            if !resource_ok(&q.get_ref().name, 80)
                || q.get_ref().name.contains('.') && !q.get_ref().name.ends_with(".fifo")
            {
                bail!(
                    "{}: queue name {:?} is not a valid SQS queue name",
                    self.at(q.span()),
                    q.get_ref().name
                );
            }
        }
        for t in &self.topics {
            if !resource_ok(&t.get_ref().name, 256) {
                bail!(
                    "{}: topic name {:?} is not a valid SNS topic name",
                    self.at(t.span()),
                    t.get_ref().name
                );
            }
        }
        for t in &self.tables {
            let d = t.get_ref();
            if d.name.len() < 3 || !resource_ok(&d.name, 255) {
                bail!(
                    "{}: table name {:?} is not a valid DynamoDB table name",
                    self.at(t.span()),
                    d.name
                );
            }
            if let Some(v) = &d.stream_view_type
                && !VIEW_TYPES.contains(&v.as_str())
            {
                bail!(
                    "{}: table {:?}: stream_view_type must be one of {VIEW_TYPES:?}",
                    self.at(t.span()),
                    d.name
                );
            }
            if let Some(l) = &d.stream_label
                && !is_stream_label(l)
            {
                bail!(
                    "{}: table {:?}: stream_label must look like 2026-01-01T00:00:00.000",
                    self.at(t.span()),
                    d.name
                );
            }
        }
        Ok(())
    }

    /// Writes the declarations into the store (see the module doc).
    pub fn apply(&self, app: &AppState) -> anyhow::Result<()> {
        let store = &app.store;
        let scope = &app.scope;
        let now = sluice_api::lambda::now_ms();
        let declared: std::collections::HashSet<&str> = self
            .functions
            .iter()
            .map(|f| f.get_ref().name.as_str())
            .collect();
        for old in store.list_functions()? {
            if old.origin == FunctionOrigin::Config && !declared.contains(old.name.as_str()) {
                store.delete_function(&old.name)?;
                tracing::info!(function = %old.name, "Function no longer in the config file; removed.");
            }
        }
        for f in &self.functions {
            let d = f.get_ref();
            let code = match (&d.url, &d.command) {
                (Some(url), _) => FunctionCode::Url { url: url.clone() },
                (None, Some(command)) => FunctionCode::Command {
                    command: command.clone(),
                    workdir: d.workdir.clone(),
                    concurrency: d.concurrency,
                },
                (None, None) => unreachable_decl(),
            };
            let existing = store.get_function(&d.name)?;
            let record = FunctionRecord {
                name: d.name.clone(),
                code,
                origin: FunctionOrigin::Config,
                runtime: d.runtime.clone(),
                handler: d.handler.clone(),
                role: d
                    .role
                    .clone()
                    .unwrap_or_else(|| FunctionRecord::default_role(&scope.account)),
                description: d.description.clone().unwrap_or_default(),
                timeout: d
                    .timeout
                    .map_or(FunctionRecord::DEFAULT_TIMEOUT, Duration::from_secs),
                memory_size: d.memory_size.unwrap_or(FunctionRecord::DEFAULT_MEMORY),
                environment: d.env.clone(),
                last_modified: function_timestamp(now),
                revision_id: uuid::Uuid::new_v4().to_string(),
                version: None,
            };
            // Keep the stored record (and its LastModified) when nothing changed.
            let unchanged = existing.as_ref().is_some_and(|e| {
                FunctionRecord {
                    last_modified: e.last_modified.clone(),
                    revision_id: e.revision_id.clone(),
                    version: None,
                    ..record.clone()
                } == *e
            });
            if !unchanged {
                store.put_function(&record)?;
            }
        }
        for s in &self.streams {
            let d = s.get_ref();
            match app.kinesis.stream(&d.name) {
                Ok(existing) => {
                    let open = existing.layout.open_count();
                    if d.shards.is_some_and(|n| n != open) {
                        tracing::warn!(stream = %d.name, open, "Stream exists with another shard count; left as it is.");
                    }
                }
                Err(KinesisError::ResourceNotFound(_)) => {
                    app.kinesis.create_stream(
                        &d.name,
                        d.shards.unwrap_or(1),
                        false,
                        BTreeMap::new(),
                        now,
                    )?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Queues without a RedrivePolicy first, so dead-letter queues exist when their
        // sources name them.
        let (plain, redriven): (Vec<_>, Vec<_>) = self
            .queues
            .iter()
            .partition(|q| !q.get_ref().attributes.contains_key("RedrivePolicy"));
        for q in plain.into_iter().chain(redriven) {
            let d = q.get_ref();
            let mut attributes = d.attributes.clone();
            if d.name.ends_with(".fifo") {
                attributes
                    .entry("FifoQueue".into())
                    .or_insert_with(|| "true".into());
            }
            if let Ok(existing) = app.sqs.queue(&d.name) {
                if let Ok(Some(k)) = existing
                    .record
                    .settings
                    .first_difference(&d.name, &attributes)
                {
                    tracing::warn!(queue = %d.name, attribute = %k, "Queue exists with another value of an attribute; left as it is.");
                }
                continue;
            }
            app.sqs
                .create_queue(&d.name, &attributes, BTreeMap::new())
                .map_err(|e| {
                    anyhow::anyhow!("{}: queue {:?} refused: {e}", self.at(q.span()), d.name)
                })?;
        }
        for t in &self.topics {
            let d = t.get_ref();
            match app
                .sns
                .create_topic(&d.name, &d.attributes, &BTreeMap::new())
            {
                Ok(_) => {}
                Err(sluice_store::sns::SnsError::InvalidParameter(m))
                    if m.contains("already exists with different attributes") =>
                {
                    tracing::warn!(topic = %d.name, "Topic exists with other attributes; left as it is.");
                }
                Err(e) => {
                    anyhow::bail!("{}: topic {:?} refused: {e}", self.at(t.span()), d.name);
                }
            }
            store.put_source(&SourceRecord {
                arn: scope.sns_topic_arn(&d.name),
                kind: SourceType::SnsTopic,
                name: d.name.clone(),
                attributes: BTreeMap::new(),
            })?;
        }
        let known = store.list_sources()?;
        for t in &self.tables {
            let d = t.get_ref();
            let label = match &d.stream_label {
                Some(l) => l.clone(),
                None => known
                    .iter()
                    .find(|s| s.kind == SourceType::DynamoDbStream && s.name == d.name)
                    .and_then(|s| s.arn.rsplit_once("/stream/").map(|(_, l)| l.to_owned()))
                    .unwrap_or_else(|| stream_label(now)),
            };
            let view = d
                .stream_view_type
                .clone()
                .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into());
            // A real table of the embedded DynamoDB, created once; an existing one is kept.
            let label = match app.dynamodb.table(&d.name) {
                Ok(existing) => existing.stream.map_or(label, |s| s.label),
                Err(sluice_store::dynamodb::DynamoError::ResourceNotFound(_)) => {
                    let key = sluice_store::dynamodb::KeyAttr {
                        name: d.key.clone().unwrap_or_else(|| "pk".into()),
                        ty: "S".into(),
                    };
                    let spec = sluice_store::dynamodb::TableSpec {
                        name: d.name.clone(),
                        hash: key.clone(),
                        range: None,
                        attributes: vec![key],
                        billing_mode: "PAY_PER_REQUEST".into(),
                        read_capacity: 0,
                        write_capacity: 0,
                        stream_view_type: Some(view.clone()),
                        stream_label: Some(label.clone()),
                    };
                    app.dynamodb.create_table(spec, now).map_err(|e| {
                        anyhow::anyhow!("{}: table {:?} refused: {e}", self.at(t.span()), d.name)
                    })?;
                    label
                }
                Err(e) => return Err(anyhow::anyhow!("table {:?}: {e}", d.name)),
            };
            let mut attributes = BTreeMap::new();
            attributes.insert("stream_view_type".into(), view);
            store.put_source(&SourceRecord {
                arn: scope.dynamodb_stream_arn(&d.name, &label),
                kind: SourceType::DynamoDbStream,
                name: d.name.clone(),
                attributes,
            })?;
        }
        for m in &self.mappings {
            match create_event_source_mapping::plan(app, m.get_ref()) {
                Ok(created) => {
                    tracing::info!(mapping_id = %created.uuid, "Mapping from the config file created.");
                }
                Err(e) if e.code == LambdaCode::ResourceConflict => {
                    tracing::debug!("Mapping from the config file already exists.");
                }
                Err(e) => bail!(
                    "{}: mapping refused: {}: {}",
                    self.at(m.span()),
                    e.code.name(),
                    e.message
                ),
            }
        }
        Ok(())
    }
}

/// # Panics
///
/// Never: `check` refuses a function with neither `url` nor `command`.
fn unreachable_decl() -> ! {
    unreachable!("config check guarantees url or command")
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.matches('\n').count() + 1)
}

fn is_stream_label(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// A DynamoDB stream label (`YYYY-MM-DDTHH:MM:SS.mmm`, UTC) for a stream created at `ms`.
fn stream_label(ms: u64) -> String {
    let ts = function_timestamp(ms);
    ts.trim_end_matches("+0000").to_owned()
}

#[cfg(test)]
mod tests;
