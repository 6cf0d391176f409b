//! `sluice bench`: load generators that drive any AWS-compatible endpoint (Sluice or a peer
//! emulator) over the wire and report comparable figures.
//!
//! # Layout
//!
//! - [`kinesis`]: `sluice bench kinesis`, the phases (create, ingest, read-back, latency,
//!   delete) and their figures.
//! - [`kinesis_wire`]: a minimal Kinesis JSON 1.1 client over plain HTTP with a dummy SigV4
//!   header.
//! - [`report`]: the figures, the table, the JSON line, nearest-rank percentiles and host
//!   readings (`/proc/loadavg`, process CPU time).
//!
//! Every benchmark is one [`BenchCommand`] variant with its own `Args` struct, so a later
//! `sluice bench esm` is one more variant and one more module.

pub mod kinesis;
pub mod kinesis_wire;
pub mod report;

use clap::{Args, Subcommand};

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
}

/// Runs the benchmark `args` names; prints its report; fails if any phase failed.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Kinesis(args) => kinesis::run(&args).await,
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

    fn parse(args: &[&str]) -> Result<kinesis::KinesisArgs, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("sluice").chain(args.iter().copied()))?;
        let Top::Bench(BenchArgs {
            command: BenchCommand::Kinesis(k),
        }) = cli.command;
        Ok(k)
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
