//! The synthetic responses of the benchmarks (`results_bench`, `scale`): 2,000 test communes
//! in four demo provinces, each with its own effect and base weight, and `n` responses of the
//! sipas-demo questionnaire drawn from one seeded generator (4 % "don't know").

use chrono::NaiveDate;
use entity::{locality, response};
use hailong::services::{campaigns, demo, results};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use serde_json::{Map, Value, json};

pub const COMMUNES: usize = 2_000;
const PROVINCES: [&str; 4] = ["01", "46", "48", "92"];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Adds the test communes and `n` responses dated `day` to the seeded demo's sipas-demo
/// campaign, `per_transaction` rows per transaction in inserts of `per_insert`; returns how
/// many were inserted.
pub async fn insert(
    db: &DatabaseConnection,
    n: usize,
    day: NaiveDate,
    per_transaction: usize,
    per_insert: usize,
) -> anyhow::Result<usize> {
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
            .exec(db)
            .await?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let communes = Communes::draw(&mut rng);
    responses(
        db,
        n,
        day,
        &mut rng,
        &communes,
        (per_transaction, per_insert),
    )
    .await
}

/// Adds `n` more responses (drawn from the generator seeded with `seed`, so with fresh ids) to
/// the communes [`insert`] added. (Only the scale benchmark adds more; `results_bench`, which
/// includes this file too, does not.)
#[allow(dead_code)]
pub async fn insert_more(
    db: &DatabaseConnection,
    n: usize,
    day: NaiveDate,
    seed: u64,
    (per_transaction, per_insert): (usize, usize),
) -> anyhow::Result<usize> {
    let communes = Communes::draw(&mut ChaCha8Rng::seed_from_u64(7));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    responses(
        db,
        n,
        day,
        &mut rng,
        &communes,
        (per_transaction, per_insert),
    )
    .await
}

/// Each test commune's effect and base weight.
struct Communes {
    effects: Vec<f64>,
    weights: Vec<f64>,
}

impl Communes {
    fn draw(rng: &mut ChaCha8Rng) -> Communes {
        let effects: Vec<f64> = (0..COMMUNES).map(|_| 0.4 * normal(rng)).collect();
        let weights: Vec<f64> = (0..COMMUNES)
            .map(|_| 50.0 + 450.0 * rng.random::<f64>())
            .collect();
        Communes { effects, weights }
    }
}

async fn responses(
    db: &DatabaseConnection,
    n: usize,
    day: NaiveDate,
    rng: &mut ChaCha8Rng,
    Communes { effects, weights }: &Communes,
    (per_transaction, per_insert): (usize, usize),
) -> anyhow::Result<usize> {
    let campaign = campaigns::by_slug(db, demo::SIPAS_SLUG).await?;
    let plan = results::plan(&campaign.definition);
    let items: Vec<String> = plan.items.iter().map(|i| i.code.clone()).collect();
    let mut inserted = 0;
    while inserted < n {
        let txn = db.begin().await?;
        let batch = (n - inserted).min(per_transaction);
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
            let person = 3.8 + effects[c] + 0.5 * normal(rng);
            for code in &items {
                let v = if rng.random_range(0..100) < 4 {
                    json!("dk")
                } else {
                    json!(((person + 0.7 * normal(rng)).round() as i64).clamp(1, 5))
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
                response_date: Set(day),
                stratum: Set(Some(format!("{prov}-{}", if urban { "U" } else { "R" }))),
                cluster: Set(Some(format!("9{c:04}"))),
                base_weight: Set(weights[c]),
                cells: Set(Some(json!({"sex": sex, "age_group": age}).to_string())),
                answers: Set(Value::Object(answers).to_string()),
                publication: Set(None),
            });
        }
        for chunk in rows.chunks(per_insert) {
            response::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        inserted += batch;
    }
    Ok(inserted)
}
