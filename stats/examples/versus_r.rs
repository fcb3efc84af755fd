//! Issue 18's ratio: `hailong estimate`'s statistics against R `survey`'s
//! `svyby(~items, ~by, design, svymean, na.rm = TRUE)` on the same file in the same run. Runs
//! the `estimate` example (built beside this one) `--rounds` times, then one R process that reads
//! the file, builds the design and times `svyby` `--rounds` times, then `estimate` again, and
//! prints every time, the medians and their ratio.
//!
//! ```text
//! cargo build --release -p hailong-stats --bin hailong-gen-survey --example estimate \
//!   --example versus_r
//! target/release/hailong-gen-survey --output /tmp/survey.csv
//! target/release/examples/versus_r --input /tmp/survey.csv --items $(seq -s, -f q%g 1 20) \
//!   --weight weight --strata stratum --psu village --by province
//! ```
//!
//! Needs `Rscript` with the `survey` package on the path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "versus_r",
    about = "hailong estimate and R svyby on the same file, timed in turn"
)]
struct Args {
    /// The survey CSV.
    #[arg(long)]
    input: PathBuf,
    /// Item columns, comma-separated.
    #[arg(long)]
    items: String,
    /// Weight column.
    #[arg(long)]
    weight: String,
    /// Stratum column.
    #[arg(long)]
    strata: String,
    /// Cluster column.
    #[arg(long)]
    psu: String,
    /// Domain column.
    #[arg(long)]
    by: String,
    /// Runs of each.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One `hailong estimate` in a process of its own: (read s, statistics s) from its progress
/// lines.
fn hailong(args: &Args) -> (f64, f64) {
    let exe = std::env::current_exe().unwrap().with_file_name("estimate");
    let out = Command::new(&exe)
        .args(["--input", args.input.to_str().unwrap()])
        .args(["--items", &args.items, "--weight", &args.weight])
        .args([
            "--strata",
            &args.strata,
            "--psu",
            &args.psu,
            "--by",
            &args.by,
        ])
        .args([
            "--lonely-psu",
            "adjust",
            "--ci",
            "logit",
            "--format",
            "json",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (build the estimate example)", exe.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let after = |marker: &str| -> f64 {
        err.lines()
            .find_map(|l| {
                let (_, tail) = l.split_once(marker)?;
                tail.split_whitespace().next()?.parse().ok()
            })
            .expect("a progress line")
    };
    (after("; read in "), after(" estimates in "))
}

fn main() {
    let args = Args::parse();
    let rounds = args.rounds.max(1);
    let mut stats = Vec::new();
    let mut reads = Vec::new();
    let mut run_hailong = |label: &str| {
        for _ in 0..rounds {
            let (read, s) = hailong(&args);
            println!("hailong estimate ({label}): read {read:.2} s, statistics {s:.3} s");
            reads.push(read);
            stats.push(s);
        }
    };
    run_hailong("before R");
    let dir = std::env::temp_dir().join(format!("hailong-versus-r-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("svyby.R");
    std::fs::write(
        &script,
        r#"suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
a <- commandArgs(TRUE)
items <- strsplit(a[2], ",")[[1]]
classes <- setNames(rep("character", 3), c(a[4], a[5], a[6]))
t0 <- proc.time()[["elapsed"]]
d <- read.csv(a[1], colClasses = classes)
t1 <- proc.time()[["elapsed"]]
des <- svydesign(ids = as.formula(paste("~", a[5])), strata = as.formula(paste("~", a[4])),
                 weights = as.formula(paste("~", a[3])), data = d, nest = TRUE)
t2 <- proc.time()[["elapsed"]]
cat(sprintf("read\t%.3f\ndesign\t%.3f\n", t1 - t0, t2 - t1))
f <- as.formula(paste("~", paste(items, collapse = "+")))
for (i in seq_len(as.integer(a[7]))) {
  t <- system.time(r <- svyby(f, as.formula(paste("~", a[6])), des, svymean, na.rm = TRUE))
  cat(sprintf("svyby\t%.3f\n", t[["elapsed"]]))
}
cat(sprintf("version\t%s\n", as.character(packageVersion("survey"))))
"#,
    )
    .unwrap();
    let out = Command::new("Rscript")
        .arg(&script)
        .arg(&args.input)
        .args([&args.items, &args.weight, &args.strata, &args.psu, &args.by])
        .arg(rounds.to_string())
        .output()
        .expect("Rscript (with the survey package) on the path");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut r_svyby = Vec::new();
    for line in text.lines() {
        match line.split_once('\t') {
            Some(("svyby", t)) => {
                let t: f64 = t.parse().unwrap();
                println!("R svyby: {t:.2} s");
                r_svyby.push(t);
            }
            Some((what, value)) => println!("R {what}: {value}"),
            None => {}
        }
    }
    run_hailong("after R");
    let (r, h) = (median(r_svyby), median(stats));
    println!(
        "medians: hailong estimate read {:.2} s, statistics {h:.3} s; R svyby {r:.2} s; ratio {:.0}×",
        median(reads),
        r / h
    );
}
