//! Census import, PPS cluster draws into a campaign, and the weights they
//! produce feeding the estimation engine.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::Utc;
use entity::{campaign, campaign_locality, locality, population_margin};
use hailong_stats::{
    Design, DesignSpec, Domains, EstimateOptions, Estimator, Factor, Item, Stage, Statistic,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::helpers::{TestDb, count};
use crate::localities::{fixture, ok, run};

/// The demo's communes with a census: sizes vary, and one commune of
/// province 01 is large enough to be a certainty unit.
pub async fn census(db: &TestDb) -> (HashMap<String, (String, f64)>, String) {
    let conn = db.connect().await;
    let communes = locality::Entity::find()
        .filter(locality::Column::Level.eq("commune"))
        .all(&conn)
        .await
        .unwrap();
    let mut sizes = HashMap::new();
    let mut csv = String::from("locality_code,sex,age_group,population\n");
    let mut big_done = false;
    for (i, c) in communes.iter().enumerate() {
        let mut per_cell = (((i * 7919) % 47) as f64 + 5.0) * 100.0;
        if !big_done && c.parent_code.as_deref() == Some("01") {
            per_cell = 200_000.0;
            big_done = true;
        }
        let mut total = 0.0;
        for sex in ["F", "M"] {
            for age in ["18-34", "35-54", "55plus"] {
                writeln!(csv, "{},{sex},{age},{per_cell}", c.code).unwrap();
                total += per_cell;
            }
        }
        sizes.insert(c.code.clone(), (c.parent_code.clone().unwrap(), total));
    }
    let path = db.dir.path().join("census.csv");
    std::fs::write(&path, csv).unwrap();
    (sizes, path.display().to_string())
}

pub async fn new_campaign(db: &TestDb, slug: &str) {
    let conn = db.connect().await;
    let demo = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    campaign::ActiveModel {
        slug: Set(slug.to_owned()),
        name_vi: Set("Thử chọn mẫu".into()),
        name_en: Set("Sampling test".into()),
        questionnaire_version_id: Set(demo.questionnaire_version_id),
        service_id: Set(demo.service_id),
        opens_on: Set(demo.opens_on),
        closes_on: Set(demo.closes_on),
        is_public: Set(false),
        layout: Set(demo.layout.clone()),
        design: Set("{}".into()),
        sort_order: Set(99),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
}

pub fn parse_draw(csv: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn census_margins_import_and_bad_rows_are_refused() {
    let db = TestDb::new().await;
    ok(&run(&db, &["migrate"]));
    ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2025.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    ));
    let path = db.dir.path().join("census.csv");
    std::fs::write(
        &path,
        "locality_code,sex,age_group,population\n00004,F,18-34,100\n00004,M,18-34,80\n00004,F,35-54,50\n00004,,,1000\n",
    )
    .unwrap();
    let out = ok(&run(
        &db,
        &[
            "localities",
            "population",
            path.to_str().unwrap(),
            "--year",
            "2024",
        ],
    ));
    assert!(out.contains("population of 1 localities imported"), "{out}");
    let conn = db.connect().await;
    let margins = population_margin::Entity::find()
        .filter(population_margin::Column::LocalityCode.eq("00004"))
        .all(&conn)
        .await
        .unwrap();
    let get = |v: &str, c: &str| {
        margins
            .iter()
            .find(|m| m.variable == v && m.category == c)
            .map(|m| m.total)
    };
    assert_eq!(get("sex", "F"), Some(150.0));
    assert_eq!(get("sex", "M"), Some(80.0));
    assert_eq!(get("age_group", "18-34"), Some(180.0));
    assert_eq!(get("sex_age", "F|35-54"), Some(50.0));
    assert_eq!(get("total", "all"), Some(1000.0));
    assert_eq!(margins[0].reference_year, Some(2024));
    let before = count(&conn, "population_margins").await;
    std::fs::write(
        &path,
        "locality_code,sex,age_group,population\n00004,F,18-34,1\n99999,F,18-34,1\n",
    )
    .unwrap();
    let bad = run(&db, &["localities", "population", path.to_str().unwrap()]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("line 3, locality_code: unknown locality 99999"),
        "{err}"
    );
    assert_eq!(count(&conn, "population_margins").await, before);
    assert_eq!(get("sex", "F"), Some(150.0));

    // A crosswalk onto known units, with its checks.
    let cw = db.dir.path().join("crosswalk.csv");
    std::fs::write(
        &cw,
        "old_code,new_code,share\n00001,00004,0.4\n00001,00008,0.6\n00002,00025,\n",
    )
    .unwrap();
    let out = ok(&run(
        &db,
        &["localities", "crosswalk", cw.to_str().unwrap()],
    ));
    assert!(out.contains("3 crosswalk links imported"), "{out}");
    let links = hailong::services::crosswalk::load(&conn).await.unwrap();
    assert_eq!(
        hailong::services::crosswalk::split(&links, "00001", 10.0),
        vec![("00004".to_owned(), 4.0), ("00008".to_owned(), 6.0)]
    );
    std::fs::write(&cw, "old_code,new_code\n00003,77777\n").unwrap();
    let bad = run(&db, &["localities", "crosswalk", cw.to_str().unwrap()]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("line 2, new_code: unknown locality 77777"),
        "{err}"
    );
}

#[tokio::test]
async fn pps_draw_writes_base_weights_that_feed_the_estimator() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let (sizes, census_path) = census(&db).await;
    ok(&run(
        &db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    new_campaign(&db, "pps-test").await;
    let out_path = db.dir.path().join("draw.csv");
    ok(&run(
        &db,
        &[
            "draw",
            "--campaign",
            "pps-test",
            "--level",
            "commune",
            "--stratum-level",
            "province",
            "--clusters",
            "4",
            "--take",
            "10",
            "--seed",
            "20261122",
            "--output",
            out_path.to_str().unwrap(),
        ],
    ));
    let first = std::fs::read_to_string(&out_path).unwrap();
    let drawn = parse_draw(&first);
    assert_eq!(drawn.len(), 16, "{first}");

    // π by hand: certainty units first, then n'·M/ΣM' in each province.
    let mut by_province: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for (code, (p, m)) in &sizes {
        by_province.entry(p).or_default().push((code, *m));
    }
    let mut expected_pi: HashMap<String, f64> = HashMap::new();
    for units in by_province.values() {
        let total: f64 = units.iter().map(|u| u.1).sum();
        type Unit<'a> = &'a (&'a str, f64);
        let (big, rest): (Vec<Unit>, Vec<Unit>) =
            units.iter().partition(|u| 4.0 * u.1 / total >= 1.0);
        let rest_total: f64 = rest.iter().map(|u| u.1).sum();
        for u in &big {
            expected_pi.insert(u.0.to_owned(), 1.0);
        }
        for u in &rest {
            expected_pi.insert(u.0.to_owned(), (4 - big.len()) as f64 * u.1 / rest_total);
        }
    }
    let certain: Vec<&HashMap<String, String>> =
        drawn.iter().filter(|d| d["certainty"] == "1").collect();
    assert_eq!(certain.len(), 1, "{first}");
    for d in &drawn {
        let pi: f64 = d["probability"].parse().unwrap();
        assert!((pi - expected_pi[&d["code"]]).abs() < 1e-12, "{d:?}");
        assert_eq!(d["inclusion_probability"], d["probability"]);
        // 10 of the commune's M people: w = M / (π·10).
        let w: f64 = d["base_weight"].parse().unwrap();
        let m = sizes[&d["code"]].1;
        assert!((w * pi * 10.0 / m - 1.0).abs() < 1e-12, "{d:?}");
        // A certainty commune is a stratum of its own, its respondents the PSUs.
        if d["certainty"] == "1" {
            assert_eq!(
                d["design_stratum"],
                format!("{}/{}", d["stratum"], d["code"])
            );
            assert_eq!(d["cluster"], "");
        } else {
            assert_eq!(d["design_stratum"], d["stratum"]);
            assert_eq!(d["cluster"], d["code"]);
        }
    }

    // Written into the campaign: stratum, cluster, 1/π, target n.
    let conn = db.connect().await;
    let camp = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("pps-test"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let links = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(camp.id))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(links.len(), 16);
    for l in &links {
        let province = sizes[&l.locality_code].0.as_str();
        let pi = expected_pi[&l.locality_code];
        if pi == 1.0 {
            assert_eq!(l.cluster, None);
            assert_eq!(l.stratum, Some(format!("{province}/{}", l.locality_code)));
        } else {
            assert_eq!(l.cluster.as_deref(), Some(l.locality_code.as_str()));
            assert_eq!(l.stratum.as_deref(), Some(province));
        }
        assert_eq!(l.target_n, Some(10));
        let m = sizes[&l.locality_code].1;
        assert!((l.base_weight.unwrap() - m / (10.0 * pi)).abs() < 1e-9);
    }

    // Reproducible from its seed; the seed is recorded.
    let again = ok(&run(
        &db,
        &[
            "draw",
            "--clusters",
            "4",
            "--take",
            "10",
            "--seed",
            "20261122",
            "--on",
            &camp.opens_on.to_string(),
        ],
    ));
    assert_eq!(again, first);
    let other = ok(&run(
        &db,
        &[
            "draw",
            "--clusters",
            "4",
            "--seed",
            "7",
            "--on",
            &camp.opens_on.to_string(),
        ],
    ));
    assert_ne!(other, first);
    assert_eq!(count(&conn, "sample_draws").await, 3);
    let seeds: Vec<String> = entity::sample_draw::Entity::find()
        .order_by_asc(entity::sample_draw::Column::Id)
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.seed)
        .collect();
    assert_eq!(seeds, vec!["20261122", "20261122", "7"]);
    // Units per stratum from a file, on chosen strata only.
    let per = db.dir.path().join("clusters.csv");
    std::fs::write(&per, "code,clusters\n01,2\n46,1\n").unwrap();
    let some = ok(&run(
        &db,
        &[
            "draw",
            "--clusters-file",
            per.to_str().unwrap(),
            "--strata",
            "01,46",
            "--seed",
            "3",
            "--on",
            &camp.opens_on.to_string(),
        ],
    ));
    let some = parse_draw(&some);
    assert_eq!(some.iter().filter(|d| d["stratum"] == "01").count(), 2);
    assert_eq!(some.iter().filter(|d| d["stratum"] == "46").count(), 1);
    assert_eq!(some.len(), 3);
    // The planner's clusters feed the draw: 80 equally over 4 provinces,
    // 10 interviews per commune → 2 communes each.
    let plan = ok(&run(
        &db,
        &[
            "plan",
            "--budget",
            "80",
            "--allocation",
            "equal",
            "--take",
            "10",
            "--csv",
            "--on",
            &camp.opens_on.to_string(),
        ],
    ));
    assert!(plan.contains("\n01,Hà Nội,Hanoi,"), "{plan}");
    assert!(plan.ends_with(",8\n"), "{plan}");
    let plan_path = db.dir.path().join("plan.csv");
    std::fs::write(&plan_path, plan).unwrap();
    let planned = ok(&run(
        &db,
        &[
            "draw",
            "--clusters-file",
            plan_path.to_str().unwrap(),
            "--seed",
            "5",
            "--on",
            &camp.opens_on.to_string(),
        ],
    ));
    assert_eq!(parse_draw(&planned).len(), 8);
    // A campaign with responses keeps its sample.
    let refused = run(
        &db,
        &[
            "draw",
            "--campaign",
            "sipas-demo",
            "--clusters",
            "2",
            "--seed",
            "1",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already has responses"));

    // Respondents: 10 per drawn commune with the campaign's design fields
    // (weight M/(π·10); a respondent without a cluster is its own PSU);
    // satisfied (answer 5) in a share that depends on the commune.
    let mut weights = Vec::new();
    let mut strata = Vec::new();
    let mut clusters = Vec::new();
    let mut answers = Vec::new();
    for l in &links {
        let k: usize = l.locality_code.bytes().map(usize::from).sum::<usize>() % 8 + 2;
        for j in 0..10 {
            weights.push(l.base_weight.unwrap());
            strata.push(l.stratum.clone().unwrap());
            clusters.push(
                l.cluster
                    .clone()
                    .unwrap_or_else(|| format!("{}#{j}", l.locality_code)),
            );
            answers.push(if j < k { 5.0 } else { 2.0 });
        }
    }
    let hand: f64 = weights
        .iter()
        .zip(&answers)
        .map(|(w, y)| if *y >= 4.0 { *w } else { 0.0 })
        .sum::<f64>()
        / weights.iter().sum::<f64>();
    let design = Design::new(DesignSpec {
        weights,
        strata: Some(Factor::from_labels(strata.iter().map(String::as_str))),
        stages: vec![Stage {
            clusters: Some(Factor::from_labels(clusters.iter().map(String::as_str))),
            fpc: None,
        }],
        ..DesignSpec::default()
    })
    .unwrap();
    let items = vec![Item::new("q1", answers)];
    let est = Estimator::new(&design, &items, &[], EstimateOptions::default()).unwrap();
    let results = est.estimate(&Domains::all(design.n_rows())).unwrap();
    let satisfied = results
        .iter()
        .find(|e| e.statistic == Statistic::Satisfied)
        .unwrap();
    assert!((satisfied.estimate.unwrap() - hand).abs() < 1e-12);
    // PSUs: 15 sampled communes and the certainty commune's 10 respondents;
    // strata: 4 provinces and the certainty commune's own.
    assert_eq!(satisfied.df, (15 + 10) - (4 + 1));
    assert!(satisfied.se.unwrap() > 0.0);
    assert_eq!(satisfied.n, 160);
}
