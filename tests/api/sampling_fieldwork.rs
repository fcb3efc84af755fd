//! Sampling as PAPI does it, through the `hailong` binary: purposive
//! (self-representing) units, replacement lists drawn with the sample,
//! fieldwork attempts with outcome codes, and the nonresponse adjustment of
//! the campaign's weights.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use entity::{campaign, campaign_locality, response, sample_attempt, sample_replacement};
use hailong::domain::sampling::inclusion_probabilities;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestDb, count};
use crate::localities::{ok, run};
use crate::sampling::{census, new_campaign, parse_draw};
use crate::sampling_stages::{answer_every_unit, f};

fn fails(o: &std::process::Output) -> String {
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The draw id `hailong draw` prints on standard error.
fn draw_id(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr);
    err.lines()
        .find_map(|l| l.strip_prefix("draw "))
        .unwrap_or_else(|| panic!("no draw id in {err}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn purposive_units_replacements_outcomes_and_adjusted_weights() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let (sizes, census_path) = census(&db).await;
    ok(&run(
        &db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    new_campaign(&db, "papi-test").await;
    // The purposive commune: the smallest of province 01 (never certain by size).
    let mut in_01: Vec<(&String, f64)> = sizes
        .iter()
        .filter(|(_, (p, _))| p == "01")
        .map(|(c, (_, m))| (c, *m))
        .collect();
    in_01.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    let seat = in_01[0].0.clone();
    let args = [
        "draw",
        "--clusters",
        "3",
        "--take",
        "10",
        "--purposive",
        &seat,
        "--replacements",
        "2",
        "--seed",
        "11",
    ];
    let mut with_campaign = args.to_vec();
    with_campaign.extend(["--campaign", "papi-test"]);
    let out = run(&db, &with_campaign);
    let first = ok(&out);
    let id = draw_id(&out);
    let rows = parse_draw(&first);
    assert_eq!(rows.len(), 12, "{first}");

    // The purposive commune: π = 1, a stratum of its own, no cluster, no replacements.
    let taken = rows
        .iter()
        .find(|r| r["code"] == seat)
        .expect("purposive unit drawn");
    assert_eq!(f(taken, "probability"), 1.0);
    assert_eq!(taken["certainty"], "1");
    assert_eq!(taken["design_stratum"], format!("01#take:{seat}"));
    assert_eq!(taken["cluster"], "");
    assert_eq!(taken["replacements"], "");
    assert!((f(taken, "base_weight") - sizes[&seat].1 / 10.0).abs() < 1e-9);
    // The rest of province 01: 2 units by PPS among the others.
    let others: Vec<(&String, f64)> = in_01.iter().skip(1).copied().collect();
    let pis = inclusion_probabilities(&others.iter().map(|o| o.1).collect::<Vec<_>>(), 2);
    let pi_of: HashMap<&str, f64> = others
        .iter()
        .zip(&pis)
        .map(|(o, p)| (o.0.as_str(), p.0))
        .collect();
    let province: Vec<&HashMap<String, String>> =
        rows.iter().filter(|r| r["stratum"] == "01").collect();
    assert_eq!(province.len(), 3);
    for r in province.iter().filter(|r| r["code"] != seat) {
        assert!(
            (f(r, "probability") - pi_of[r["code"].as_str()]).abs() < 1e-12,
            "{r:?}"
        );
    }
    // Replacement lists: 2 per non-certain unit, in the unit's province,
    // disjoint from the sample and from each other.
    let mut seen: HashSet<String> = rows.iter().map(|r| r["code"].clone()).collect();
    for r in &rows {
        let list: Vec<&str> = r["replacements"]
            .split(';')
            .filter(|c| !c.is_empty())
            .collect();
        if r["certainty"] == "1" {
            assert!(list.is_empty(), "{r:?}");
            continue;
        }
        assert_eq!(list.len(), 2, "{r:?}");
        for code in list {
            assert_eq!(
                sizes[code].0, r["stratum"],
                "{code} outside {}",
                r["stratum"]
            );
            assert!(seen.insert(code.to_owned()), "{code} listed twice");
        }
    }
    let conn = db.connect().await;
    let listed = sample_replacement::Entity::find().all(&conn).await.unwrap();
    assert_eq!(listed.len(), 2 * 10);

    // Reproducible from its seed; the purposive unit is in every draw.
    let camp = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("papi-test"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let on = camp.opens_on.to_string();
    let mut again = args.to_vec();
    again.extend(["--on", &on]);
    assert_eq!(ok(&run(&db, &again)), first);
    for seed in ["1", "2", "3", "4", "5"] {
        let other = ok(&run(
            &db,
            &[
                "draw",
                "--clusters",
                "3",
                "--purposive",
                &seat,
                "--seed",
                seed,
                "--on",
                &on,
            ],
        ));
        let other = parse_draw(&other);
        assert!(
            other
                .iter()
                .any(|r| r["code"] == seat && r["probability"] == "1"),
            "seed {seed}"
        );
    }

    // Fieldwork: the first non-certain unit of each province refused and
    // its first replacement completed; in province 46 one unit was
    // ineligible; in province 48 one unit was not contacted and its
    // replacements not used; every other unit completed.
    let sampled: Vec<&HashMap<String, String>> =
        rows.iter().filter(|r| r["certainty"] == "0").collect();
    assert_eq!(sampled.len(), 10, "{first}");
    let mut chunks: Vec<String> = Vec::new();
    let mut status: HashMap<String, (&str, String)> = HashMap::new();
    let mut done_strata = HashSet::new();
    let mut lost_48 = false;
    let mut gone_46 = false;
    for r in &rows {
        let code = r["code"].clone();
        let list: Vec<&str> = r["replacements"]
            .split(';')
            .filter(|c| !c.is_empty())
            .collect();
        let stratum = r["stratum"].as_str();
        let mut lines = String::new();
        if r["certainty"] == "0" && done_strata.insert(stratum.to_owned()) {
            writeln!(lines, "{code},1,,refused").unwrap();
            writeln!(lines, "{code},2,{},completed", list[0]).unwrap();
            status.insert(code, ("respondent", list[0].to_owned()));
        } else if r["certainty"] == "0" && stratum == "48" && !lost_48 {
            lost_48 = true;
            writeln!(lines, "{code},1,{code},non_contact").unwrap();
            status.insert(code.clone(), ("nonrespondent", code));
        } else if r["certainty"] == "0" && stratum == "46" && !gone_46 {
            gone_46 = true;
            writeln!(lines, "{code},1,,4.0").unwrap();
            status.insert(code.clone(), ("ineligible", code));
        } else {
            writeln!(lines, "{code},1,,completed").unwrap();
            status.insert(code.clone(), ("respondent", code));
        }
        chunks.push(lines);
    }
    assert!(lost_48 && gone_46, "{first}");
    let header = "code,attempt,used,outcome\n";
    let path = db.dir.path().join("attempts.csv");
    // Recorded in two parts: adjusting before every unit has an outcome is refused.
    std::fs::write(&path, format!("{header}{}", chunks[..3].concat())).unwrap();
    let said = ok(&run(
        &db,
        &["fieldwork", "record", "--draw", &id, path.to_str().unwrap()],
    ));
    assert!(said.contains("attempts recorded"), "{said}");
    let early = fails(&run(
        &db,
        &["fieldwork", "adjust", "--campaign", "papi-test"],
    ));
    assert!(
        early.contains("9 selected units have no outcome yet"),
        "{early}"
    );
    std::fs::write(&path, format!("{header}{}", chunks[3..].concat())).unwrap();
    ok(&run(
        &db,
        &[
            "fieldwork",
            "record",
            "--campaign",
            "papi-test",
            path.to_str().unwrap(),
        ],
    ));
    // Re-recording a unit replaces its attempts.
    std::fs::write(&path, format!("{header}{}", chunks[..1].concat())).unwrap();
    ok(&run(
        &db,
        &["fieldwork", "record", "--draw", &id, path.to_str().unwrap()],
    ));
    let attempts = chunks.concat();
    assert_eq!(
        count(&conn, "sample_attempts").await,
        i64::try_from(attempts.lines().count()).unwrap()
    );
    // Only outcome codes are stored: no names, contacts or times.
    let stored = sample_attempt::Entity::find().all(&conn).await.unwrap();
    assert!(stored.iter().all(|a| a.rank <= 2 && !a.outcome.is_empty()));
    // Rewritten in unit order at each recording: row ids do not tell which
    // unit was recorded when.
    let mut by_id = stored.clone();
    by_id.sort_by_key(|a| a.id);
    assert!(
        by_id
            .windows(2)
            .all(|w| (w[0].draw_unit_id, w[0].attempt) < (w[1].draw_unit_id, w[1].attempt))
    );

    // Replacements used became localities of the campaign with the slot's fields.
    let links: HashMap<String, campaign_locality::Model> = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(camp.id))
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.locality_code.clone(), l))
        .collect();
    assert_eq!(links.len(), 12 + 4);
    for (code, (_, used)) in &status {
        let slot = rows.iter().find(|r| &r["code"] == code).unwrap();
        let l = &links[used];
        assert_eq!(l.stratum.as_deref(), Some(slot["design_stratum"].as_str()));
        assert!((l.base_weight.unwrap() - f(slot, "base_weight")).abs() < 1e-9);
        assert_eq!(l.target_n, Some(10));
    }
    // A response already recorded at a replacement gets the adjusted weight.
    let (replaced, (_, stand_in)) = status
        .iter()
        .find(|(c, (s, u))| *s == "respondent" && u != *c)
        .unwrap();
    response::ActiveModel {
        id: Set("00000000-0000-4000-8000-000000000001".into()),
        campaign_id: Set(camp.id),
        locality_code: Set(stand_in.clone()),
        channel: Set("interview".into()),
        response_date: Set(camp.opens_on),
        stratum: Set(links[stand_in].stratum.clone()),
        cluster: Set(links[stand_in].cluster.clone()),
        base_weight: Set(links[stand_in].base_weight.unwrap()),
        cells: Set(None),
        answers: Set("{}".into()),
        publication: Set(None),
    }
    .insert(&conn)
    .await
    .unwrap();

    let adjusted = parse_draw(&ok(&run(&db, &["fieldwork", "adjust", "--draw", &id])));
    assert_eq!(adjusted.len(), 12);
    // Σ over respondents of w'·take = each province's frame total, less
    // its ineligible units' M/π.
    for h in ["01", "46", "48", "92"] {
        let frame: f64 = sizes.values().filter(|(p, _)| p == h).map(|(_, m)| m).sum();
        let ineligible: f64 = adjusted
            .iter()
            .filter(|a| a["stratum"] == h && a["outcome"] == "ineligible")
            .map(|a| f(a, "base_weight") * 10.0)
            .sum();
        let before: f64 = adjusted
            .iter()
            .filter(|a| a["stratum"] == h)
            .map(|a| f(a, "base_weight") * 10.0)
            .sum();
        assert!(
            (before / frame - 1.0).abs() < 1e-9,
            "{h}: {before} vs {frame}"
        );
        let after: f64 = adjusted
            .iter()
            .filter(|a| a["stratum"] == h)
            .map(|a| f(a, "adjusted_weight") * 10.0)
            .sum();
        assert!(
            ((after - (frame - ineligible)) / frame).abs() < 1e-9,
            "{h}: {after} vs {frame} − {ineligible}"
        );
        if h != "46" {
            assert!(ineligible == 0.0);
        }
    }
    for a in &adjusted {
        let (st, used) = &status[&a["code"]];
        assert_eq!(&a["used"], used);
        assert_eq!(f(a, "adjusted_weight") > 0.0, *st == "respondent", "{a:?}");
        if *st == "respondent" {
            let l = campaign_locality::Entity::find_by_id((camp.id, used.clone()))
                .one(&conn)
                .await
                .unwrap()
                .unwrap();
            assert!((l.base_weight.unwrap() - f(a, "adjusted_weight")).abs() < 1e-9);
        }
    }
    let w = response::Entity::find_by_id("00000000-0000-4000-8000-000000000001")
        .one(&conn)
        .await
        .unwrap()
        .unwrap()
        .base_weight;
    let expected = adjusted.iter().find(|a| &a["code"] == replaced).unwrap();
    assert!((w - f(expected, "adjusted_weight")).abs() < 1e-9);
}

#[tokio::test]
async fn bad_purposive_codes_replacements_seats_and_attempts_are_named() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let (sizes, census_path) = census(&db).await;
    ok(&run(
        &db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    let conn = db.connect().await;
    let draws = count(&conn, "sample_draws").await;
    let in_46 = sizes
        .iter()
        .find(|(_, (p, _))| p == "46")
        .unwrap()
        .0
        .clone();
    let draw = |extra: &[&str]| {
        let mut a = vec!["draw", "--seed", "3"];
        if !extra.contains(&"--clusters") {
            a.extend(["--clusters", "2"]);
        }
        a.extend(extra);
        fails(&run(&db, &a))
    };
    let e = draw(&["--purposive", "99999"]);
    assert!(e.contains("--purposive: unknown unit 99999"), "{e}");
    let e = draw(&["--purposive", &in_46, "--strata", "01"]);
    assert!(
        e.contains(&format!(
            "--purposive: {in_46} is in province 46, which is not among the strata drawn"
        )),
        "{e}"
    );
    let e = draw(&["--purposive", "01"]);
    assert!(
        e.contains("--purposive: 01 is a province, not a commune"),
        "{e}"
    );
    let e = draw(&["--replacements", "-1"]);
    assert!(
        e.contains("--replacements: must be 0 or more, not -1"),
        "{e}"
    );
    let two: Vec<&String> = sizes
        .iter()
        .filter(|(_, (p, _))| p == "01")
        .map(|(c, _)| c)
        .take(2)
        .collect();
    let e = draw(&[
        "--clusters",
        "1",
        "--purposive",
        &format!("{},{}", two[0], two[1]),
    ]);
    assert!(
        e.contains("--purposive: stratum 01 has 2 purposive units but only 1 are to be drawn"),
        "{e}"
    );
    // A second-stage frame with a bad seat value.
    let villages = db.dir.path().join("villages.csv");
    let mut csv = String::from("commune_code,unit_code,name,size,seat\n");
    for (i, code) in sizes.keys().enumerate() {
        for j in 0..4 {
            let seat = if j == 0 { "1" } else { "" };
            writeln!(
                csv,
                "{code},{code}-{j},Thôn {j},{},{seat}",
                100 + (i + j) % 7
            )
            .unwrap();
        }
    }
    std::fs::write(&villages, format!("{csv}{},X-9,x,10,yes\n", two[0])).unwrap();
    let e = draw(&[
        "--second-stage",
        villages.to_str().unwrap(),
        "--per-unit",
        "2",
    ]);
    let last = csv.lines().count() + 1;
    assert!(
        e.contains(&format!("line {last}, seat: not 1 (always taken) or 0")),
        "{e}"
    );
    assert_eq!(count(&conn, "sample_draws").await, draws);

    // The seat village of every drawn commune is taken (π_j|i = 1); under a
    // purposive commune it is a stratum of its own.
    std::fs::write(&villages, &csv).unwrap();
    let out = run(
        &db,
        &[
            "draw",
            "--clusters",
            "2",
            "--seed",
            "3",
            "--second-stage",
            villages.to_str().unwrap(),
            "--per-unit",
            "2",
            "--purposive",
            two[0],
            "--replacements",
            "1",
        ],
    );
    let text = ok(&out);
    let id = draw_id(&out);
    let rows = parse_draw(&text);
    let communes: HashSet<&str> = rows.iter().map(|r| r["code"].as_str()).collect();
    for c in &communes {
        let seat = rows
            .iter()
            .find(|r| r["unit_code"] == format!("{c}-0"))
            .unwrap_or_else(|| panic!("seat village of {c} missing"));
        assert_eq!(seat["unit_probability"], "1");
        assert_eq!(seat["replacements"], "");
    }
    let top = rows
        .iter()
        .find(|r| r["unit_code"] == format!("{}-0", two[0]))
        .unwrap();
    assert_eq!(
        top["design_stratum"],
        format!("01#take:{}#take:{}-0", two[0], two[0])
    );
    let other = rows
        .iter()
        .find(|r| r["code"] == *two[0] && r["unit_code"] != format!("{}-0", two[0]))
        .unwrap();
    assert_eq!(other["design_stratum"], format!("01#take:{}", two[0]));
    assert_eq!(other["cluster"], other["unit_code"]);
    let list: Vec<&str> = other["replacements"].split(';').collect();
    assert_eq!(list.len(), 1);
    assert!(list[0].starts_with(two[0].as_str()));

    // Attempts that do not fit the draw: each named with its line; nothing written.
    let attempts = db.dir.path().join("attempts.csv");
    // `hailong fieldwork record` of this file must fail: its message.
    let record_fails = |csv: String| {
        std::fs::write(&attempts, csv).unwrap();
        fails(&run(
            &db,
            &[
                "fieldwork",
                "record",
                "--draw",
                &id,
                attempts.to_str().unwrap(),
            ],
        ))
    };
    let e = record_fails(format!(
        "code,attempt,used,outcome\n99999,1,,completed\n{u},1,{seat},refused\n{s},1,{seat}-x,refused\n{u},2,,maybe\n",
        u = other["unit_code"],
        s = top["unit_code"],
        seat = top["unit_code"],
    ));
    assert!(
        e.contains("line 5, outcome: unknown outcome \"maybe\""),
        "{e}"
    );
    let e = record_fails(format!(
        "code,attempt,used,outcome\n99999,1,,completed\n{u},1,{seat},refused\n{s},1,{s}-x,refused\n",
        u = other["unit_code"],
        s = top["unit_code"],
        seat = top["unit_code"],
    ));
    assert!(
        e.contains(&format!(
            "line 2, code: 99999 is not a selected unit of draw {id}"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "line 3, used: {} is not on the replacement list of {}",
            top["unit_code"], other["unit_code"]
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "line 4, used: {} has no replacements",
            top["unit_code"]
        )),
        "{e}"
    );
    assert_eq!(count(&conn, "sample_attempts").await, 0);
    let e = fails(&run(&db, &["fieldwork", "adjust", "--draw", "999"]));
    assert!(e.contains("no sample draw 999"), "{e}");
}

/// A purposive commune whose seat village is purposive too leaves its other
/// drawn village alone in the commune's own stratum: the published results
/// treat that stratum as a census (fpc = 1 PSU, no variance) and equal the
/// estimator run on the draw's design fields with that fpc, to 1e-9.
#[tokio::test]
async fn a_purposive_stratum_with_one_psu_reaches_the_results_as_a_census() {
    use serde_json::Value;

    let app = crate::helpers::spawn_app_with_demo().await;
    let db = &app.db;
    let (sizes, census_path) = census(db).await;
    ok(&run(
        db,
        &["localities", "population", &census_path, "--year", "2024"],
    ));
    let (villages, path, big) = crate::sampling_stages::village_frame(db, &sizes);
    let seat = sizes
        .iter()
        .filter(|(c, (p, _))| p == "01" && **c != big && villages[*c].len() >= 3)
        .map(|(c, _)| c.clone())
        .min()
        .unwrap();
    let seat_village = format!("{seat}-0");
    let conn = db.connect().await;
    let demo = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    campaign::ActiveModel {
        slug: Set("papi-seats".into()),
        name_vi: Set("Đơn vị chọn chủ đích".into()),
        name_en: Set("Purposive units".into()),
        questionnaire_version_id: Set(demo.questionnaire_version_id),
        service_id: Set(demo.service_id),
        opens_on: Set(demo.opens_on),
        closes_on: Set(demo.closes_on),
        is_public: Set(true),
        layout: Set(demo.layout.clone()),
        design: Set(r#"{"min_n":1,"min_df":0}"#.into()),
        sort_order: Set(97),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .unwrap();
    let purposive = format!("{seat},{seat_village}");
    let csv = ok(&run(
        db,
        &[
            "draw",
            "--campaign",
            "papi-seats",
            "--clusters",
            "3",
            "--second-stage",
            &path,
            "--per-unit",
            "2",
            "--take",
            "4",
            "--seed",
            "77",
            "--purposive",
            &purposive,
        ],
    ));
    let rows = parse_draw(&csv);
    let own = format!("01#take:{seat}");
    let alone: Vec<&HashMap<String, String>> =
        rows.iter().filter(|r| r["design_stratum"] == own).collect();
    assert_eq!(alone.len(), 1, "{csv}");
    assert!(
        rows.iter()
            .any(|r| r["design_stratum"] == format!("{own}#take:{seat_village}"))
    );

    let answered = answer_every_unit(&app, "papi-seats", &rows).await;
    let census_fpc: Vec<f64> = answered
        .strata
        .iter()
        .map(|s| if *s == own { 1.0 } else { f64::INFINITY })
        .collect();
    let certain = answered.satisfied(Some(census_fpc));
    let adjusted = answered.satisfied(None);
    assert!((certain.se.unwrap() - adjusted.se.unwrap()).abs() > 1e-6);

    assert_eq!(crate::helpers::publish(&app, "papi-seats").await, Some(1));
    let res = app
        .get("/api/v1/campaigns/papi-seats/results?level=national&index=SIPAS/E1/E1.1")
        .await;
    assert_eq!(res.status(), 200);
    let published: Vec<Value> = res.json().await.unwrap();
    let p = &published[0];
    assert_eq!(p["suppressed"], false, "{p}");
    let (e, se) = (certain.estimate.unwrap(), certain.se.unwrap());
    assert!(
        (p["estimate"].as_f64().unwrap() - e).abs() < 1e-9,
        "{p} vs {e}"
    );
    assert!((p["se"].as_f64().unwrap() - se).abs() < 1e-9, "{p} vs {se}");
}
