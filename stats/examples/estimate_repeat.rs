//! Benchmark of `hailong estimate` for issue 18: runs the command `--repeat` times in one
//! process (output discarded) and prints the fastest and the median read time, statistics time
//! and total, as the command reports them. On a shared machine the fastest run is the one
//! least disturbed by the other work.
//!
//! ```text
//! cargo build --release -p hailong-stats --example gen_microdata --example estimate_repeat
//! target/release/examples/gen_microdata /tmp/micro.csv
//! target/release/examples/estimate_repeat --repeat 15 --input /tmp/micro.csv \
//!   --items $(seq -s, -f q%g 1 22) --weight weight --strata stratum --psu psu --by province
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use clap::Parser;
use hailong_stats::cli::{EstimateArgs, run};

#[derive(Parser)]
#[command(
    name = "estimate_repeat",
    about = "hailong estimate, timed several times"
)]
struct Command {
    /// Number of runs.
    #[arg(long, default_value_t = 10)]
    repeat: usize,
    #[command(flatten)]
    args: EstimateArgs,
}

/// The number before " s" after `marker` in the command's progress lines.
fn seconds(err: &str, marker: &str) -> f64 {
    err.lines()
        .find_map(|l| {
            let (_, tail) = l.split_once(marker)?;
            tail.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(f64::NAN)
}

fn report(label: &str, mut xs: Vec<f64>) {
    xs.sort_by(f64::total_cmp);
    println!(
        "{label:<12} fastest {:.3} s, median {:.3} s",
        xs[0],
        xs[xs.len() / 2]
    );
}

fn main() {
    let command = Command::parse();
    let (mut read, mut stats, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..command.repeat.max(1) {
        let mut err = Vec::new();
        let t = Instant::now();
        run(&command.args, &mut std::io::sink(), &mut err).expect("hailong estimate");
        total.push(t.elapsed().as_secs_f64());
        let err = String::from_utf8_lossy(&err);
        read.push(seconds(&err, "; read in "));
        stats.push(seconds(&err, " estimates in "));
    }
    report("read", read);
    report("statistics", stats);
    report("total", total);
}
