//! `sluice bench`: load generators that drive any AWS-compatible endpoint (Sluice or a peer
//! emulator) over the wire and report comparable figures.
//!
//! # Layout
//!
//! - [`kinesis`]: `sluice bench kinesis`, the phases (create, ingest, read-back, latency,
//!   delete) and their figures.
//! - [`esm`]: `sluice bench esm`, Kinesis event source mappings end to end: put→invoked
//!   latency and the drain rate of a backlog, with the bench process as the function (see
//!   its docs for the config Sluice needs).
//! - [`sqs`]: `sluice bench sqs`, SQS round trips on any endpoint and, with `--mapping`,
//!   Sluice's SQS event source mappings end to end.
//! - [`dynamodb`]: `sluice bench dynamodb`, DynamoDB stream mappings end to end:
//!   PutItem→invoked latency and the end-to-end rate, with the function of [`esm`].
//! - [`kinesis_wire`]: a minimal Kinesis JSON 1.1 client over plain HTTP with a dummy SigV4
//!   header.
//! - [`report`]: the figures, the table, the JSON line, nearest-rank percentiles and host
//!   readings (`/proc/loadavg`, process CPU time).
//!
//! Every benchmark is one [`BenchCommand`] variant with its own `Args` struct and module.

pub mod dynamodb;
pub mod esm;
pub mod kinesis;
pub mod kinesis_wire;
pub mod report;
pub mod sqs;

use clap::{Args, Subcommand};
use reqwest::Url;

/// `--endpoint`: a plain-HTTP URL (this build has no TLS).
pub fn parse_endpoint(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL ({e}); e.g. http://127.0.0.1:4566"))?;
    match url.scheme() {
        "http" => Ok(url),
        "https" => Err("this build speaks plain HTTP only (no TLS); use http://".into()),
        other => Err(format!("unsupported scheme {other:?}; use http://")),
    }
}

/// `sluice bench …`: the arguments of the `bench` subcommand.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// One benchmark.
#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// Drive a Kinesis-compatible endpoint (JSON 1.1 over HTTP): create a stream, put
    /// records, read them back, measure put→visible latency, delete the stream.
    Kinesis(kinesis::KinesisArgs),
    /// Drive Sluice's Kinesis event source mappings with the bench as the function:
    /// put→invoked latency (BatchSize 1) and the drain rate of a backlog, then delete what
    /// it created. Needs the function declared in Sluice's config (see below).
    #[command(after_help = esm::CONFIG_HELP)]
    Esm(esm::EsmArgs),
    /// Drive an SQS-compatible endpoint (JSON 1.0): SendMessageBatch + ReceiveMessage +
    /// DeleteMessageBatch round trips; with --mapping, Sluice's SQS event source mappings
    /// (send→invoked latency and the drain rate of a backlog).
    Sqs(sqs::SqsArgs),
    /// Drive Sluice's DynamoDB stream mappings with the bench as the function:
    /// PutItem→invoked latency (BatchSize 1) and the end-to-end rate of concurrent
    /// PutItems, then delete what it created. Needs the function declared as for `esm`.
    #[command(after_help = esm::CONFIG_HELP)]
    Dynamodb(dynamodb::DynamoArgs),
}

/// Runs the benchmark `args` names; prints its report; fails if any phase failed.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Kinesis(args) => kinesis::run(&args).await,
        BenchCommand::Esm(args) => esm::run(&args).await,
        BenchCommand::Sqs(args) => sqs::run(&args).await,
        BenchCommand::Dynamodb(args) => dynamodb::run(&args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Mirrors the binary's `sluice bench …` nesting.
    #[derive(Debug, Parser)]
    #[command(name = "sluice")]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Debug, Subcommand)]
    enum Top {
        Bench(BenchArgs),
    }

    fn parse_bench(args: &[&str]) -> Result<BenchCommand, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("sluice").chain(args.iter().copied()))?;
        let Top::Bench(BenchArgs { command }) = cli.command;
        Ok(command)
    }

    fn parse(args: &[&str]) -> Result<kinesis::KinesisArgs, clap::Error> {
        match parse_bench(args)? {
            BenchCommand::Kinesis(k) => Ok(k),
            other => panic!("not bench kinesis: {other:?}"),
        }
    }

    fn parse_esm(args: &[&str]) -> Result<esm::EsmArgs, clap::Error> {
        let full: Vec<&str> = ["bench", "esm"].iter().chain(args).copied().collect();
        match parse_bench(&full)? {
            BenchCommand::Esm(e) => Ok(e),
            other => panic!("not bench esm: {other:?}"),
        }
    }

    #[test]
    fn bench_dynamodb_parses_with_defaults() {
        let BenchCommand::Dynamodb(d) =
            parse_bench(&["bench", "dynamodb", "--endpoint", "http://127.0.0.1:4599"])
                .expect("parses")
        else {
            panic!("not bench dynamodb");
        };
        assert_eq!(d.endpoint.as_str(), "http://127.0.0.1:4599/");
        assert_eq!((d.items, d.size, d.batch_size), (10_000, 256, 100));
        assert_eq!((d.concurrency, d.latency_samples), (4, 200));
        assert_eq!((d.function.as_str(), d.function_port), ("bench", 9555));
        assert!(
            parse_bench(&["bench", "dynamodb"]).is_err(),
            "--endpoint is required"
        );
    }

    #[test]
    fn bench_esm_parses_the_issue_command_with_defaults() {
        let e = parse_esm(&["--endpoint", "http://127.0.0.1:4599", "--records", "100000"])
            .expect("parses");
        assert_eq!(e.endpoint.as_str(), "http://127.0.0.1:4599/");
        assert_eq!(e.records, 100_000);
        assert_eq!((e.size, e.shards, e.batch_size), (1024, 1, 1000));
        assert_eq!((e.concurrency, e.latency_samples), (4, 200));
        assert_eq!((e.function.as_str(), e.function_port), ("bench", 9555));
        assert_eq!(
            (e.region.as_str(), e.account_id.as_str()),
            ("us-east-1", "000000000000")
        );
        assert_eq!((e.phase_timeout, e.sample_timeout_ms), (300, 10_000));
        assert!(!e.json);
        assert_eq!(e.label, None);
        // --records defaults to 100,000.
        let d = parse_esm(&["--endpoint", "http://127.0.0.1:4599"]).expect("parses");
        assert_eq!(d.records, 100_000);
    }

    #[test]
    fn bench_esm_parses_every_option() {
        let e = parse_esm(&[
            "--endpoint=http://localhost:4566",
            "--records=10",
            "--size=18",
            "--shards=4",
            "--batch-size=10000",
            "--concurrency=2",
            "--latency-samples=0",
            "--function=f1",
            "--function-port=9000",
            "--json",
            "--label=sluice-r1",
            "--region=eu-west-1",
            "--account-id=123456789012",
            "--phase-timeout=5",
            "--sample-timeout-ms=250",
        ])
        .expect("parses");
        assert_eq!(
            (e.records, e.size, e.shards, e.batch_size, e.concurrency),
            (10, 18, 4, 10_000, 2)
        );
        assert_eq!(e.latency_samples, 0);
        assert_eq!((e.function.as_str(), e.function_port), ("f1", 9000));
        assert!(e.json);
        assert_eq!(e.label.as_deref(), Some("sluice-r1"));
        assert_eq!(
            (e.region.as_str(), e.account_id.as_str()),
            ("eu-west-1", "123456789012")
        );
        assert_eq!((e.phase_timeout, e.sample_timeout_ms), (5, 250));
    }

    #[test]
    fn bench_esm_rejects_bad_arguments() {
        let with = |extra: &[&str]| {
            let mut v = vec!["--endpoint", "http://127.0.0.1:4599"];
            v.extend_from_slice(extra);
            parse_esm(&v)
        };
        assert!(with(&[]).is_ok());
        assert!(parse_esm(&[]).is_err(), "--endpoint is required");
        assert!(parse_esm(&["--endpoint", "https://127.0.0.1:4599"]).is_err());
        assert!(parse_esm(&["--endpoint", "127.0.0.1:4599"]).is_err());
        assert!(with(&["--records", "0"]).is_err());
        // The record header takes 18 bytes.
        assert!(with(&["--size", "17"]).is_err());
        assert!(with(&["--size", "1048577"]).is_err());
        assert!(with(&["--shards", "0"]).is_err());
        assert!(with(&["--batch-size", "0"]).is_err());
        assert!(with(&["--batch-size", "10001"]).is_err());
        assert!(with(&["--concurrency", "0"]).is_err());
        assert!(with(&["--function-port", "0"]).is_err());
        assert!(with(&["--function-port", "65536"]).is_err());
        assert!(with(&["--batch", "10"]).is_err(), "that is bench kinesis");
    }

    #[test]
    fn bench_kinesis_parses_the_issue_command_with_defaults() {
        let k = parse(&[
            "bench",
            "kinesis",
            "--endpoint",
            "http://127.0.0.1:4567",
            "--records",
            "20000",
            "--size",
            "1024",
            "--shards",
            "2",
        ])
        .expect("parses");
        assert_eq!(k.endpoint.as_str(), "http://127.0.0.1:4567/");
        assert_eq!(k.records, 20_000);
        assert_eq!(k.size, 1024);
        assert_eq!(k.shards, 2);
        assert_eq!(k.batch, 500);
        assert_eq!(k.concurrency, 4);
        assert_eq!(k.latency_samples, 100);
        assert!(!k.json);
        assert_eq!(k.label, None);
        assert_eq!(k.region, "us-east-1");
    }

    #[test]
    fn bench_kinesis_parses_every_option() {
        let k = parse(&[
            "bench",
            "kinesis",
            "--endpoint=http://localhost:4566",
            "--records=10",
            "--size=1",
            "--shards=1",
            "--batch=7",
            "--concurrency=3",
            "--latency-samples=0",
            "--json",
            "--label=kinesalite-r1",
            "--region=eu-west-1",
            "--phase-timeout=5",
            "--sample-timeout-ms=250",
        ])
        .expect("parses");
        assert_eq!(
            (k.records, k.size, k.shards, k.batch, k.concurrency),
            (10, 1, 1, 7, 3)
        );
        assert_eq!(k.latency_samples, 0);
        assert!(k.json);
        assert_eq!(k.label.as_deref(), Some("kinesalite-r1"));
        assert_eq!(k.region, "eu-west-1");
        assert_eq!((k.phase_timeout, k.sample_timeout_ms), (5, 250));
    }

    #[test]
    fn bench_kinesis_rejects_bad_arguments() {
        let base = ["bench", "kinesis", "--endpoint", "http://127.0.0.1:4567"];
        let with = |extra: &[&str]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            parse(&v)
        };
        // --records and --shards are required.
        assert!(with(&["--shards", "1"]).is_err());
        assert!(with(&["--records", "1"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1"]).is_ok());
        // Ranges: PutRecords takes at most 500 records and 1 MiB of data per record.
        assert!(with(&["--records", "0", "--shards", "1"]).is_err());
        assert!(with(&["--records", "1", "--shards", "0"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1", "--batch", "501"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1", "--batch", "0"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1", "--size", "0"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1", "--size", "1048577"]).is_err());
        assert!(with(&["--records", "1", "--shards", "1", "--concurrency", "0"]).is_err());
        // No TLS in this build, and the endpoint must be a URL.
        let https = parse(&[
            "bench",
            "kinesis",
            "--endpoint",
            "https://kinesis.us-east-1.amazonaws.com",
            "--records",
            "1",
            "--shards",
            "1",
        ]);
        assert!(https.is_err());
        let not_url = parse(&[
            "bench",
            "kinesis",
            "--endpoint",
            "127.0.0.1:4567",
            "--records",
            "1",
            "--shards",
            "1",
        ]);
        assert!(not_url.is_err());
        // An unknown benchmark is refused.
        assert!(Cli::try_parse_from(["sluice", "bench", "nope"]).is_err());
    }
}
