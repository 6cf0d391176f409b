//! ListStreams: `{Limit?, ExclusiveStartStreamName?, NextToken?}` →
//! `{StreamNames, HasMoreStreams, StreamSummaries, NextToken?}`. Streams in name order; the
//! token is the last name of the page.

use serde::Deserialize;
use serde_json::{Value, json};
use sluice_core::constraint::Violations;

use super::stream_mode;
use crate::kinesis::{Body, Ctx, KinesisWireError, b64, blob, epoch, input};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    limit: Option<i64>,
    exclusive_start_stream_name: Option<String>,
    next_token: Option<String>,
}

pub async fn handle(ctx: &Ctx<'_>, value: Body) -> Result<Value, KinesisWireError> {
    let req: Input = input(value)?;
    let mut v = Violations::default();
    v.range("limit", req.limit, 1, 10_000);
    v.finish().map_err(KinesisWireError::validation)?;
    let after = match (&req.next_token, &req.exclusive_start_stream_name) {
        (Some(_), Some(_)) => {
            return Err(KinesisWireError::invalid(
                "NextToken and ExclusiveStartStreamName cannot be provided together.",
            ));
        }
        (Some(t), None) => Some(
            String::from_utf8(blob("NextToken", t).map_err(|_| invalid_token(t))?)
                .map_err(|_| invalid_token(t))?,
        ),
        (None, s) => s.clone(),
    };
    let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
    let all = ctx.kinesis.list_streams()?;
    let mut rest = all
        .iter()
        .filter(|s| after.as_deref().is_none_or(|a| s.name.as_str() > a));
    let page: Vec<_> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    let mut out = json!({
        "StreamNames": page.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "HasMoreStreams": more,
        "StreamSummaries": page.iter().map(|s| json!({
            "StreamName": s.name,
            "StreamARN": s.arn,
            "StreamStatus": s.status.as_str(),
            "StreamModeDetails": stream_mode(s),
            "StreamCreationTimestamp": epoch(s.epoch_ms),
        })).collect::<Vec<_>>(),
    });
    if more && let Some(last) = page.last() {
        out["NextToken"] = json!(b64(last.name.as_bytes()));
    }
    Ok(out)
}

fn invalid_token(t: &str) -> KinesisWireError {
    KinesisWireError::invalid(format!("NextToken {t} is invalid."))
}
