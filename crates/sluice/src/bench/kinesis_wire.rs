//! A minimal Kinesis client for the benchmark: JSON 1.1 (`POST /`,
//! `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: Kinesis_20131202.<Op>`) over
//! plain HTTP, with a syntactically valid but unsigned SigV4 `Authorization` header.
//! Emulators (kinesalite, moto, kinesis-mock, Sluice) only check that the header is there;
//! real AWS would refuse it.
//!
//! Only the fields the benchmark reads are decoded; GetRecords pages are decoded borrowing
//! from the response body so a 10,000-record page costs no per-record allocation.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};

use super::report::now_amz_date;

/// `Content-Type` of every request.
pub const JSON_1_1: &str = "application/x-amz-json-1.1";
/// `X-Amz-Target` prefix; the operation name follows.
pub const TARGET_PREFIX: &str = "Kinesis_20131202.";

/// The dummy SigV4 `Authorization` header for `amz_date` (`YYYYMMDDTHHMMSSZ`) and `region`:
/// access key `test`, the credential scope of that day, the usual signed headers and a
/// signature of 64 hex zeros.
pub fn dummy_authorization(amz_date: &str, region: &str) -> String {
    let day = amz_date.get(..8).unwrap_or("20260101");
    format!(
        "AWS4-HMAC-SHA256 Credential=test/{day}/{region}/kinesis/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        "0".repeat(64)
    )
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The service answered with an error document.
    Api {
        op: &'static str,
        status: u16,
        /// `__type` without its namespace, e.g. `ResourceNotFoundException`.
        kind: String,
        message: String,
    },
    /// No answer: connect, write or read failed, or the request timed out.
    Transport {
        op: &'static str,
        source: reqwest::Error,
    },
    /// The answer (or our request) was not the JSON we expected.
    Json {
        op: &'static str,
        source: serde_json::Error,
    },
}

impl CallError {
    /// Throttling or "try again" answers; the request was not applied and may be resent.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Api { status, kind, .. } => {
                *status == 503
                    || matches!(
                        kind.as_str(),
                        "ProvisionedThroughputExceededException"
                            | "LimitExceededException"
                            | "ThrottlingException"
                            | "KMSThrottlingException"
                            | "ServiceUnavailable"
                            | "ServiceUnavailableException"
                    )
            }
            CallError::Transport { .. } | CallError::Json { .. } => false,
        }
    }

    /// The error type of an API error, e.g. `ResourceNotFoundException`.
    pub fn api_kind(&self) -> Option<&str> {
        match self {
            CallError::Api { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Api {
                op,
                status,
                kind,
                message,
            } => write!(f, "{op}: HTTP {status} {kind}: {message}"),
            CallError::Transport { op, source } => {
                // reqwest's own message is terse ("error sending request"); the cause
                // ("Connection refused", "operation timed out") is further down the chain.
                write!(f, "{op}: {source}")?;
                let mut cause = std::error::Error::source(source);
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                Ok(())
            }
            CallError::Json { op, source } => write!(f, "{op}: bad JSON: {source}"),
        }
    }
}

/// The Display text already holds the whole chain, so `source` is `None` (no repeats in
/// `{:#}`).
impl std::error::Error for CallError {}

/// A Kinesis JSON 1.1 client bound to one endpoint.
#[derive(Debug, Clone)]
pub struct KinesisClient {
    http: reqwest::Client,
    endpoint: Url,
    region: String,
}

impl KinesisClient {
    /// `pool` is the number of idle connections to keep (the benchmark's concurrency).
    pub fn new(endpoint: Url, region: String, pool: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(pool.max(1))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            endpoint,
            region,
        })
    }

    /// Sends `op` with `input`; on 2xx hands the body to `parse`.
    pub async fn call<I: Serialize + ?Sized, R>(
        &self,
        op: &'static str,
        input: &I,
        parse: impl FnOnce(&[u8]) -> serde_json::Result<R>,
    ) -> Result<R, CallError> {
        let body = serde_json::to_vec(input).map_err(|source| CallError::Json { op, source })?;
        self.send(op, body, parse).await
    }

    /// Sends `op` with a ready JSON `body`; on 2xx hands the answer to `parse`.
    pub async fn send<R>(
        &self,
        op: &'static str,
        body: Vec<u8>,
        parse: impl FnOnce(&[u8]) -> serde_json::Result<R>,
    ) -> Result<R, CallError> {
        let amz_date = now_amz_date();
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, JSON_1_1)
            .header("x-amz-target", format!("{TARGET_PREFIX}{op}"))
            .header("x-amz-date", &amz_date)
            .header(AUTHORIZATION, dummy_authorization(&amz_date, &self.region))
            .body(body)
            .send()
            .await
            .map_err(|source| CallError::Transport { op, source })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| CallError::Transport { op, source })?;
        if !status.is_success() {
            let (kind, message) = parse_error_body(&bytes);
            return Err(CallError::Api {
                op,
                status: status.as_u16(),
                kind: kind.unwrap_or_else(|| format!("HTTP{}", status.as_u16())),
                message,
            });
        }
        parse(&bytes).map_err(|source| CallError::Json { op, source })
    }

    pub async fn create_stream(&self, stream: &str, shards: u32) -> Result<(), CallError> {
        let input = CreateStreamIn {
            stream_name: stream,
            shard_count: shards,
        };
        self.call("CreateStream", &input, |_| Ok(())).await
    }

    /// The stream's status, e.g. `CREATING` or `ACTIVE`.
    pub async fn stream_status(&self, stream: &str) -> Result<String, CallError> {
        let input = StreamNameIn {
            stream_name: stream,
        };
        self.call("DescribeStreamSummary", &input, |b| {
            serde_json::from_slice::<DescribeStreamSummaryOut>(b)
                .map(|o| o.stream_description_summary.stream_status)
        })
        .await
    }

    /// Every shard of the stream (follows `NextToken`).
    pub async fn list_shards(&self, stream: &str) -> Result<Vec<Shard>, CallError> {
        let mut shards = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let input = match &next {
                None => ListShardsIn {
                    stream_name: Some(stream),
                    next_token: None,
                },
                Some(token) => ListShardsIn {
                    stream_name: None,
                    next_token: Some(token),
                },
            };
            let out: ListShardsOut = self
                .call("ListShards", &input, |b| serde_json::from_slice(b))
                .await?;
            shards.extend(out.shards);
            match out.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => return Ok(shards),
            }
        }
    }

    pub async fn delete_stream(&self, stream: &str) -> Result<(), CallError> {
        let input = StreamNameIn {
            stream_name: stream,
        };
        self.call("DeleteStream", &input, |_| Ok(())).await
    }

    /// PutRecords with a body from [`PutRecordsBody`].
    pub async fn put_records(&self, body: Vec<u8>) -> Result<PutRecordsOut, CallError> {
        self.send("PutRecords", body, |b| serde_json::from_slice(b))
            .await
    }

    pub async fn put_record(&self, input: &PutRecordIn<'_>) -> Result<PutRecordOut, CallError> {
        self.call("PutRecord", input, |b| serde_json::from_slice(b))
            .await
    }

    /// A shard iterator of `kind` (`TRIM_HORIZON`, `LATEST`).
    pub async fn shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        kind: &str,
    ) -> Result<String, CallError> {
        let input = GetShardIteratorIn {
            stream_name: stream,
            shard_id,
            shard_iterator_type: kind,
        };
        let out: GetShardIteratorOut = self
            .call("GetShardIterator", &input, |b| serde_json::from_slice(b))
            .await?;
        out.shard_iterator.ok_or_else(|| CallError::Api {
            op: "GetShardIterator",
            status: 200,
            kind: "MissingShardIterator".into(),
            message: format!("no ShardIterator for {shard_id}"),
        })
    }

    /// One GetRecords page, summarised. With `find`, [`RecordsPage::found`] tells whether a
    /// record with that sequence number is on the page.
    pub async fn get_records(
        &self,
        iterator: &str,
        limit: u32,
        find: Option<&str>,
    ) -> Result<RecordsPage, CallError> {
        let input = GetRecordsIn {
            shard_iterator: iterator,
            limit,
        };
        self.call("GetRecords", &input, |b| {
            serde_json::from_slice::<GetRecordsOut<'_>>(b).map(|out| out.summarise(find))
        })
        .await
    }
}

/// `{"__type": "ns#Kind", "message": "…"}` → (`Kind`, message); tolerant of anything else.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, String) {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        kind: Option<String>,
        message: Option<String>,
        #[serde(rename = "Message")]
        message_upper: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => {
            let kind = e
                .kind
                .map(|k| k.rsplit('#').next().unwrap_or(&k).to_owned());
            (kind, e.message.or(e.message_upper).unwrap_or_default())
        }
        Err(_) => (
            None,
            String::from_utf8_lossy(body).chars().take(200).collect(),
        ),
    }
}

/// Decoded length of standard base64 text (padding honoured), without decoding it.
pub fn base64_decoded_len(text: &str) -> u64 {
    let len = text.len() as u64;
    let pad = text.bytes().rev().take(2).filter(|&b| b == b'=').count() as u64;
    (len / 4 * 3).saturating_sub(pad)
        + match len % 4 {
            // Unpadded encoders: 2 chars → 1 byte, 3 chars → 2 bytes.
            2 => 1,
            3 => 2,
            _ => 0,
        }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateStreamIn<'a> {
    stream_name: &'a str,
    shard_count: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamNameIn<'a> {
    stream_name: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamSummaryOut {
    stream_description_summary: StreamSummary,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSummary {
    stream_status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsIn<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsOut {
    #[serde(default)]
    shards: Vec<Shard>,
    next_token: Option<String>,
}

/// A shard as ListShards describes it (the fields the benchmark uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    pub shard_id: String,
    pub hash_key_range: HashKeyRange,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HashKeyRange {
    pub starting_hash_key: String,
    pub ending_hash_key: String,
}

/// A string already encoded as a JSON string literal, quotes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonString(String);

impl JsonString {
    pub fn new(text: &str) -> Self {
        // Serialising a `&str` cannot fail.
        Self(serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A PutRecords body assembled from pre-encoded pieces: the ingest's hot path copies each
/// record's JSON-quoted base64 data instead of escaping ~1.4 KB of text per record per
/// call, so the client's CPU stays out of the server's way. The bytes are those
/// `serde_json` makes of [`PutRecordsIn`].
#[derive(Debug)]
pub struct PutRecordsBody {
    buf: Vec<u8>,
    first: bool,
}

impl PutRecordsBody {
    /// Starts a body for `stream`; `capacity` is a size hint in bytes.
    pub fn new(stream: &JsonString, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity + 64);
        buf.extend_from_slice(b"{\"StreamName\":");
        buf.extend_from_slice(stream.as_str().as_bytes());
        buf.extend_from_slice(b",\"Records\":[");
        Self { buf, first: true }
    }

    pub fn push(&mut self, data: &JsonString, partition_key: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.extend_from_slice(b"{\"Data\":");
        self.buf.extend_from_slice(data.as_str().as_bytes());
        self.buf.extend_from_slice(b",\"PartitionKey\":");
        // Writing a `&str` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, partition_key);
        self.buf.push(b'}');
    }

    /// Appends a record whose `Data` is the concatenation of `base64_parts`, e.g. a
    /// per-record header and a payload shared by every record. The parts must be base64 text
    /// (nothing in it needs JSON escaping), and every part but the last must encode a
    /// multiple of 3 bytes so the concatenation is itself valid base64.
    pub fn push_base64_parts(&mut self, base64_parts: &[&str], partition_key: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.extend_from_slice(b"{\"Data\":\"");
        for part in base64_parts {
            self.buf.extend_from_slice(part.as_bytes());
        }
        self.buf.extend_from_slice(b"\",\"PartitionKey\":");
        // Writing a `&str` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, partition_key);
        self.buf.push(b'}');
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"]}");
        self.buf
    }
}

/// PutRecords input; `Data` is base64 text. The reference shape of [`PutRecordsBody`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsIn<'a> {
    pub stream_name: &'a str,
    pub records: Vec<PutRecordsEntry<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsEntry<'a> {
    pub data: &'a str,
    pub partition_key: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsOut {
    #[serde(default)]
    pub failed_record_count: u64,
    #[serde(default)]
    pub records: Vec<PutRecordsResultEntry>,
}

/// One entry of a PutRecords answer, aligned with the request's entries.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordsResultEntry {
    pub error_code: Option<String>,
}

/// PutRecord input; `Data` is base64 text.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordIn<'a> {
    pub stream_name: &'a str,
    pub data: &'a str,
    pub partition_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRecordOut {
    pub shard_id: String,
    pub sequence_number: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorIn<'a> {
    stream_name: &'a str,
    shard_id: &'a str,
    shard_iterator_type: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorOut {
    shard_iterator: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsIn<'a> {
    shard_iterator: &'a str,
    limit: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsOut<'a> {
    #[serde(borrow, default)]
    records: Vec<RecordOut<'a>>,
    next_shard_iterator: Option<String>,
    millis_behind_latest: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordOut<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
    #[serde(borrow)]
    sequence_number: Cow<'a, str>,
}

impl GetRecordsOut<'_> {
    fn summarise(self, find: Option<&str>) -> RecordsPage {
        RecordsPage {
            records: self.records.len() as u64,
            data_bytes: self
                .records
                .iter()
                .map(|r| base64_decoded_len(&r.data))
                .sum(),
            found: find.is_some_and(|seq| self.records.iter().any(|r| r.sequence_number == seq)),
            next_shard_iterator: self.next_shard_iterator,
            millis_behind_latest: self.millis_behind_latest,
        }
    }
}

/// What the benchmark keeps of a GetRecords answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsPage {
    pub records: u64,
    /// Decoded data bytes on the page.
    pub data_bytes: u64,
    /// Whether the record asked for is on the page.
    pub found: bool,
    /// `None` once the shard is closed and read to its end.
    pub next_shard_iterator: Option<String>,
    pub millis_behind_latest: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn dummy_authorization_is_a_well_formed_sigv4_header() {
        let h = dummy_authorization("20260101T000000Z", "us-east-1");
        assert_eq!(
            h,
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=0000000000000000000000000000000000000000000000000000000000000000"
        );
        let (algorithm, rest) = h.split_once(' ').expect("algorithm");
        assert_eq!(algorithm, "AWS4-HMAC-SHA256");
        let parts: Vec<(&str, &str)> = rest
            .split(", ")
            .map(|p| p.split_once('=').expect("key=value"))
            .collect();
        let keys: Vec<&str> = parts.iter().map(|p| p.0).collect();
        assert_eq!(keys, ["Credential", "SignedHeaders", "Signature"]);
        let scope: Vec<&str> = parts[0].1.split('/').collect();
        assert_eq!(scope.len(), 5);
        assert_eq!(scope[1].len(), 8);
        assert!(scope[1].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(&scope[2..], ["us-east-1", "kinesis", "aws4_request"]);
        let signature = parts[2].1;
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        // The credential day follows X-Amz-Date.
        assert!(
            dummy_authorization("20311231T235959Z", "eu-west-1")
                .contains("Credential=test/20311231/eu-west-1/kinesis/aws4_request,")
        );
    }

    #[test]
    fn requests_serialise_to_the_json_1_1_shapes() {
        let input = PutRecordsIn {
            stream_name: "s",
            records: vec![PutRecordsEntry {
                data: "AAE=",
                partition_key: "k",
            }],
        };
        assert_eq!(
            serde_json::to_string(&input).expect("json"),
            r#"{"StreamName":"s","Records":[{"Data":"AAE=","PartitionKey":"k"}]}"#
        );
        let one = PutRecordIn {
            stream_name: "s",
            data: "AA==",
            partition_key: "p",
            explicit_hash_key: None,
        };
        assert_eq!(
            serde_json::to_string(&one).expect("json"),
            r#"{"StreamName":"s","Data":"AA==","PartitionKey":"p"}"#
        );
        let list = ListShardsIn {
            stream_name: None,
            next_token: Some("t"),
        };
        assert_eq!(
            serde_json::to_string(&list).expect("json"),
            r#"{"NextToken":"t"}"#
        );
    }

    #[test]
    fn put_records_body_matches_serde() {
        let entries = [("AAE=", "k1"), ("AA==", "we\"ird\\key"), ("", "k3")];
        let reference = PutRecordsIn {
            stream_name: "sluice-bench-0123abcd",
            records: entries
                .iter()
                .map(|&(data, partition_key)| PutRecordsEntry {
                    data,
                    partition_key,
                })
                .collect(),
        };
        let mut body = PutRecordsBody::new(&JsonString::new("sluice-bench-0123abcd"), 0);
        for (data, key) in entries {
            body.push(&JsonString::new(data), key);
        }
        assert_eq!(
            String::from_utf8(body.finish()).expect("utf-8"),
            serde_json::to_string(&reference).expect("json")
        );
        let empty = PutRecordsBody::new(&JsonString::new("s"), 0).finish();
        assert_eq!(empty, br#"{"StreamName":"s","Records":[]}"#);
    }

    #[test]
    fn put_records_body_with_base64_parts_matches_serde() {
        let engine = base64::engine::general_purpose::STANDARD;
        let (head, tail) = (engine.encode(b"abc123"), engine.encode(b"tail!"));
        let whole = format!("{head}{tail}");
        assert_eq!(
            engine.decode(&whole).expect("valid base64"),
            b"abc123tail!".to_vec()
        );
        let reference = PutRecordsIn {
            stream_name: "s",
            records: vec![
                PutRecordsEntry {
                    data: &whole,
                    partition_key: "k\"1",
                },
                PutRecordsEntry {
                    data: "",
                    partition_key: "k2",
                },
            ],
        };
        let mut body = PutRecordsBody::new(&JsonString::new("s"), 0);
        body.push_base64_parts(&[&head, &tail], "k\"1");
        body.push_base64_parts(&[], "k2");
        assert_eq!(
            String::from_utf8(body.finish()).expect("utf-8"),
            serde_json::to_string(&reference).expect("json")
        );
    }

    #[test]
    fn get_records_pages_are_summarised() {
        let body = br#"{"Records":[
            {"Data":"AAECAw==","PartitionKey":"a","SequenceNumber":"1","ApproximateArrivalTimestamp":1.5},
            {"Data":"AAEC","PartitionKey":"b","SequenceNumber":"2"}],
            "NextShardIterator":"it2","MillisBehindLatest":0}"#;
        let out: GetRecordsOut<'_> = serde_json::from_slice(body).expect("decodes");
        let page = out.summarise(Some("2"));
        assert_eq!(
            page,
            RecordsPage {
                records: 2,
                data_bytes: 7,
                found: true,
                next_shard_iterator: Some("it2".into()),
                millis_behind_latest: Some(0),
            }
        );
        let empty: GetRecordsOut<'_> =
            serde_json::from_slice(br#"{"Records":[],"NextShardIterator":null}"#).expect("ok");
        let page = empty.summarise(Some("2"));
        assert_eq!((page.records, page.found), (0, false));
        assert_eq!(page.next_shard_iterator, None);
        assert_eq!(page.millis_behind_latest, None);
    }

    #[test]
    fn base64_lengths() {
        let engine = base64::engine::general_purpose::STANDARD;
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD;
        for n in 0..40usize {
            let data = vec![7u8; n];
            assert_eq!(base64_decoded_len(&engine.encode(&data)), n as u64, "{n}");
            assert_eq!(base64_decoded_len(&unpadded.encode(&data)), n as u64, "{n}");
        }
    }

    #[test]
    fn error_bodies_and_retryability() {
        let (kind, message) = parse_error_body(
            br#"{"__type":"com.amazonaws.kinesis#ProvisionedThroughputExceededException","message":"slow down"}"#,
        );
        assert_eq!(
            kind.as_deref(),
            Some("ProvisionedThroughputExceededException")
        );
        assert_eq!(message, "slow down");
        let (kind, message) = parse_error_body(b"<html>oops</html>");
        assert_eq!(kind, None);
        assert_eq!(message, "<html>oops</html>");
        let api = |status, kind: &str| CallError::Api {
            op: "PutRecords",
            status,
            kind: kind.into(),
            message: String::new(),
        };
        assert!(api(400, "ProvisionedThroughputExceededException").is_retryable());
        assert!(api(400, "LimitExceededException").is_retryable());
        assert!(api(503, "Whatever").is_retryable());
        assert!(!api(400, "ResourceNotFoundException").is_retryable());
        assert!(!api(500, "InternalFailure").is_retryable());
        assert_eq!(
            api(400, "ResourceNotFoundException").to_string(),
            "PutRecords: HTTP 400 ResourceNotFoundException: "
        );
    }
}
