//! Microdata that stays suppressed (issue 13): a commune merged up for having
//! fewer than `min_n` responses cannot be found again from PSU labels,
//! weights, row order (by random submission id, issue 18) or notes.txt.

use std::collections::{HashMap, HashSet};
use std::process::Command;

use entity::response;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestApp, hailong_bin, spawn_app_with_demo};

struct Export {
    rows: Vec<HashMap<String, String>>,
    notes: String,
}

fn export(app: &TestApp, slug: &str) -> Export {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(hailong_bin())
        .args(["export", "microdata", "--campaign", slug, "--out", "."])
        .arg("--database-url")
        .arg(&app.db.url)
        .current_dir(dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.path().join("microdata.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    let notes = std::fs::read_to_string(dir.path().join("notes.txt")).unwrap();
    Export { rows, notes }
}

#[tokio::test]
async fn merged_up_communes_cannot_be_found_again_in_the_microdata() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let health = hailong::services::campaigns::by_slug(&db, "health-demo")
        .await
        .unwrap();
    let min_n = 30;
    // What the database knows: each commune's size and its own base weight.
    let stored = response::Entity::find()
        .filter(response::Column::CampaignId.eq(health.campaign.id))
        .all(&db)
        .await
        .unwrap();
    let mut size: HashMap<String, usize> = HashMap::new();
    let mut weight: HashMap<String, f64> = HashMap::new();
    for r in &stored {
        *size.entry(r.locality_code.clone()).or_default() += 1;
        weight.insert(r.locality_code.clone(), r.base_weight);
    }
    let small: Vec<&String> = size
        .iter()
        .filter(|(_, n)| **n < min_n)
        .map(|(c, _)| c)
        .collect();
    assert!(
        small.len() >= 2,
        "the demo has merged-up communes: {size:?}"
    );
    let small_weights: HashSet<String> = small.iter().map(|c| format!("{}", weight[*c])).collect();
    let small_total: f64 = stored
        .iter()
        .filter(|r| small.contains(&&r.locality_code))
        .map(|r| r.base_weight)
        .sum();

    let a = export(&app, "health-demo");
    let b = export(&app, "health-demo");
    assert_eq!(a.rows.len(), stored.len());

    // notes.txt: neither the hidden communes' codes nor their sizes.
    for c in &small {
        assert!(!a.notes.contains(c.as_str()), "{c} named: {}", a.notes);
        let n = size[*c];
        assert!(
            !a.notes.contains(&format!("{n} responses")),
            "a size printed: {}",
            a.notes
        );
    }
    assert!(a.notes.contains("merged up"), "{}", a.notes);

    // Weights: no merged-up row keeps its commune's own base weight, and the
    // blended weights keep the total.
    let blank: Vec<&HashMap<String, String>> =
        a.rows.iter().filter(|r| r["commune"].is_empty()).collect();
    assert_eq!(blank.len(), small.iter().map(|c| size[*c]).sum::<usize>());
    for r in &blank {
        assert!(
            !small_weights.contains(&r["base_weight"]),
            "a merged-up row keeps its own weight {}",
            r["base_weight"]
        );
    }
    let total: f64 = blank
        .iter()
        .map(|r| r["base_weight"].parse::<f64>().unwrap())
        .sum();
    assert!(
        (total - small_total).abs() < 1e-6 * small_total,
        "{total} vs {small_total}"
    );
    // Rows of published communes keep their weights.
    let shown_ok = a
        .rows
        .iter()
        .filter(|r| !r["commune"].is_empty())
        .all(|r| r["base_weight"] == format!("{}", weight[&r["commune"]]));
    assert!(shown_ok);

    // PSU labels: random identifiers, never a locality code, new every export.
    for r in &a.rows {
        let psu = &r["psu"];
        assert!(
            psu.len() == 9
                && psu.starts_with('P')
                && psu[1..].bytes().all(|c| c.is_ascii_hexdigit()),
            "{psu}"
        );
        assert!(!size.contains_key(psu.as_str()));
    }
    let psus = |e: &Export| {
        e.rows
            .iter()
            .map(|r| r["psu"].clone())
            .collect::<HashSet<_>>()
    };
    assert!(
        psus(&a).is_disjoint(&psus(&b)),
        "PSU identifiers differ between exports"
    );

    // Row order: by submission id, which is random: not the order of arrival (storage) nor
    // grouped by locality, and the same in every export (so the order tells nothing that
    // one export does not).
    let mut by_id: Vec<&response::Model> = stored.iter().collect();
    by_id.sort_by(|x, y| x.id.cmp(&y.id));
    for (r, s) in a.rows.iter().zip(&by_id) {
        if !r["commune"].is_empty() {
            assert_eq!(
                r["commune"], s.locality_code,
                "row {} out of id order",
                r["row"]
            );
        }
    }
    let runs = a
        .rows
        .windows(2)
        .filter(|w| w[0]["commune"] != w[1]["commune"])
        .count();
    assert!(
        runs > size.len() * 2,
        "rows grouped by commune: {runs} changes"
    );
    let signature = |e: &Export| {
        e.rows
            .iter()
            .map(|r| {
                let mut cells: Vec<(&String, &String)> =
                    r.iter().filter(|(k, _)| k.as_str() != "psu").collect();
                cells.sort();
                format!("{cells:?}")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        signature(&a),
        signature(&b),
        "the same rows in the same order"
    );
}

#[tokio::test]
async fn a_stratum_named_after_a_merged_up_commune_gets_a_random_label() {
    // A design stratified by commune: the stratum would name the commune.
    let app = crate::helpers::spawn_prepared(
        |_| {},
        async |db| {
            use sea_orm::sea_query::Expr;
            let health = hailong::services::campaigns::by_slug(db, "health-demo")
                .await
                .unwrap();
            response::Entity::update_many()
                .col_expr(
                    response::Column::Stratum,
                    Expr::col(response::Column::LocalityCode),
                )
                .filter(response::Column::CampaignId.eq(health.campaign.id))
                .exec(db)
                .await
                .unwrap();
        },
    )
    .await;
    let db = app.db.connect().await;
    let health = hailong::services::campaigns::by_slug(&db, "health-demo")
        .await
        .unwrap();
    let stored = response::Entity::find()
        .filter(response::Column::CampaignId.eq(health.campaign.id))
        .all(&db)
        .await
        .unwrap();
    let mut size: HashMap<String, usize> = HashMap::new();
    for r in &stored {
        *size.entry(r.locality_code.clone()).or_default() += 1;
    }
    let small: HashSet<&String> = size
        .iter()
        .filter(|(_, n)| **n < 30)
        .map(|(c, _)| c)
        .collect();
    assert!(!small.is_empty());
    let e = export(&app, "health-demo");
    let mut shown = 0;
    for r in &e.rows {
        let stratum = &r["stratum"];
        assert!(
            !small.contains(stratum),
            "a hidden commune named by its stratum"
        );
        if r["commune"].is_empty() {
            assert!(stratum.starts_with('S') && stratum.len() == 9, "{stratum}");
        } else {
            assert_eq!(stratum, &r["commune"], "other strata keep their names");
            shown += 1;
        }
    }
    assert!(shown > 0);
}
