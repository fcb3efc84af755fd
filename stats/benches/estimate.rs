//! Benchmark of the statistics part on in-memory data (no CSV parsing):
//! 1,000,000 respondents × 20 items, 2,000 communes (PSUs) in 34 provinces, strata =
//! province × urban/rural, unequal weights, ~6 % missing answers.
//!
//! ```text
//! cargo bench -p hailong-stats --bench estimate
//! ```
//!
//! Prints the best of 3 runs of: building the design, estimates by commune, by province and
//! nationally (means, shares and two indices), and raked estimates by province.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use hailong_stats::{
    Calibration, Design, DesignSpec, Domains, EstimateOptions, Estimator, Factor, IndexSpec, Item,
    LonelyPsu, Margin, Stage,
};

const ROWS: usize = 1_000_000;
const COMMUNES: usize = 2_000;
const PROVINCES: usize = 34;
const ITEMS: usize = 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Data {
    strata: Vec<String>,
    communes: Vec<String>,
    provinces: Vec<String>,
    weights: Vec<f64>,
    sex: Vec<String>,
    age: Vec<String>,
    items: Vec<Item>,
}

fn generate() -> Data {
    let mut rng = Rng(7);
    let per = ROWS / COMMUNES;
    let mut d = Data {
        strata: Vec::with_capacity(ROWS),
        communes: Vec::with_capacity(ROWS),
        provinces: Vec::with_capacity(ROWS),
        weights: Vec::with_capacity(ROWS),
        sex: Vec::with_capacity(ROWS),
        age: Vec::with_capacity(ROWS),
        items: Vec::new(),
    };
    let mut answers: Vec<Vec<f64>> = (0..ITEMS).map(|_| Vec::with_capacity(ROWS)).collect();
    for c in 0..COMMUNES {
        let p = c % PROVINCES;
        let rank = c / PROVINCES;
        let urban = rank < 2 || (rank >= 4 && rng.next() < 0.3);
        let stratum = format!("{:02}{}", p + 1, if urban { "U" } else { "R" });
        let commune = format!("{:02}{:03}", p + 1, rank + 1);
        let base = 20.0 + 200.0 * rng.next();
        let effect = rng.next() - 0.5;
        for _ in 0..per {
            d.strata.push(stratum.clone());
            d.communes.push(commune.clone());
            d.provinces.push(format!("{:02}", p + 1));
            d.weights.push(base * (0.7 + 0.6 * rng.next()));
            d.sex
                .push(if rng.next() < 0.52 { "F" } else { "M" }.to_owned());
            d.age
                .push(["18-34", "35-54", "55+"][(rng.next() * 3.0) as usize].to_owned());
            for col in answers.iter_mut() {
                let y = if rng.next() < 0.06 {
                    f64::NAN
                } else {
                    (3.6 + effect + 2.0 * (rng.next() - 0.5))
                        .round()
                        .clamp(1.0, 5.0)
                };
                col.push(y);
            }
        }
    }
    d.items = answers
        .into_iter()
        .enumerate()
        .map(|(k, v)| Item::new(format!("q{}", k + 1), v))
        .collect();
    d
}

fn best<T>(label: &str, mut f: impl FnMut() -> T) -> T {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        last = Some(f());
        best = best.min(t.elapsed());
    }
    println!("{label:<55} {:>8.3} s", best.as_secs_f64());
    last.expect("three runs")
}

fn main() {
    let t = Instant::now();
    let data = generate();
    println!(
        "generated {ROWS} rows × {ITEMS} items, {COMMUNES} communes, {PROVINCES} provinces in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let strata = Factor::from_labels(&data.strata);
    let communes = Factor::from_labels(&data.communes);
    let design = best("design (sort by stratum, commune)", || {
        Design::new(DesignSpec {
            weights: data.weights.clone(),
            strata: Some(strata.clone()),
            stages: vec![Stage {
                clusters: Some(communes.clone()),
                fpc: None,
            }],
            lonely_psu: LonelyPsu::Fail,
        })
        .unwrap()
    });
    let indices = vec![
        IndexSpec {
            name: "access".into(),
            items: (1..=5).map(|k| (format!("q{k}"), 1.0)).collect(),
            kind: hailong_stats::IndexKind::Shares,
            offset: 0.0,
        },
        IndexSpec {
            name: "overall".into(),
            items: (1..=ITEMS).map(|k| (format!("q{k}"), 1.0)).collect(),
            kind: hailong_stats::IndexKind::Shares,
            offset: 0.0,
        },
    ];
    let estimator =
        Estimator::new(&design, &data.items, &indices, EstimateOptions::default()).unwrap();
    let by_commune = Domains::from_labels(&data.communes);
    let by_province = Domains::from_labels(&data.provinces);
    let national = Domains::all(ROWS);
    let n = best("estimate by commune (2,000 domains)", || {
        estimator.estimate(&by_commune).unwrap().len()
    });
    println!("{:>55}   {n} estimates", "");
    best("estimate by province (34 domains)", || {
        estimator.estimate(&by_province).unwrap().len()
    });
    best("estimate national", || {
        estimator.estimate(&national).unwrap().len()
    });
    best("estimate commune + province + national", || {
        estimator
            .estimate_levels(&[&by_commune, &by_province, &national])
            .unwrap()
            .len()
    });
    let margin = |name: &str, values: &[String], cats: &[&str]| {
        let f = Factor::from_labels(values);
        let totals = cats
            .iter()
            .map(|c| {
                let share = values.iter().filter(|v| v == c).count() as f64 / ROWS as f64;
                ((*c).to_owned(), 90_000_000.0 * share)
            })
            .collect();
        Margin {
            variable: name.into(),
            values: f,
            totals,
        }
    };
    let raked = best("rake to sex and age margins", || {
        design
            .calibrate(&Calibration::new(vec![
                margin("sex", &data.sex, &["F", "M"]),
                margin("age", &data.age, &["18-34", "35-54", "55+"]),
            ]))
            .unwrap()
    });
    let raked_estimator =
        Estimator::new(&raked, &data.items, &indices, EstimateOptions::default()).unwrap();
    best("raked estimate by province", || {
        raked_estimator.estimate(&by_province).unwrap().len()
    });
    best("raked estimate by commune", || {
        raked_estimator.estimate(&by_commune).unwrap().len()
    });
}
