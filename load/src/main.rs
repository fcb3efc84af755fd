//! `hailong-load`: a load generator for Hailong, loopback only.
//!
//! * `hailong-load run --url http://127.0.0.1:8080 --scenario submit …` loads a
//!   running server and prints throughput, latency percentiles and errors.
//! * `hailong-load bench --server target/release/hailong …` is the whole
//!   benchmark: fresh SQLite and PostgreSQL databases, their commit ceilings,
//!   the HTTP ceiling, every workload at every concurrency, and a check that
//!   every acknowledged submission is stored. It prints a Markdown table and
//!   exits 1 on any error or lost acknowledgement (figures are not asserted).
//!
//! It refuses any address that is not loopback, and every run is bounded in
//! time (at most 10 minutes) and in clients (at most 4,096).

mod bench;
mod http;
mod run;
mod survey;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::bench::{Backend, BenchArgs};
use crate::run::Scenario;

const MAX_SECONDS: u64 = 600;
const MAX_CLIENTS: usize = 4_096;

#[derive(Parser)]
#[command(
    name = "hailong-load",
    about = "Load generator and benchmark for Hailong (loopback only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Worker threads of the generator's own runtime.
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load a running server.
    Run {
        /// The server, e.g. http://127.0.0.1:8080 (loopback only).
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "sipas-demo")]
        campaign: String,
        #[arg(long, value_enum, default_value = "submit")]
        scenario: Scenario,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds to run (at most 600).
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Stop after this many requests.
        #[arg(long)]
        max_requests: Option<u64>,
        /// Write the id of every acknowledged submission to this file, one a line.
        #[arg(long)]
        acks: Option<PathBuf>,
    },
    /// The benchmark: SQLite and PostgreSQL side by side, with their ceilings.
    Bench {
        /// The `hailong` binary to benchmark (build it with `cargo build --release`).
        #[arg(long, default_value = "target/release/hailong")]
        server: PathBuf,
        /// PostgreSQL server to make a scratch database on; `none` skips PostgreSQL.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        pg_url: String,
        /// Skip SQLite.
        #[arg(long)]
        no_sqlite: bool,
        #[arg(long, default_value = "sipas-demo")]
        campaign: String,
        /// Workloads, comma-separated.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "livez,page,submit,phone"
        )]
        scenarios: Vec<Scenario>,
        /// Concurrent clients, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
        concurrency: Vec<usize>,
        /// Seconds per workload.
        #[arg(long, default_value_t = 5)]
        duration: u64,
        /// Seconds per database ceiling measurement.
        #[arg(long, default_value_t = 3)]
        ceiling_duration: u64,
    },
}

/// The socket address of a loopback URL, or why it is refused.
fn loopback(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs on this machine are accepted"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let with_port = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<SocketAddr> = with_port
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .collect();
    match addrs.iter().find(|a| a.ip().is_loopback()) {
        Some(a) if addrs.iter().all(|a| a.ip().is_loopback()) => Ok(*a),
        _ => Err(format!(
            "{url}: not a loopback address; hailong-load only loads this machine"
        )),
    }
}

fn bounded(duration: u64, clients: &[usize]) -> Result<(), String> {
    if duration == 0 || duration > MAX_SECONDS {
        return Err(format!("--duration must be 1..={MAX_SECONDS} seconds"));
    }
    if clients.iter().any(|&c| c == 0 || c > MAX_CLIENTS) {
        return Err(format!("--concurrency must be 1..={MAX_CLIENTS}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Cmd::Run {
            url,
            campaign,
            scenario,
            concurrency,
            duration,
            max_requests,
            acks,
        } => {
            bounded(duration, &[concurrency])?;
            let addr = loopback(&url)?;
            let campaign = bench::fetch_campaign(addr, &campaign)
                .await
                .map_err(|e| e.to_string())?;
            let o = run::run(run::Plan {
                addr,
                scenario,
                concurrency,
                duration: Duration::from_secs(duration),
                max_requests,
                campaign,
            })
            .await;
            println!(
                "{} at {concurrency} clients: {} ok in {:.1} s = {:.0}/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
                scenario.name(),
                o.ok,
                o.elapsed.as_secs_f64(),
                o.per_second(),
                o.ms(0.50),
                o.ms(0.95),
                o.ms(0.99),
                o.latency.max() as f64 / 1000.0,
                o.errors
            );
            for s in &o.error_samples {
                println!("  error: {s}");
            }
            if let Some(path) = acks {
                let mut text = o.acked.join("\n");
                text.push('\n');
                std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(if o.errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::Bench {
            server,
            pg_url,
            no_sqlite,
            campaign,
            scenarios,
            concurrency,
            duration,
            ceiling_duration,
        } => {
            bounded(duration, &concurrency)?;
            bounded(ceiling_duration, &[1])?;
            let server = std::fs::canonicalize(&server).map_err(|e| {
                format!(
                    "{}: {e} (build it first: cargo build --release)",
                    server.display()
                )
            })?;
            let mut backends = Vec::new();
            if !no_sqlite {
                backends.push(Backend::Sqlite);
            }
            if pg_url != "none" {
                let host = pg_url
                    .split('@')
                    .nth(1)
                    .and_then(|h| h.split('/').next())
                    .unwrap_or("");
                loopback(&format!("http://{host}"))?;
                backends.push(Backend::Postgres { admin_url: pg_url });
            }
            let args = BenchArgs {
                server,
                backends,
                campaign,
                scenarios,
                concurrency,
                duration: Duration::from_secs(duration),
                ceiling_duration: Duration::from_secs(ceiling_duration),
            };
            let report = bench::bench(&args).await.map_err(|e| e.to_string())?;
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            bench::print(&report, cores);
            if report.problems.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &report.problems {
                    eprintln!("problem: {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_loaded() {
        assert!(loopback("http://127.0.0.1:8080").is_ok());
        assert!(loopback("http://localhost:8080/x").is_ok());
        assert!(loopback("http://[::1]:8080").is_ok());
        assert!(loopback("http://10.0.0.1:8080").is_err());
        assert!(loopback("https://127.0.0.1:8080").is_err());
    }

    #[test]
    fn runs_are_bounded() {
        assert!(bounded(10, &[64]).is_ok());
        assert!(bounded(0, &[64]).is_err());
        assert!(bounded(601, &[64]).is_err());
        assert!(bounded(10, &[0]).is_err());
        assert!(bounded(10, &[5000]).is_err());
    }
}
