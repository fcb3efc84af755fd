//! Comparing two waves and deciding targets at 95% confidence.

use entity::{campaign, response, result_target};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_demo};

/// Copies `sipas-demo` into an earlier wave `sipas-earlier` whose answers in province 01
/// are two points lower (other provinces identical).
pub(crate) async fn earlier_wave(db: &DatabaseConnection) {
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut copy: campaign::ActiveModel = c.clone().into();
    copy.id = sea_orm::ActiveValue::NotSet;
    copy.slug = Set("sipas-earlier".to_owned());
    copy.name_en = Set("SIPAS earlier wave".to_owned());
    copy.sort_order = Set(5);
    let new_id = campaign::Entity::insert(copy)
        .exec(db)
        .await
        .unwrap()
        .last_insert_id;
    let links = entity::campaign_locality::Entity::find()
        .filter(entity::campaign_locality::Column::CampaignId.eq(c.id))
        .all(db)
        .await
        .unwrap();
    let links: Vec<entity::campaign_locality::ActiveModel> = links
        .into_iter()
        .map(|l| {
            let mut a: entity::campaign_locality::ActiveModel = l.into();
            a.campaign_id = Set(new_id);
            a
        })
        .collect();
    entity::campaign_locality::Entity::insert_many(links)
        .exec(db)
        .await
        .unwrap();
    let rows = response::Entity::find()
        .filter(response::Column::CampaignId.eq(c.id))
        .all(db)
        .await
        .unwrap();
    let mut batch = Vec::new();
    for r in rows {
        let lower = r.stratum.as_deref().unwrap_or("").starts_with("01-");
        let mut answers: serde_json::Map<String, Value> = serde_json::from_str(&r.answers).unwrap();
        if lower {
            for (k, v) in answers.iter_mut() {
                if k.starts_with('e') && k.contains('_') && v.is_number() {
                    *v = serde_json::json!((v.as_i64().unwrap() - 2).max(1));
                }
            }
        }
        let mut a: response::ActiveModel = r.into();
        a.publication = Set(None);
        a.id = Set(uuid::Uuid::new_v4().hyphenated().to_string());
        a.campaign_id = Set(new_id);
        a.answers = Set(Value::Object(answers).to_string());
        batch.push(a);
    }
    for chunk in batch.chunks(500) {
        response::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    crate::helpers::publish_synthetic(db, "sipas-earlier").await;
}

async fn json(app: &TestApp, path: &str) -> Vec<Value> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_change_is_flagged_only_where_its_interval_excludes_zero() {
    let app = spawn_app_with_demo().await;
    earlier_wave(&app.db.connect().await).await;
    let rows = json(
        &app,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-earlier&level=province",
    )
    .await;
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let d = r["difference"].as_f64().unwrap();
        let (lo, hi) = (
            r["ci_low"].as_f64().unwrap(),
            r["ci_high"].as_f64().unwrap(),
        );
        assert!(lo <= d && d <= hi);
        if r["locality"] == "01" {
            assert!(d > 0.1, "answers two points higher now: {r}");
            assert_eq!(r["flagged"], true, "{r}");
        } else {
            assert!(d.abs() < 1e-12, "same answers: {r}");
            assert_eq!(r["flagged"], false, "{r}");
        }
    }
    let html = app
        .get("/results/sipas-demo/compare?with=sipas-earlier&lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("a real change"));
    assert!(html.contains("not distinguishable from no change"));
    let res = app.get("/api/v1/campaigns/sipas-demo/compare").await;
    assert_eq!(res.status(), 400);
    let res = app
        .get("/api/v1/campaigns/sipas-demo/compare?with=health-demo")
        .await;
    assert_eq!(res.status(), 400, "HEALTH and SIPAS are not the same index");
}

#[tokio::test]
async fn targets_are_met_missed_or_undecided_from_the_intervals() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    earlier_wave(&db).await;
    let national = json(&app, "/api/v1/campaigns/sipas-demo/results?level=national").await;
    let est = national[0]["estimate"].as_f64().unwrap();
    let provinces = json(&app, "/api/v1/campaigns/sipas-demo/results?level=province").await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    // The province whose interval lies above at least one other's can be "top k" decidably.
    let top = provinces
        .iter()
        .max_by(|a, b| {
            a["estimate"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["estimate"].as_f64().unwrap())
        })
        .unwrap()["locality"]
        .as_str()
        .unwrap()
        .to_owned();
    let targets = [
        ("VN", "at_least", 0.10, None, "met"),
        ("VN", "at_least", 0.99, None, "missed"),
        ("VN", "at_least", est, None, "undecided"),
        (top.as_str(), "top", 4.0, None, "met"),
        ("01", "gain", 0.0, Some("sipas-earlier"), "met"),
        ("46", "gain", 0.20, Some("sipas-earlier"), "missed"),
        ("46", "gain", 0.0, Some("sipas-earlier"), "undecided"),
        ("46", "gain", 0.0, Some("no-such-wave"), "undecided"),
    ];
    for (loc, kind, value, base, _) in &targets {
        result_target::Entity::insert(result_target::ActiveModel {
            campaign_id: Set(c.id),
            locality_code: Set((*loc).to_owned()),
            index_code: Set("SIPAS".to_owned()),
            kind: Set((*kind).to_owned()),
            value: Set(*value),
            baseline_slug: Set(base.map(str::to_owned)),
            ..Default::default()
        })
        .exec(&db)
        .await
        .unwrap();
    }
    let outcomes = json(&app, "/api/v1/campaigns/sipas-demo/targets").await;
    assert_eq!(outcomes.len(), targets.len());
    for (o, (loc, kind, _, _, expected)) in outcomes.iter().zip(&targets) {
        assert_eq!(o["locality"], *loc);
        assert_eq!(o["kind"], *kind);
        assert_eq!(o["status"], *expected, "{o}");
    }
    assert_eq!(outcomes[7]["reason"], "no_baseline");
    let html = app
        .get("/results/sipas-demo?lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Targets"));
    assert!(html.contains("Not yet decidable"));
    assert!(html.contains("Missed"));
}

/// Staff record targets behind sign-in, role checks and CSRF.
#[tokio::test]
async fn staff_record_and_delete_targets_with_validation() {
    let app = spawn_app_with_demo().await;
    assert_eq!(
        app.get("/staff/campaigns/sipas-demo/targets")
            .await
            .status(),
        303,
        "sign-in first"
    );
    app.add_user("analyst@example.vn", "analyst").await;
    app.add_user("field@example.vn", "field_manager").await;
    let field = app.login("field@example.vn").await;
    let fcsrf = app.page_csrf(&field, "/staff/tokens").await;
    let res = field
        .post(app.url("/staff/campaigns/sipas-demo/targets"))
        .form(&[
            ("csrf_token", fcsrf.as_str()),
            ("locality", "VN"),
            ("index", "SIPAS"),
            ("kind", "at_least"),
            ("value", "10"),
            ("baseline", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "field managers do not set targets");
    let c = app.login("analyst@example.vn").await;
    let csrf = app
        .page_csrf(&c, "/staff/campaigns/sipas-demo/targets")
        .await;
    let res = c
        .post(app.url("/staff/campaigns/sipas-demo/targets"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("locality", "VN"),
            ("index", "SIPAS"),
            ("kind", "at_least"),
            ("value", "10"),
            ("baseline", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/staff/campaigns/sipas-demo/targets"
    );
    let res = c
        .post(app.url("/staff/campaigns/sipas-demo/targets?lang=en"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("locality", "nowhere"),
            ("index", "SIPAS"),
            ("kind", "gain"),
            ("value", "abc"),
            ("baseline", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("Invalid target value"), "{body}");
    assert!(body.contains("Choose the earlier wave"));
    let outcomes = json(&app, "/api/v1/campaigns/sipas-demo/targets").await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["status"], "met");
    assert!((outcomes[0]["value"].as_f64().unwrap() - 0.10).abs() < 1e-12);
    let id = outcomes[0]["id"].as_i64().unwrap();
    let res = c
        .post(app.url(&format!("/staff/campaigns/sipas-demo/targets/{id}/delete")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/staff/campaigns/sipas-demo/targets"
    );
    assert!(
        json(&app, "/api/v1/campaigns/sipas-demo/targets")
            .await
            .is_empty()
    );
}
