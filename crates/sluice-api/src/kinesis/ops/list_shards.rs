//! ListShards: `{StreamName | StreamARN | NextToken, ExclusiveStartShardId?, MaxResults?,
//! ShardFilter?}` → `{Shards, NextToken?}`.
//!
//! The token is base64 of `<stream>:<epoch>:<last ordinal>:<filter>`; with a token the
//! stream must not be named again, as on AWS.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;
use sluice_core::kinesis::ShardSpec;
use sluice_core::kinesis::shards::parse_shard_id;
use sluice_store::kinesis::retention_cutoff;

use super::{blocking, shard_json};
use crate::kinesis::{Body, Ctx, KinesisWireError, b64, blob, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    next_token: Option<String>,
    exclusive_start_shard_id: Option<String>,
    max_results: Option<i64>,
    shard_filter: Option<ShardFilter>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct ShardFilter {
    #[serde(rename = "Type")]
    kind: Option<String>,
    shard_id: Option<String>,
    timestamp: Option<f64>,
}

const FILTERS: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    v.range("maxResults", req.max_results, 1, 10_000);
    if let Some(k) = req.shard_filter.as_ref().and_then(|f| f.kind.as_deref()) {
        v.one_of("shardFilter.type", k, &FILTERS, "[AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]");
    }
    v.finish().map_err(KinesisWireError::validation)?;

    // (stream, epoch, after ordinal, filter) from the token or the request.
    let (name, epoch, mut after, filter) = match &req.next_token {
        Some(token) => {
            if req.stream_name.is_some() || req.stream_arn.is_some() {
                return Err(KinesisWireError::invalid(
                    "NextToken and StreamName cannot be provided together.",
                ));
            }
            let bad = || KinesisWireError::invalid(format!("Invalid NextToken: {token}"));
            let raw = String::from_utf8(blob("NextToken", token).map_err(|_| bad())?)
                .map_err(|_| bad())?;
            let mut parts = raw.splitn(4, ':');
            let name = parts.next().ok_or_else(bad)?.to_owned();
            let epoch: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
            let after: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
            let filter: Option<(String, Option<String>, Option<f64>)> = parts
                .next()
                .and_then(|f| serde_json::from_str(f).ok())
                .ok_or_else(bad)?;
            (
                name,
                Some(epoch),
                after,
                filter.map(|(k, s, t)| ShardFilter {
                    kind: Some(k),
                    shard_id: s,
                    timestamp: t,
                }),
            )
        }
        None => {
            let name = ctx.stream_name(req.stream_name.as_deref(), req.stream_arn.as_deref())?;
            let after = req
                .exclusive_start_shard_id
                .as_deref()
                .and_then(parse_shard_id)
                .map_or(-1, i64::from);
            (name, None, after, req.shard_filter.clone())
        }
    };
    let stream = ctx.kinesis.stream(&name)?;
    if epoch.is_some_and(|e| e != stream.epoch_ms) {
        return Err(KinesisWireError::new(
            "ExpiredNextTokenException",
            "The timestamp of the stream in the NextToken does not match the stream's.",
        ));
    }
    let now = ctx.now_ms;
    let keep: Box<dyn Fn(&ShardSpec) -> bool + Send> = match &filter {
        None => Box::new(|_| true),
        Some(f) => {
            let kind = f.kind.clone().unwrap_or_default();
            let ts_ms = f.timestamp.map(|t| (t * 1000.0).max(0.0) as u64);
            // The trim horizon: no earlier than the stream itself.
            let horizon = retention_cutoff(&stream, now).max(stream.epoch_ms);
            match kind.as_str() {
                "AFTER_SHARD_ID" => {
                    let Some(id) = f.shard_id.as_deref() else {
                        return Err(KinesisWireError::invalid(
                            "ShardId must be provided with ShardFilter type AFTER_SHARD_ID.",
                        ));
                    };
                    after = after.max(parse_shard_id(id).map_or(-1, i64::from));
                    Box::new(|_| true)
                }
                "AT_TRIM_HORIZON" => Box::new(move |s| s.open_at(horizon)),
                "FROM_TRIM_HORIZON" => Box::new(move |s| s.closed_ms.is_none_or(|c| c > horizon)),
                "AT_LATEST" => Box::new(|s| !s.closed),
                "AT_TIMESTAMP" | "FROM_TIMESTAMP" => {
                    let Some(ts) = ts_ms else {
                        return Err(KinesisWireError::invalid(format!(
                            "Timestamp must be provided with ShardFilter type {kind}."
                        )));
                    };
                    if kind == "AT_TIMESTAMP" {
                        Box::new(move |s| s.open_at(ts))
                    } else {
                        Box::new(move |s| s.closed_ms.is_none_or(|c| c > ts))
                    }
                }
                _ => Box::new(|_| true),
            }
        }
    };
    let max = usize::try_from(req.max_results.unwrap_or(1000)).unwrap_or(1000);
    let kinesis = ctx.kinesis.clone();
    blocking(move || {
        let mut rest = stream
            .layout
            .shards
            .iter()
            .filter(|s| i64::from(s.ordinal) > after && keep(s));
        let page: Vec<&ShardSpec> = rest.by_ref().take(max).collect();
        let more = rest.next().is_some();
        let shards: Vec<Value> = page
            .iter()
            .map(|s| shard_json(&kinesis, &stream, s))
            .collect::<Result<_, _>>()?;
        let mut out = json!({ "Shards": shards });
        if more && let Some(last) = page.last() {
            let f = filter.as_ref().map(|f| {
                (
                    f.kind.clone().unwrap_or_default(),
                    f.shard_id.clone(),
                    f.timestamp,
                )
            });
            let raw = format!(
                "{}:{}:{}:{}",
                stream.name,
                stream.epoch_ms,
                last.ordinal,
                serde_json::to_string(&f).unwrap_or_else(|_| "null".into())
            );
            out["NextToken"] = json!(b64(raw.as_bytes()));
        }
        Ok(out)
    })
    .await
}
