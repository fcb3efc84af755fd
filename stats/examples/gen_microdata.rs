//! Writes a synthetic `microdata.csv` shaped like `hailong export microdata` writes it, for
//! the `hailong estimate` benchmarks of issue 18: rows in random order (the export's order of
//! random submission ids), `row,province,commune,stratum,psu,base_weight,weight,sex,age`, then
//! the answers `q1…qK` on 1–5 with ≈ 5 % missing. Seeded: the same arguments write the same
//! bytes.
//!
//! ```text
//! cargo run --release -p hailong-stats --example gen_microdata -- /tmp/micro.csv [ROWS] [ITEMS]
//! ```
//!
//! Default: 1,000,000 rows, 22 items, 4 provinces, 2,000 communes, 10,000 PSUs (5 per
//! commune), strata = province × urban/rural.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PROVINCES: usize = 4;
const COMMUNES: usize = 2_000;
const PSU_PER_COMMUNE: usize = 5;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "/tmp/micro.csv".into());
    let rows: usize = args.next().map_or(1_000_000, |s| s.parse().expect("ROWS"));
    let items: usize = args.next().map_or(22, |s| s.parse().expect("ITEMS"));
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let n_psu = COMMUNES * PSU_PER_COMMUNE;
    // Each row's PSU (the commune and province follow from it).
    let mut psu_of: Vec<u32> = (0..rows).map(|r| (r % n_psu) as u32).collect();
    psu_of.shuffle(&mut rng);
    let commune_effect: Vec<f64> = (0..COMMUNES).map(|_| rng.random::<f64>() - 0.5).collect();
    let psu_weight: Vec<f64> = (0..n_psu)
        .map(|_| 20.0 + 200.0 * rng.random::<f64>())
        .collect();
    let psu_names: Vec<String> = (0..n_psu)
        .map(|_| format!("P{:08x}", rng.random::<u32>()))
        .collect();
    let file = File::create(&path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write!(
        out,
        "row,province,commune,stratum,psu,base_weight,weight,sex,age"
    )?;
    for k in 1..=items {
        write!(out, ",q{k}")?;
    }
    writeln!(out)?;
    let ages = ["18-34", "35-54", "55+"];
    let mut line = String::with_capacity(256);
    for (r, &psu) in psu_of.iter().enumerate() {
        let psu = psu as usize;
        let commune = psu / PSU_PER_COMMUNE;
        let province = commune % PROVINCES;
        let urban = if (commune / PROVINCES).is_multiple_of(3) {
            "U"
        } else {
            "R"
        };
        let base = psu_weight[psu] * (0.8 + 0.4 * rng.random::<f64>());
        let weight = base * (0.9 + 0.2 * rng.random::<f64>());
        line.clear();
        let _ = write!(
            line,
            "{},{:02},{:02}{:04},{:02}{urban},{},{base:.4},{weight:.6},{},{}",
            r + 1,
            province + 1,
            province + 1,
            commune + 1,
            province + 1,
            psu_names[psu],
            if rng.random::<f64>() < 0.52 { "F" } else { "M" },
            ages[rng.random_range(0..3)],
        );
        for _ in 0..items {
            if rng.random::<f64>() < 0.05 {
                line.push(',');
            } else {
                let y = (3.6 + commune_effect[commune] + 2.2 * (rng.random::<f64>() - 0.5))
                    .round()
                    .clamp(1.0, 5.0);
                let _ = write!(line, ",{y}");
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}
