#![allow(clippy::unwrap_used)]

use super::*;

fn parse(text: &str) -> anyhow::Result<ConfigFile> {
    ConfigFile::parse(Path::new("sluice.toml"), text.to_owned())
}

#[test]
fn a_full_file_parses() {
    let f = parse(
        r#"
[[functions]]
name = "echo"
url = "http://127.0.0.1:9000/"
timeout = 5
env = { A = "1" }

[[functions]]
name = "proc"
command = ["python3", "handler.py"]

[[streams]]
name = "orders"
shards = 2

[[queues]]
name = "jobs.fifo"

[[topics]]
name = "alerts"

[[tables]]
name = "users"
stream_label = "2026-01-01T00:00:00.000"

[[mappings]]
FunctionName = "echo"
EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
StartingPosition = "TRIM_HORIZON"
BatchSize = 10
"#,
    )
    .unwrap();
    assert_eq!(f.functions.len(), 2);
    assert_eq!(f.mappings[0].get_ref().batch_size, Some(10));
}

#[test]
fn errors_name_the_file_and_line() {
    let cases = [
        (
            "[[functions]]\nname = \"a\"\n",
            "sluice.toml:1",
            "exactly one of `url` or `command`",
        ),
        (
            "\n\n[[functions]]\nname = \"a\"\nurl = \"ftp://x\"\n",
            "sluice.toml:3",
            "url must start",
        ),
        (
            "[[streams]]\nname = \"s\"\nshards = 0\n",
            "sluice.toml:1",
            "shards must be",
        ),
        ("[[bogus]]\nname = 1\n", "sluice.toml:1", "unknown field"),
        (
            "[[functions]]\nname = \"a\"\nurl = 3\n",
            "sluice.toml:3",
            "invalid type",
        ),
        (
            "[[tables]]\nname = \"users\"\nstream_view_type = \"ALL\"\n",
            "sluice.toml:1",
            "stream_view_type",
        ),
        (
            "[[functions]]\nname = \"a\"\nurl = \"http://x\"\n[[functions]]\nname = \"a\"\nurl = \"http://y\"\n",
            "sluice.toml:4",
            "declared twice",
        ),
        (
            "[[functions]]\nname = \"a\"\ncommand = [\"x\"]\nconcurrency = 0\n",
            "sluice.toml:1",
            "concurrency must be 1 to 1000",
        ),
        (
            "[[functions]]\nname = \"a\"\nurl = \"http://x\"\nconcurrency = 2\n",
            "sluice.toml:1",
            "concurrency applies to `command` functions only",
        ),
    ];
    for (text, at, reason) in cases {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(at) && e.contains(reason), "{text:?} -> {e}");
    }
}

#[test]
fn stream_labels_are_checked_and_made() {
    assert!(is_stream_label("2026-01-01T00:00:00.000"));
    assert!(!is_stream_label("2026-01-01"));
    assert_eq!(stream_label(1_767_225_600_123), "2026-01-01T00:00:00.123");
}

#[test]
fn dynamodb_rollover_period_defaults_to_four_hours() {
    let f = parse("").expect("empty file");
    assert_eq!(f.dynamodb.shard_rollover_seconds, 4 * 3600);
    let f = parse("[dynamodb]\nshard_rollover_seconds = 60\n").expect("parses");
    assert_eq!(f.dynamodb.shard_rollover_seconds, 60);
    let e = parse("[dynamodb]\nrollover = 60\n").expect_err("unknown key");
    assert!(format!("{e:#}").contains("unknown field"), "{e:#}");
}
