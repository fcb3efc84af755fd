//! Benchmark of results for analysts: generates N synthetic responses (default 1,000,000) of
//! the SIPAS demo campaign in 2,000 extra communes of the four demo provinces, stored in a
//! SQLite file, then times the computation of every index, element and criterion at every
//! level (reading the responses, design, raking, estimates), the cached read, and a read
//! after a new response (stale: answered from the cache, recomputed in the background).
//!
//! ```sh
//! cargo run --release --example results_bench -- [N] [/tmp/hailong-bench.db]
//! ```
//!
//! Not run in CI. Figures are in the README.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{NaiveDate, Utc};
use entity::{locality, response};
use hailong::services::{campaigns, demo, results};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};
use serde_json::{Map, Value, json};

const COMMUNES: usize = 2_000;
const PROVINCES: [&str; 4] = ["01", "46", "48", "92"];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let path = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/hailong-bench.db".to_owned());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let url = format!("sqlite://{path}");
    let db = hailong::db::connect(&url, 4).await?;
    hailong::db::migrate(&db).await?;
    demo::seed(&db, Utc::now().date_naive()).await?;

    let t0 = Instant::now();
    let from = NaiveDate::from_ymd_opt(2025, 7, 1).expect("date");
    let units: Vec<locality::ActiveModel> = (0..COMMUNES)
        .map(|i| locality::ActiveModel {
            code: Set(format!("9{i:04}")),
            level: Set("commune".to_owned()),
            parent_code: Set(Some(PROVINCES[i % 4].to_owned())),
            name_vi: Set(format!("Xã thử {i}")),
            name_en: Set(format!("Test commune {i}")),
            full_name_vi: Set(None),
            full_name_en: Set(None),
            unit_type_vi: Set(None),
            unit_type_en: Set(None),
            valid_from: Set(from),
            valid_to: Set(None),
            ..Default::default()
        })
        .collect();
    for chunk in units.chunks(500) {
        locality::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await?;
    }
    let campaign = campaigns::by_slug(&db, demo::SIPAS_SLUG).await?;
    let plan = results::plan(&campaign.definition);
    let items: Vec<String> = plan.items.iter().map(|i| i.code.clone()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let effects: Vec<f64> = (0..COMMUNES).map(|_| 0.4 * normal(&mut rng)).collect();
    let weights: Vec<f64> = (0..COMMUNES)
        .map(|_| 50.0 + 450.0 * rng.random::<f64>())
        .collect();
    let today = Utc::now().date_naive();
    let mut inserted = 0;
    while inserted < n {
        let txn = db.begin().await?;
        let batch = (n - inserted).min(20_000);
        let mut rows = Vec::with_capacity(batch);
        for _ in 0..batch {
            let c = rng.random_range(0..COMMUNES);
            let prov = PROVINCES[c % 4];
            let urban = (c / 4) % 3 == 0;
            let mut answers = Map::new();
            let sex = if rng.random_range(0..2) == 0 {
                "F"
            } else {
                "M"
            };
            let age = ["18-34", "35-54", "55plus"][rng.random_range(0..3)];
            answers.insert("sex".into(), json!(sex));
            answers.insert("age_group".into(), json!(age));
            let person = 3.8 + effects[c] + 0.5 * normal(&mut rng);
            for code in &items {
                let v = if rng.random_range(0..100) < 4 {
                    json!("dk")
                } else {
                    json!(((person + 0.7 * normal(&mut rng)).round() as i64).clamp(1, 5))
                };
                answers.insert(code.clone(), v);
            }
            let mut id = [0u8; 16];
            rng.fill_bytes(&mut id);
            rows.push(response::ActiveModel {
                id: Set(uuid::Builder::from_random_bytes(id)
                    .into_uuid()
                    .hyphenated()
                    .to_string()),
                campaign_id: Set(campaign.campaign.id),
                locality_code: Set(format!("9{c:04}")),
                channel: Set("web".to_owned()),
                response_date: Set(today),
                stratum: Set(Some(format!("{prov}-{}", if urban { "U" } else { "R" }))),
                cluster: Set(Some(format!("9{c:04}"))),
                base_weight: Set(weights[c]),
                cells: Set(Some(json!({"sex": sex, "age_group": age}).to_string())),
                answers: Set(Value::Object(answers).to_string()),
            });
        }
        for chunk in rows.chunks(500) {
            response::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        inserted += batch;
    }
    println!(
        "generated {n} responses in {COMMUNES} communes: {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let plan2 = results::plan(&campaign.definition);
    let data = results::load_dataset(&db, &campaign, &plan2, false).await?;
    let t_load = t.elapsed().as_secs_f64();
    let hier = results::hierarchy(&db, &campaign, &data).await?;
    let margins = results::population_margins(&db, &campaign.design.calibration).await?;
    let t = Instant::now();
    let computed = results::estimate_all(&campaign, &plan2, &data, &hier, &margins)?;
    let t_est = t.elapsed().as_secs_f64();
    println!(
        "read + parse {} responses: {t_load:.2} s; design + raking + {} estimates: {t_est:.2} s ({:?})",
        data.n,
        computed.rows.len(),
        computed.calibration
    );

    let t = Instant::now();
    let fresh = results::results_for(&db, &campaign).await?;
    println!(
        "first read (nothing cached: compute + store): {:.2} s, stale = {}",
        t.elapsed().as_secs_f64(),
        fresh.stale
    );
    let t = Instant::now();
    let fresh = results::results_for(&db, &campaign).await?;
    println!(
        "cached read: {:.3} s, stale = {}",
        t.elapsed().as_secs_f64(),
        fresh.stale
    );
    let national = fresh
        .results
        .row(results::NATIONAL, "SIPAS")
        .expect("national row");
    println!(
        "national SIPAS {:.4} [{:.4}, {:.4}], n = {}, df = {}",
        national.estimate.unwrap_or(f64::NAN),
        national.ci_low.unwrap_or(f64::NAN),
        national.ci_high.unwrap_or(f64::NAN),
        national.n,
        national.df
    );
    Ok(())
}
