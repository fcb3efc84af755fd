//! Comparing with an earlier wave collected under older units: its responses are placed in
//! today's units through the imported crosswalk (split by shares) and compared at today's
//! level; checked against the estimation engine run directly on the re-aggregated rows.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use entity::{campaign, campaign_locality, locality, response};
use hailong::services::crosswalk::{self, Link};
use hailong_stats::{
    Design, DesignSpec, Domains, EstimateOptions, Estimator, Factor, Item, LonelyPsu, Stage,
    Statistic,
};
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_demo};

/// Today's province of each demo province's old code.
const OLD_PROVINCES: [(&str, &str); 4] = [("31", "01"), ("36", "46"), ("38", "48"), ("32", "92")];

struct OldWave {
    /// old commune → [(today's commune, share)]
    links: BTreeMap<String, Vec<(String, f64)>>,
    /// today's commune → today's province
    province_of: HashMap<String, String>,
}

/// Creates `sipas-2024`: the demo's responses, one point lower in Đà Nẵng (48), collected in
/// 2024 in old units (old provinces 31, 36, 38, 32 and old communes 8xxxx), with a crosswalk
/// to today's communes in which one old commune is split between Hà Nội and Đà Nẵng.
async fn old_wave(app: &TestApp) -> OldWave {
    let db = app.db.connect().await;
    let current = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let rows = response::Entity::find()
        .filter(response::Column::CampaignId.eq(current.id))
        .all(&db)
        .await
        .unwrap();
    let today = hailong::services::locality_lists::Hierarchy::on(&db, current.opens_on)
        .await
        .unwrap();
    let mut communes: Vec<String> = rows.iter().map(|r| r.locality_code.clone()).collect();
    communes.sort();
    communes.dedup();
    let province_of: HashMap<String, String> = communes
        .iter()
        .map(|c| {
            let p = today.ancestor_at(c, "province").unwrap().code.clone();
            (c.clone(), p)
        })
        .collect();
    let old_province = |p: &str| OLD_PROVINCES.iter().find(|(_, n)| *n == p).unwrap().0;
    let old_code: HashMap<String, String> = communes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), format!("8{i:04}")))
        .collect();

    // Old units, valid until the reform.
    let from = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let unit = |code: &str, level: &str, parent: Option<&str>| locality::ActiveModel {
        id: NotSet,
        code: Set(code.to_owned()),
        level: Set(level.to_owned()),
        parent_code: Set(parent.map(str::to_owned)),
        name_vi: Set(format!("Cũ {code}")),
        name_en: Set(format!("Old {code}")),
        full_name_vi: Set(None),
        full_name_en: Set(None),
        unit_type_vi: Set(None),
        unit_type_en: Set(None),
        valid_from: Set(from),
        valid_to: Set(Some(to)),
    };
    let mut units: Vec<locality::ActiveModel> = OLD_PROVINCES
        .iter()
        .map(|(old, _)| unit(old, "province", None))
        .collect();
    for c in &communes {
        units.push(unit(
            &old_code[c],
            "commune",
            Some(old_province(&province_of[c])),
        ));
    }
    locality::Entity::insert_many(units)
        .exec(&db)
        .await
        .unwrap();

    // The crosswalk: every old commune to its commune; the first old commune of Hà Nội is
    // split 40 % to its commune and 60 % to the first commune of Đà Nẵng.
    let first_in = |p: &str| communes.iter().find(|c| province_of[*c] == p).unwrap();
    let (split_from, split_to) = (first_in("01").clone(), first_in("48").clone());
    let mut links: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for c in &communes {
        let old = old_code[c].clone();
        if *c == split_from {
            links.insert(old, vec![(c.clone(), 0.4), (split_to.clone(), 0.6)]);
        } else {
            links.insert(old, vec![(c.clone(), 1.0)]);
        }
    }
    let file: Vec<Link> = links
        .iter()
        .flat_map(|(old, to)| {
            to.iter().map(move |(new, share)| Link {
                line: 0,
                old_code: old.clone(),
                new_code: new.clone(),
                share: *share,
            })
        })
        .collect();
    let imported = crosswalk::import(&db, &file).await.unwrap().unwrap();
    assert_eq!(imported, communes.len() + 1);

    // The campaign and its responses, under the old codes.
    let mut design: Value = serde_json::from_str(&current.design).unwrap();
    design["calibration"] = serde_json::json!([]);
    let mut copy: campaign::ActiveModel = current.clone().into();
    copy.id = NotSet;
    copy.slug = Set("sipas-2024".to_owned());
    copy.name_en = Set("SIPAS 2024".to_owned());
    copy.opens_on = Set(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap());
    copy.closes_on = Set(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
    copy.design = Set(design.to_string());
    copy.sort_order = Set(9);
    let id = campaign::Entity::insert(copy)
        .exec(&db)
        .await
        .unwrap()
        .last_insert_id;
    let places: Vec<campaign_locality::ActiveModel> = campaign_locality::Entity::find()
        .filter(campaign_locality::Column::CampaignId.eq(current.id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| old_code.contains_key(&l.locality_code))
        .map(|l| {
            let mut a: campaign_locality::ActiveModel = l.clone().into();
            a.campaign_id = Set(id);
            a.locality_code = Set(old_code[&l.locality_code].clone());
            a
        })
        .collect();
    campaign_locality::Entity::insert_many(places)
        .exec(&db)
        .await
        .unwrap();
    let mut batch = Vec::new();
    for r in rows {
        let lower = province_of[&r.locality_code] == "48";
        let mut answers: serde_json::Map<String, Value> = serde_json::from_str(&r.answers).unwrap();
        if lower {
            for (k, v) in answers.iter_mut() {
                if k.starts_with('e') && k.contains('_') && v.is_number() {
                    *v = serde_json::json!((v.as_i64().unwrap() - 1).max(1));
                }
            }
        }
        let mut a: response::ActiveModel = r.clone().into();
        a.publication = Set(None);
        a.id = Set(uuid::Uuid::new_v4().hyphenated().to_string());
        a.campaign_id = Set(id);
        a.locality_code = Set(old_code[&r.locality_code].clone());
        a.answers = Set(Value::Object(answers).to_string());
        batch.push(a);
    }
    for chunk in batch.chunks(500) {
        response::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await
            .unwrap();
    }
    crate::helpers::publish_synthetic(&db, "sipas-2024").await;
    OldWave { links, province_of }
}

/// The engine run directly on the old wave's responses placed in today's units: SIPAS by
/// province and by commune, `(estimate, se)` per locality.
async fn engine_on_old_wave(app: &TestApp, wave: &OldWave) -> HashMap<String, (f64, f64)> {
    let db = app.db.connect().await;
    let old = hailong::services::campaigns::by_slug(&db, "sipas-2024")
        .await
        .unwrap();
    let plan = hailong::services::results::plan(&old.definition);
    let rows = response::Entity::find()
        .filter(response::Column::CampaignId.eq(old.campaign.id))
        .all(&db)
        .await
        .unwrap();
    let (mut w, mut strata, mut psu, mut prov, mut comm) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); plan.items.len()];
    for r in &rows {
        let answers: serde_json::Map<String, Value> = serde_json::from_str(&r.answers).unwrap();
        for (new, share) in &wave.links[&r.locality_code] {
            w.push(r.base_weight * share);
            strata.push(r.stratum.clone().unwrap_or_default());
            psu.push(r.cluster.clone().unwrap_or_else(|| r.id.clone()));
            prov.push(wave.province_of[new].clone());
            comm.push(new.clone());
            for (item, col) in plan.items.iter().zip(values.iter_mut()) {
                col.push(item.value(answers.get(&item.code)));
            }
        }
    }
    let design = Design::new(DesignSpec {
        weights: w,
        strata: Some(Factor::from_labels(&strata)),
        stages: vec![Stage {
            clusters: Some(Factor::from_labels(&psu)),
            fpc: None,
        }],
        lonely_psu: <LonelyPsu as clap::ValueEnum>::from_str(&old.design.lonely_psu, true).unwrap(),
    })
    .unwrap();
    let items: Vec<Item> = plan
        .items
        .iter()
        .zip(values)
        .map(|(p, v)| Item::new(p.code.clone(), v).with_satisfied_min(p.satisfied_min as f64))
        .collect();
    let est = Estimator::new(&design, &items, &plan.indices, EstimateOptions::default()).unwrap();
    let mut out = HashMap::new();
    for domains in [Domains::from_labels(&prov), Domains::from_labels(&comm)] {
        for e in est.estimate(&domains).unwrap() {
            if let (Statistic::Index, true, Some(x), Some(se)) =
                (e.statistic, e.item == "SIPAS", e.estimate, e.se)
            {
                out.insert(e.domain, (x, se));
            }
        }
    }
    out
}

async fn json(app: &TestApp, path: &str) -> Vec<Value> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_old_wave_is_compared_in_todays_units_through_the_crosswalk() {
    let app = spawn_app_with_demo().await;
    let wave = old_wave(&app).await;
    let engine = engine_on_old_wave(&app, &wave).await;
    let current: HashMap<String, Value> = json(
        &app,
        "/api/v1/campaigns/sipas-demo/results?level=province&index=SIPAS",
    )
    .await
    .into_iter()
    .map(|r| (r["locality"].as_str().unwrap().to_owned(), r))
    .collect();

    let rows = json(
        &app,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-2024&level=province&index=SIPAS",
    )
    .await;
    let codes: Vec<&str> = rows
        .iter()
        .map(|r| r["locality"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["01", "46", "48", "92"], "today's provinces");
    for r in &rows {
        let code = r["locality"].as_str().unwrap();
        let (prev, se_prev) = engine[code];
        let cur = &current[code];
        let (now, se_now) = (
            cur["estimate"].as_f64().unwrap(),
            cur["se"].as_f64().unwrap(),
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12;
        assert!(
            close(r["previous"].as_f64().unwrap(), prev),
            "{r} vs {prev}"
        );
        assert!(close(r["current"].as_f64().unwrap(), now), "{r}");
        assert!(close(r["difference"].as_f64().unwrap(), now - prev), "{r}");
        let se = (se_now * se_now + se_prev * se_prev).sqrt();
        assert!(close(r["se"].as_f64().unwrap(), se), "{r} se {se}");
        if code == "48" {
            // One point lower then: a real change.
            assert_eq!(r["flagged"], true, "{r}");
            assert!(r["difference"].as_f64().unwrap() > 0.05, "{r}");
        }
    }

    // The split commune of Đà Nẵng holds its own respondents and 60 % of the Hà Nội
    // commune's: its previous estimate is the engine's on those rows.
    let communes = json(
        &app,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-2024&level=commune&index=SIPAS",
    )
    .await;
    let split_to = wave
        .links
        .values()
        .find(|to| to.len() == 2)
        .map(|to| to[1].0.clone())
        .unwrap();
    let row = communes
        .iter()
        .find(|r| r["locality"] == split_to.as_str())
        .unwrap();
    assert!(row["locality"].as_str().unwrap().len() == 5);
    if let Some(p) = row["previous"].as_f64() {
        assert!((p - engine[&split_to].0).abs() <= 1e-12, "{row}");
    }
    assert!(
        communes
            .iter()
            .all(|r| !r["locality"].as_str().unwrap().starts_with('8'))
    );

    // Both the API and the page say the earlier wave was re-aggregated.
    let res = app
        .get("/api/v1/campaigns/sipas-demo/compare?with=sipas-2024&level=province&index=SIPAS")
        .await;
    assert_eq!(
        res.headers()["hailong-previous-wave"],
        "reaggregated-by-crosswalk"
    );
    for (lang, words) in [("vi", "bảng chuyển đổi đơn vị"), ("en", "unit crosswalk")] {
        let page = app
            .get(&format!(
                "/results/sipas-demo/compare?with=sipas-2024&index=SIPAS&lang={lang}"
            ))
            .await;
        assert_eq!(page.status(), 200);
        let text = page.text().await.unwrap();
        assert!(text.contains(words), "{lang}: {text}");
    }

    // Without the crosswalk the old units cannot be placed: nothing to compare with.
    let db = app.db.connect().await;
    entity::locality_crosswalk::Entity::delete_many()
        .exec(&db)
        .await
        .unwrap();
    let rows = json(
        &app,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-2024&level=province&index=SIPAS",
    )
    .await;
    assert!(rows.iter().all(|r| r["previous"].is_null()), "{rows:?}");
}
