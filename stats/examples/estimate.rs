//! `hailong estimate` without the web application: the same arguments and output, for
//! benchmarks and for analysts who only need the estimation engine.
//!
//! ```text
//! cargo run --release -p hailong-stats --example estimate -- --input data.csv --items q1,q2 …
//! ```

use clap::Parser;
use hailong_stats::cli::{EstimateArgs, run};

#[derive(Parser)]
#[command(
    name = "estimate",
    about = "Design-based estimates with confidence intervals"
)]
struct Command {
    #[command(flatten)]
    args: EstimateArgs,
}

fn main() -> std::process::ExitCode {
    let command = Command::parse();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    match run(&command.args, &mut stdout.lock(), &mut stderr.lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
