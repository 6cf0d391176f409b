//! `sluice serve`: the Lambda event source mapping API and the AWS-compatible services on
//! one port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice::{Options, Server};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Self-hosted AWS Lambda event source mappings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Lambda API and the embedded services until SIGTERM or SIGINT.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SLUICE_LISTEN", default_value = "127.0.0.1:4566")]
        listen: SocketAddr,
        /// Directory for durable state; created if missing, refused if it is not Sluice's.
        #[arg(long, env = "SLUICE_DATA_DIR", default_value = "sluice-data")]
        data_dir: PathBuf,
        /// TOML file declaring functions, streams, queues, topics, tables and mappings.
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// Region Sluice answers for.
        #[arg(long, env = "SLUICE_REGION", default_value = "us-east-1")]
        region: String,
        /// Account id in every ARN Sluice hands out.
        #[arg(long, env = "SLUICE_ACCOUNT_ID", default_value = "000000000000")]
        account_id: String,
        /// fdatasync Kinesis records and SQS changes before acknowledging them. `false`
        /// still writes everything before answering, so a crash or kill of Sluice loses
        /// nothing; only a crash of the machine itself may lose the last writes. Metadata
        /// (functions, mappings, checkpoints, queues, topics, tables) is always fsync'd.
        #[arg(long, env = "SLUICE_FSYNC", default_value_t = true, action = clap::ArgAction::Set)]
        fsync: bool,
    },
    /// Benchmark an AWS-compatible endpoint (Sluice or a peer emulator).
    Bench(sluice::bench::BenchArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sluice: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (listen, data_dir, config, region, account_id, fsync) = match cli.command {
        Command::Bench(args) => return sluice::bench::run(args).await,
        Command::Serve {
            listen,
            data_dir,
            config,
            region,
            account_id,
            fsync,
        } => (listen, data_dir, config, region, account_id, fsync),
    };
    let server = Server::start(Options {
        listen,
        data_dir,
        config,
        region,
        account_id,
        fsync,
    })
    .await?;
    tracing::info!(endpoint = %server.endpoint(), "Sluice is ready.");
    wait_for_signal().await?;
    tracing::info!("Shutting down.");
    server.shutdown().await?;
    tracing::info!("Stopped.");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
