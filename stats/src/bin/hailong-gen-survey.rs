//! Generates a synthetic SIPAS-like survey for benchmarks: respondents in communes (the PSUs)
//! of provinces, strata = province × urban/rural, unequal weights, Likert items 1–5 with some
//! missing answers. Seeded and reproducible (the same arguments write the same bytes).
//!
//! ```text
//! cargo run --release -p hailong-stats --bin hailong-gen-survey -- --output /tmp/survey.csv
//! ```
//!
//! Default: 1,000,000 respondents × 20 items, 2,000 communes in 34 provinces (~115 MB).
//! Columns: `id,date,channel,province,urban,stratum,commune,village,weight,sex,age,cell,q1,…,qK`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "hailong-gen-survey",
    about = "Write a synthetic stratified cluster survey as CSV"
)]
struct Args {
    /// Output CSV file.
    #[arg(long)]
    output: PathBuf,
    /// Number of respondents.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Number of communes (PSUs).
    #[arg(long, default_value_t = 2_000)]
    communes: usize,
    /// Number of provinces.
    #[arg(long, default_value_t = 34)]
    provinces: usize,
    /// Number of items q1…qK.
    #[arg(long, default_value_t = 20)]
    items: usize,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 20_250_701)]
    seed: u64,
}

/// SplitMix64: small, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Approximately normal (sum of 4 uniforms, centred and scaled).
    fn normal(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.uniform()).sum();
        (s - 2.0) * (3.0f64).sqrt()
    }
}

struct Commune {
    province: usize,
    urban: bool,
    code: String,
    rows: usize,
    base_weight: f64,
    effect: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match generate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &Args) -> std::io::Result<()> {
    if args.provinces == 0 || args.communes < 4 * args.provinces || args.rows < args.communes {
        return Err(std::io::Error::other(
            "need at least 4 communes per province and 1 respondent per commune",
        ));
    }
    let mut rng = Rng(args.seed);
    // Communes: round-robin over provinces; in each province the first two are urban, the next
    // two rural (so every stratum has ≥ 2 PSUs), the rest urban with probability 0.3.
    let mut seen = vec![0usize; args.provinces];
    let mut communes: Vec<Commune> = (0..args.communes)
        .map(|c| {
            let province = c % args.provinces;
            let rank = seen[province];
            seen[province] += 1;
            let urban = match rank {
                0 | 1 => true,
                2 | 3 => false,
                _ => rng.uniform() < 0.3,
            };
            Commune {
                province,
                urban,
                code: format!("{:02}{:03}", province + 1, rank + 1),
                rows: 0,
                base_weight: 0.0,
                effect: 0.0,
            }
        })
        .collect();
    // Sample sizes 0.6–1.4 × the average, adjusted to the exact total.
    let mean = args.rows as f64 / args.communes as f64;
    let raw: Vec<f64> = (0..args.communes)
        .map(|_| mean * (0.6 + 0.8 * rng.uniform()))
        .collect();
    let scale = args.rows as f64 / raw.iter().sum::<f64>();
    let mut assigned = 0usize;
    for (c, r) in communes.iter_mut().zip(&raw) {
        c.rows = ((r * scale).floor() as usize).max(1);
        assigned += c.rows;
    }
    let mut c = 0;
    while assigned < args.rows {
        communes[c % args.communes].rows += 1;
        assigned += 1;
        c += 1;
    }
    while assigned > args.rows {
        let k = c % args.communes;
        if communes[k].rows > 1 {
            communes[k].rows -= 1;
            assigned -= 1;
        }
        c += 1;
    }
    let province_effect: Vec<f64> = (0..args.provinces).map(|_| 0.5 * rng.normal()).collect();
    for c in &mut communes {
        c.base_weight = 20.0 + 200.0 * rng.uniform() * if c.urban { 1.5 } else { 1.0 };
        c.effect =
            province_effect[c.province] + 0.3 * rng.normal() + if c.urban { 0.2 } else { 0.0 };
    }
    // Output grouped by province and commune, as an export by locality would be.
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    let item_effect: Vec<f64> = (0..args.items).map(|_| 0.4 * rng.normal()).collect();
    let item_missing: Vec<f64> = (0..args.items)
        .map(|k| if k % 5 == 4 { 0.15 } else { 0.04 })
        .collect();

    let file = File::create(&args.output)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write!(
        out,
        "id,date,channel,province,urban,stratum,commune,village,weight,sex,age,cell"
    )?;
    for k in 1..=args.items {
        write!(out, ",q{k}")?;
    }
    writeln!(out)?;
    let ages = ["18-34", "35-54", "55+"];
    let channels = ["paper", "interview", "kiosk", "web", "phone"];
    let mut id = 0usize;
    let mut line = String::with_capacity(256);
    for c in &communes {
        let province = format!("{:02}", c.province + 1);
        let urban = if c.urban { "U" } else { "R" };
        let villages = 2 + (c.rows / 150).min(6);
        for r in 0..c.rows {
            id += 1;
            line.clear();
            let sex = if rng.uniform() < 0.52 { "F" } else { "M" };
            let u = rng.uniform();
            let age = ages[if u < 0.4 {
                0
            } else if u < 0.75 {
                1
            } else {
                2
            }];
            let weight = c.base_weight * (0.7 + 0.6 * rng.uniform());
            let channel = channels[(rng.next_u64() % channels.len() as u64) as usize];
            let day = 1 + rng.next_u64() % 28;
            let month = 7 + rng.next_u64() % 4;
            use std::fmt::Write as _;
            let _ = write!(
                line,
                "{id},2025-{month:02}-{day:02},{channel},{province},{urban},{province}{urban},{},{}-{:02},{weight:.4},{sex},{age},{sex}|{age}",
                c.code,
                c.code,
                r % villages + 1
            );
            let person = 0.5 * rng.normal();
            for k in 0..args.items {
                if rng.uniform() < item_missing[k] {
                    line.push(',');
                    continue;
                }
                let mu = 3.6 + c.effect + item_effect[k] + person + 0.9 * rng.normal();
                let answer = mu.round().clamp(1.0, 5.0) as u8;
                line.push(',');
                line.push(char::from(b'0' + answer));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()
}
