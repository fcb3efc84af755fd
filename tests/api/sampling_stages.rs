//! Two-stage draws (communes, then villages or desks within them): both
//! stages' probabilities, certainty units as their own strata, bad frames,
//! reproducibility, and the weights feeding the estimation engine through a
//! campaign's responses.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::Utc;
use entity::{campaign, campaign_locality, sample_draw, sample_draw_unit};
use hailong::domain::sampling::{FrameUnit, Method, SecondStage, SubUnit, draw_stages};
use hailong_stats::{
    Design, DesignSpec, Domains, Estimate, EstimateOptions, Estimator, Factor, Item, LonelyPsu,
    Stage, Statistic,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, count, spawn_app_with_demo};
use crate::localities::{ok, run};
use crate::sampling::{census, new_campaign, parse_draw};

/// Villages per commune: (unit code, size).
pub type Villages = BTreeMap<String, Vec<(String, f64)>>;

/// Villages of every commune: 3 to 6 of sizes 100–150 (none certain when 2
/// are drawn), except the largest commune, whose first village (1,000 of
/// 1,300) is certain and whose three others have 1 chance in 3.
pub fn village_frame(
    db: &TestDb,
    sizes: &HashMap<String, (String, f64)>,
) -> (Villages, String, String) {
    let big = sizes
        .iter()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map(|(c, _)| c.clone())
        .unwrap();
    let mut frame = Villages::new();
    let mut csv = String::from("commune_code,unit_code,name,size\n");
    for (i, code) in sizes.keys().enumerate() {
        let units: Vec<f64> = if *code == big {
            vec![1000.0, 100.0, 100.0, 100.0]
        } else {
            (0..3 + i % 4)
                .map(|j| 100.0 + ((i * 13 + j * 29) % 51) as f64)
                .collect()
        };
        for (j, size) in units.into_iter().enumerate() {
            let unit = format!("{code}-{j}");
            writeln!(csv, "{code},{unit},Thôn {j},{size}").unwrap();
            frame.entry(code.clone()).or_default().push((unit, size));
        }
    }
    let path = db.dir.path().join("villages.csv");
    std::fs::write(&path, csv).unwrap();
    (frame, path.display().to_string(), big)
}

/// First-stage π by hand for `n` per province: the certainty commune, then
/// (n − 1)·M/ΣM' on the rest.
fn first_stage_pi(sizes: &HashMap<String, (String, f64)>, n: f64) -> HashMap<String, f64> {
    let mut by_province: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for (code, (p, m)) in sizes {
        by_province.entry(p).or_default().push((code, *m));
    }
    let mut out = HashMap::new();
    for units in by_province.values() {
        let total: f64 = units.iter().map(|u| u.1).sum();
        let big: Vec<&(&str, f64)> = units.iter().filter(|u| n * u.1 / total >= 1.0).collect();
        let rest_total: f64 = units
            .iter()
            .filter(|u| n * u.1 / total < 1.0)
            .map(|u| u.1)
            .sum();
        for u in units {
            let pi = if big.iter().any(|b| b.0 == u.0) {
                1.0
            } else {
                (n - big.len() as f64) * u.1 / rest_total
            };
            out.insert(u.0.to_owned(), pi);
        }
    }
    out
}

/// A number of a draw's row.
pub fn f(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} in {row:?}"))
}

/// The design columns and answers of the responses [`answer_every_unit`] sent.
pub struct Answered {
    pub weights: Vec<f64>,
    pub strata: Vec<String>,
    pub clusters: Vec<String>,
    pub answers: Vec<f64>,
}

/// Ten answers to `e1_1` in every drawn unit of `rows`, through the public API of campaign
/// `slug` (5 or 2, in a fixed pattern); a unit without a cluster is its respondents' own PSU.
/// Ten per unit reach the publication's k (10, the floor, when the campaign's min_n is 1).
pub async fn answer_every_unit(
    app: &TestApp,
    slug: &str,
    rows: &[HashMap<String, String>],
) -> Answered {
    let mut out = Answered {
        weights: Vec::new(),
        strata: Vec::new(),
        clusters: Vec::new(),
        answers: Vec::new(),
    };
    for (i, r) in rows.iter().enumerate() {
        for j in 0..10usize {
            let answer = if (i * 3 + j * 5) % 7 < 4 { 5 } else { 2 };
            let body = json!({
                "submission_id": uuid::Uuid::new_v4().to_string(),
                "locality": r["unit_code"],
                "answers": {"sex": "F", "age_group": "35-54", "e1_1": answer}
            });
            let res = app
                .client
                .post(app.url(&format!("/api/v1/campaigns/{slug}/responses")))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
            out.weights.push(f(r, "base_weight"));
            out.strata.push(r["design_stratum"].clone());
            out.clusters.push(if r["cluster"].is_empty() {
                format!("{}#{j}", r["unit_code"])
            } else {
                r["cluster"].clone()
            });
            out.answers.push(f64::from(answer));
        }
    }
    out
}

impl Answered {
    /// The satisfied share of `e1_1` on these columns (lonely PSUs adjusted), with `fpc`.
    pub fn satisfied(&self, fpc: Option<Vec<f64>>) -> Estimate {
        let design = Design::new(DesignSpec {
            weights: self.weights.clone(),
            strata: Some(Factor::from_labels(self.strata.iter().map(String::as_str))),
            stages: vec![Stage {
                clusters: Some(Factor::from_labels(
                    self.clusters.iter().map(String::as_str),
                )),
                fpc,
            }],
            lonely_psu: LonelyPsu::Adjust,
        })
        .unwrap();
        let items = vec![Item::new("e1_1", self.answers.clone())];
        let est = Estimator::new(&design, &items, &[], EstimateOptions::default()).unwrap();
        est.estimate(&Domains::all(design.n_rows()))
            .unwrap()
            .into_iter()
            .find(|e| e.statistic == Statistic::Satisfied)
            .unwrap()
    }
}

#[tokio::test]
async fn two_stage_draw_records_both_stages_and_is_reproducible() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let (sizes, census_path) = census(&db).await;
    ok(&run(
        &db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    let (villages, path, big) = village_frame(&db, &sizes);
    new_campaign(&db, "two-stage").await;
    let args = [
        "draw",
        "--clusters",
        "3",
        "--second-stage",
        &path,
        "--per-unit",
        "2",
        "--take",
        "5",
        "--seed",
        "99",
    ];
    let mut with_campaign = args.to_vec();
    with_campaign.extend(["--campaign", "two-stage"]);
    let first = ok(&run(&db, &with_campaign));
    let rows = parse_draw(&first);
    // 4 provinces × 3 communes × 2 villages.
    assert_eq!(rows.len(), 24, "{first}");
    let pi1 = first_stage_pi(&sizes, 3.0);
    assert_eq!(pi1[&big], 1.0);
    for r in &rows {
        let commune = &r["code"];
        assert!((f(r, "probability") - pi1[commune]).abs() < 1e-12, "{r:?}");
        let units = &villages[commune];
        let total: f64 = units.iter().map(|u| u.1).sum();
        let size = units.iter().find(|u| u.0 == r["unit_code"]).unwrap().1;
        let pi2 = if *commune == big {
            if size == 1000.0 { 1.0 } else { 1.0 / 3.0 }
        } else {
            2.0 * size / total
        };
        assert!((f(r, "unit_probability") - pi2).abs() < 1e-12, "{r:?}");
        assert_eq!(f(r, "unit_size"), size);
        let pi = pi1[commune] * pi2;
        assert!((f(r, "inclusion_probability") - pi).abs() < 1e-12, "{r:?}");
        // 5 interviews among the village's people: w = M_ij / (π·5).
        assert!(
            (f(r, "base_weight") - size / (5.0 * pi)).abs() < 1e-9,
            "{r:?}"
        );
        let (stratum, cluster) = if *commune != big {
            (r["stratum"].clone(), commune.clone())
        } else if size == 1000.0 {
            (format!("01/{big}/{}", r["unit_code"]), String::new())
        } else {
            (format!("01/{big}"), r["unit_code"].clone())
        };
        assert_eq!((&r["design_stratum"], &r["cluster"]), (&stratum, &cluster));
    }
    // The certainty commune and its certainty village are always there.
    assert!(rows.iter().any(|r| r["unit_code"] == format!("{big}-0")));
    assert_eq!(rows.iter().filter(|r| r["code"] == big).count(), 2);

    // The campaign's localities are the villages, with their design fields.
    let conn = db.connect().await;
    let camp = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("two-stage"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let links: HashMap<String, campaign_locality::Model> = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(camp.id))
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.locality_code.clone(), l))
        .collect();
    assert_eq!(links.len(), 24);
    for r in &rows {
        let l = &links[&r["unit_code"]];
        assert_eq!(l.stratum.as_deref(), Some(r["design_stratum"].as_str()));
        assert_eq!(l.cluster.clone().unwrap_or_default(), r["cluster"]);
        assert!((l.base_weight.unwrap() - f(r, "base_weight")).abs() < 1e-9);
        assert_eq!(l.target_n, Some(5));
    }
    // Every unit is recorded with its probabilities at both stages.
    let draw = sample_draw::Entity::find()
        .order_by_desc(sample_draw::Column::Id)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let params: Value = serde_json::from_str(&draw.parameters).unwrap();
    assert_eq!(params["second_stage"]["per_unit"], 2);
    assert_eq!(params["second_stage"]["method"], "pps");
    assert_eq!(params["second_stage"]["source"], "villages.csv");
    let recorded = sample_draw_unit::Entity::find()
        .filter(sample_draw_unit::Column::DrawId.eq(draw.id))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 24);
    for u in &recorded {
        let code = u.unit_code.clone().unwrap();
        let r = rows.iter().find(|r| r["unit_code"] == code).unwrap();
        assert_eq!(u.psu_code, r["code"]);
        assert!((u.psu_probability - f(r, "probability")).abs() < 1e-12);
        assert!((u.unit_probability.unwrap() - f(r, "unit_probability")).abs() < 1e-12);
        assert!((u.probability - u.psu_probability * u.unit_probability.unwrap()).abs() < 1e-15);
    }

    // Reproducible from the seed (and the frames); another seed differs.
    let on = camp.opens_on.to_string();
    let mut again = args.to_vec();
    again.extend(["--on", &on]);
    assert_eq!(ok(&run(&db, &again)), first);
    let mut other = args.to_vec();
    other.extend(["--on", &on]);
    other[10] = "100";
    assert_ne!(ok(&run(&db, &other)), first);

    // Equal probabilities: π_j|i = 2/N_i, no certainty village.
    let mut srs = args.to_vec();
    srs.extend(["--on", &on, "--second-stage-method", "srs"]);
    let srs_rows = parse_draw(&ok(&run(&db, &srs)));
    assert_eq!(srs_rows.len(), 24);
    for r in &srs_rows {
        let n = villages[&r["code"]].len() as f64;
        assert!((f(r, "unit_probability") - 2.0 / n).abs() < 1e-12, "{r:?}");
        assert_eq!(r["unit_certainty"], "0");
    }
}

#[tokio::test]
async fn bad_second_stage_rows_are_reported_with_their_lines_and_nothing_changes() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let (sizes, census_path) = census(&db).await;
    ok(&run(
        &db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    let (_, good, _) = village_frame(&db, &sizes);
    new_campaign(&db, "bad-frame").await;
    ok(&run(
        &db,
        &[
            "draw",
            "--campaign",
            "bad-frame",
            "--clusters",
            "2",
            "--second-stage",
            &good,
            "--per-unit",
            "1",
            "--seed",
            "1",
        ],
    ));
    let conn = db.connect().await;
    let links_before = count(&conn, "campaign_localities").await;
    let draws_before = count(&conn, "sample_draws").await;
    let units_before = count(&conn, "sample_draw_units").await;
    let commune = sizes.keys().next().unwrap().clone();
    let attempt = |file: &std::path::Path| {
        run(
            &db,
            &[
                "draw",
                "--campaign",
                "bad-frame",
                "--clusters",
                "2",
                "--second-stage",
                file.to_str().unwrap(),
                "--per-unit",
                "1",
                "--seed",
                "2",
            ],
        )
    };
    let bad = db.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "commune_code,unit_code,name,size\n{commune},A1,a,10\n{commune},A1,b,12\n{commune},A2,c,-3\n{commune},A3,d,many\n"
        ),
    )
    .unwrap();
    let out = attempt(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv"), "{err}");
    assert!(
        err.contains("line 3, unit_code: duplicate code A1 (first on line 2)"),
        "{err}"
    );
    assert!(err.contains("line 4, size: not a positive number"), "{err}");
    assert!(err.contains("line 5, size: not a positive number"), "{err}");
    std::fs::write(
        &bad,
        format!("commune_code,unit_code,name,size\n{commune},B1,a,10\n99999,B2,b,12\n01,B3,c,5\n"),
    )
    .unwrap();
    let out = attempt(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3, commune_code: unknown commune 99999"),
        "{err}"
    );
    assert!(
        err.contains("line 4, commune_code: unknown commune 01"),
        "{err}"
    );
    // A drawn commune without villages in the frame.
    std::fs::write(
        &bad,
        format!("commune_code,unit_code,name,size\n{commune},C1,a,10\n"),
    )
    .unwrap();
    let out = attempt(&bad);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no units in it"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&conn, "campaign_localities").await, links_before);
    assert_eq!(count(&conn, "sample_draws").await, draws_before);
    assert_eq!(count(&conn, "sample_draw_units").await, units_before);
}

/// A known population: 3 strata of communes (one very large), each with
/// villages of known size and a known total y.
fn population() -> (Vec<FrameUnit>, Vec<SubUnit>, HashMap<String, f64>) {
    let mut frame = Vec::new();
    let mut units = Vec::new();
    let mut y = HashMap::new();
    for s in 0..3 {
        for c in 0..6 {
            let code = format!("{s}{c:02}");
            let mut size = 0.0;
            for v in 0..(2 + (s + c) % 4) {
                let m = if s == 0 && c == 0 {
                    [900.0, 80.0, 60.0, 40.0, 30.0][v]
                } else {
                    (20 + (s * 31 + c * 17 + v * 11) % 70) as f64
                };
                let unit = format!("{code}-{v}");
                y.insert(unit.clone(), m * (0.3 + ((c + v) % 5) as f64 * 0.1));
                units.push(SubUnit {
                    line: 0,
                    parent: code.clone(),
                    code: unit,
                    name: String::new(),
                    size: m,
                    seat: false,
                });
                size += m;
            }
            frame.push(FrameUnit {
                code,
                stratum: format!("S{s}"),
                size: Some(size),
            });
        }
    }
    (frame, units, y)
}

/// Over 2,000 seeded draws: each village's frequency of selection matches
/// π_i·π_j|i within 4 binomial SEs (certainty units every time), and the
/// Horvitz–Thompson total Σ y/π is unbiased for the known population total
/// within 4 SEs of its mean, for PPS and for SRS at the second stage.
#[test]
fn both_stages_hit_their_probabilities_and_horvitz_thompson_is_unbiased() {
    let (frame, units, y) = population();
    let truth: f64 = y.values().sum();
    let runs = 2_000u64;
    for method in [Method::Pps, Method::Srs] {
        let stage = SecondStage {
            frame: &units,
            per_unit: 2,
            method,
        };
        let mut hits: HashMap<String, u64> = HashMap::new();
        let mut pi: HashMap<String, f64> = HashMap::new();
        let mut totals = Vec::new();
        for seed in 0..runs {
            let drawn = draw_stages(&frame, |_| 2, seed, Some(stage)).unwrap();
            let mut total = 0.0;
            for s in &drawn {
                *hits.entry(s.code().to_owned()).or_default() += 1;
                let p = s.probability();
                if let Some(old) = pi.insert(s.code().to_owned(), p) {
                    assert_eq!(old, p, "π of {} changed between draws", s.code());
                }
                total += y[s.code()] * s.base_weight(None);
            }
            totals.push(total);
        }
        // The large commune (900 of its stratum's size) and its large
        // village are certain: drawn every time.
        assert_eq!(hits["000-0"], runs, "{method:?}");
        assert_eq!(pi["000-0"], 1.0);
        // Every village that can be drawn was, with its frequency near π.
        // Villages never drawn would have π < ~1/2000; check there are none
        // with sizable π by comparing the sum of π with the draw size.
        let expected_units: f64 = pi.values().sum();
        let mean_units = hits.values().sum::<u64>() as f64 / runs as f64;
        assert!((expected_units - mean_units).abs() < 1e-9, "{method:?}");
        for (code, p) in &pi {
            let freq = hits[code] as f64 / runs as f64;
            let se = (p * (1.0 - p) / runs as f64).sqrt();
            assert!(
                (freq - p).abs() <= 4.0 * se + 1e-12,
                "{method:?} {code}: frequency {freq} vs π {p} (se {se})"
            );
        }
        let mean = totals.iter().sum::<f64>() / runs as f64;
        let var = totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
        let se = (var / runs as f64).sqrt();
        assert!(se > 0.0);
        assert!(
            (mean - truth).abs() <= 4.0 * se,
            "{method:?}: HT mean {mean} vs total {truth} (se {se})"
        );
    }
}

/// Draw into a public campaign, collect 4 answers per village through the
/// API, and compare the published national result for criterion E1.1 (the
/// share satisfied on e1_1) with the engine run directly on the draw's
/// design fields and the same answers.
#[tokio::test]
async fn two_stage_weights_reach_the_published_results() {
    let app = spawn_app_with_demo().await;
    let db = &app.db;
    let (sizes, census_path) = census(db).await;
    ok(&run(
        db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    let (_, path, _) = village_frame(db, &sizes);
    let conn = db.connect().await;
    let demo = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    campaign::ActiveModel {
        slug: Set("villages".into()),
        name_vi: Set("Hai giai đoạn".into()),
        name_en: Set("Two stages".into()),
        questionnaire_version_id: Set(demo.questionnaire_version_id),
        service_id: Set(demo.service_id),
        opens_on: Set(demo.opens_on),
        closes_on: Set(demo.closes_on),
        is_public: Set(true),
        layout: Set(demo.layout.clone()),
        design: Set(r#"{"min_n":1,"min_df":0}"#.into()),
        sort_order: Set(98),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
    let csv = ok(&run(
        db,
        &[
            "draw",
            "--campaign",
            "villages",
            "--clusters",
            "4",
            "--second-stage",
            &path,
            "--per-unit",
            "2",
            "--take",
            "4",
            "--seed",
            "2026",
        ],
    ));
    let rows = parse_draw(&csv);
    assert_eq!(rows.len(), 32);

    let answered = answer_every_unit(&app, "villages", &rows).await;
    // The certainty commune's own strata are in the data.
    let strata = &answered.strata;
    assert!(strata.iter().any(|s| s.matches('/').count() == 2));
    assert!(strata.iter().any(|s| s.matches('/').count() == 1));
    let direct = answered.satisfied(None);

    assert_eq!(crate::helpers::publish(&app, "villages").await, Some(1));
    let res = app
        .get("/api/v1/campaigns/villages/results?level=national&index=SIPAS/E1/E1.1")
        .await;
    assert_eq!(res.status(), 200);
    let published: Vec<Value> = res.json().await.unwrap();
    let p = &published[0];
    assert_eq!(p["suppressed"], false, "{p}");
    let (e, se) = (direct.estimate.unwrap(), direct.se.unwrap());
    assert!(
        (p["estimate"].as_f64().unwrap() - e).abs() < 1e-9,
        "{p} vs {e}"
    );
    assert!((p["se"].as_f64().unwrap() - se).abs() < 1e-9, "{p} vs {se}");
    assert_eq!(p["n"], 320);
    assert_eq!(p["df"], direct.df);
}
