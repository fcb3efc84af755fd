//! Results for analysts: the JSON API, suppression, access, caching, exports.

use entity::campaign;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_demo};

const KEYS: [&str; 12] = [
    "locality",
    "name",
    "index",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "deff",
    "suppressed",
    "reason",
];

async fn rows(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/campaigns/{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn national_sipas_index_has_an_interval_around_it() {
    let app = spawn_app_with_demo().await;
    let list = rows(&app, "sipas-demo/results?level=national").await;
    assert_eq!(list.len(), 1);
    let r = &list[0];
    for k in KEYS {
        assert!(r.get(k).is_some(), "missing key {k}: {r}");
    }
    assert_eq!(r["locality"], "VN");
    assert_eq!(r["index"], "SIPAS");
    assert_eq!(r["suppressed"], false);
    assert!(r["reason"].is_null());
    let est = r["estimate"].as_f64().unwrap();
    let (lo, hi) = (
        r["ci_low"].as_f64().unwrap(),
        r["ci_high"].as_f64().unwrap(),
    );
    assert!(0.3 < est && est < 0.99, "{est}");
    assert!(lo < est && est < hi, "{lo} {est} {hi}");
    assert!(r["se"].as_f64().unwrap() > 0.0);
    // 48 communes (PSUs) in 8 strata.
    assert_eq!(r["df"], 40);
    assert!(r["n"].as_u64().unwrap() > 1000);
}

#[tokio::test]
async fn provinces_are_named_in_the_requested_language() {
    let app = spawn_app_with_demo().await;
    let vi = rows(&app, "sipas-demo/results?level=province").await;
    let en = rows(&app, "sipas-demo/results?level=province&lang=en").await;
    assert_eq!(vi.len(), 4);
    let codes: Vec<&str> = vi.iter().map(|r| r["locality"].as_str().unwrap()).collect();
    assert_eq!(codes, ["01", "46", "48", "92"]);
    assert_eq!(vi[0]["name"], "Hà Nội");
    assert_eq!(en[0]["name"], "Hanoi");
    for r in &vi {
        assert_eq!(r["suppressed"], false, "{r}");
        // Each province has about a dozen communes in two strata: enough own PSUs.
        assert!(r["estimate"].as_f64().is_some());
    }
}

#[tokio::test]
async fn communes_with_one_psu_are_suppressed_with_the_reason_and_null_numbers() {
    let app = spawn_app_with_demo().await;
    let list = rows(&app, "sipas-demo/results?level=commune").await;
    assert_eq!(list.len(), 48);
    for r in &list {
        for k in KEYS {
            assert!(r.get(k).is_some(), "missing key {k}: {r}");
        }
        // A commune is one cluster: its own PSUs − strata is 0 < min_df 8.
        assert_eq!(r["suppressed"], true, "{r}");
        assert_eq!(r["reason"], "too_few_psus");
        for k in ["estimate", "se", "ci_low", "ci_high", "deff"] {
            assert!(r[k].is_null(), "{k} of a suppressed row: {r}");
        }
        assert!(r["n"].as_u64().unwrap() > 0);
    }
}

#[tokio::test]
async fn too_few_respondents_are_suppressed_before_anything_else() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("health-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut design: Value = serde_json::from_str(&c.design).unwrap();
    design["min_n"] = serde_json::json!(100_000);
    let mut active: campaign::ActiveModel = c.into();
    active.design = Set(design.to_string());
    active.update(&db).await.unwrap();
    // Settings take effect at the next publication.
    crate::helpers::publish(&app, "health-demo").await;
    let list = rows(&app, "health-demo/results?level=province").await;
    assert_eq!(list.len(), 2);
    for r in &list {
        assert_eq!(r["reason"], "too_few_respondents");
        assert!(r["estimate"].is_null());
    }
}

#[tokio::test]
async fn elements_and_criteria_can_be_asked_for_by_index_key() {
    let app = spawn_app_with_demo().await;
    let index = rows(&app, "health-demo/results?level=national").await;
    assert_eq!(index[0]["index"], "HEALTH");
    let mut sum = 0.0;
    for e in ["A", "B", "C", "D", "E"] {
        let r = rows(
            &app,
            &format!("health-demo/results?level=national&index=HEALTH/{e}"),
        )
        .await;
        assert_eq!(r[0]["index"], format!("HEALTH/{e}"));
        sum += r[0]["estimate"].as_f64().unwrap();
    }
    // mean_of_criteria: the index is the mean of its elements.
    let est = index[0]["estimate"].as_f64().unwrap();
    assert!((sum / 5.0 - est).abs() < 1e-12, "{} vs {est}", sum / 5.0);
    let crit = rows(&app, "health-demo/results?level=province&index=HEALTH/A/A1").await;
    assert_eq!(crit.len(), 2);
}

#[tokio::test]
async fn bad_level_is_a_400_with_a_message() {
    let app = spawn_app_with_demo().await;
    let res = app
        .get("/api/v1/campaigns/sipas-demo/results?level=district&lang=en")
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_level");
    assert!(body["message"].as_str().unwrap().contains("district"));
    let res = app
        .get("/api/v1/campaigns/sipas-demo/results?index=NOPE")
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unknown_index");
}

#[tokio::test]
async fn unknown_campaign_is_a_404() {
    let app = spawn_app_with_demo().await;
    let res = app.get("/api/v1/campaigns/nope/results").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "campaign_not_found");
}

#[tokio::test]
async fn results_of_a_campaign_that_is_not_public_need_an_account() {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("health-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut active: campaign::ActiveModel = c.into();
    active.is_public = Set(false);
    active.update(&db).await.unwrap();
    let res = app.get("/api/v1/campaigns/health-demo/results").await;
    assert_eq!(res.status(), 401);
    let res = app.get("/api/v1/campaigns/sipas-demo/results").await;
    assert_eq!(res.status(), 200);
    // An analyst's API token opens it; a designer's does not.
    let mut tokens = Vec::new();
    for (email, role) in [("an@example.vn", "analyst"), ("de@example.vn", "designer")] {
        tokens.push(app.token_for(email, role).await);
    }
    let path = "/api/v1/campaigns/health-demo/results";
    let res = app.get_as(path, &tokens[0]).await;
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = res.json().await.unwrap();
    assert!(!rows.is_empty());
    let res = app.get_as(path, &tokens[1]).await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn results_change_only_at_a_publication_and_by_at_least_k_responses() {
    use entity::response;
    let app = spawn_app_with_demo().await;
    let path = "/api/v1/campaigns/health-demo/results?level=national";
    let first = app.get(path).await;
    assert!(first.headers().get("x-results-stale").is_none());
    assert_eq!(first.headers()["hailong-publication"], "1");
    let before: Vec<Value> = first.json().await.unwrap();

    // New responses arrive (copies of an existing one, with new ids, waiting).
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("health-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let some = response::Entity::find()
        .filter(response::Column::CampaignId.eq(c.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let add = |n: usize| {
        let (db, some) = (db.clone(), some.clone());
        async move {
            for _ in 0..n {
                let mut copy: response::ActiveModel = some.clone().into();
                copy.id = Set(uuid::Uuid::new_v4().hyphenated().to_string());
                copy.publication = Set(None);
                response::Entity::insert(copy).exec(&db).await.unwrap();
            }
        }
    };
    add(1).await;
    // Not shown before a publication, nor after one that may not include it alone.
    let rows: Vec<Value> = app.get(path).await.json().await.unwrap();
    assert_eq!(rows, before);
    assert_eq!(crate::helpers::publish(&app, "health-demo").await, Some(2));
    let res = app.get(path).await;
    assert_eq!(res.headers()["hailong-publication"], "2");
    let rows: Vec<Value> = res.json().await.unwrap();
    assert_eq!(rows, before);
    // k = max(min_n 30, 10): with 29 more, the 30 are included together.
    add(29).await;
    assert_eq!(crate::helpers::publish(&app, "health-demo").await, Some(3));
    let rows: Vec<Value> = app.get(path).await.json().await.unwrap();
    assert_eq!(
        rows[0]["n"].as_u64().unwrap(),
        before[0]["n"].as_u64().unwrap() + 30
    );
}

/// A campaign whose rows are interleaved with another campaign's (less than half of its span
/// of the table) is read through the campaign index, in rowid ranges: every one of its rows,
/// no other. Exports read it in id order; both give the same rows.
#[tokio::test]
async fn a_campaign_scattered_among_others_is_read_whole_and_alone() {
    use hailong::services::{campaigns, results};
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let sipas = campaigns::by_slug(&db, "sipas-demo").await.unwrap();
    let other = entity::campaign::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id != sipas.campaign.id)
        .unwrap();
    // Three copies of the campaign's rows in another campaign, then one more of its own.
    for k in 0..3 {
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "INSERT INTO responses (id, campaign_id, locality_code, channel, response_date, \
                 stratum, cluster, base_weight, cells, answers) \
                 SELECT id || '-copy{k}', {}, locality_code, channel, response_date, stratum, \
                 cluster, base_weight, cells, answers FROM responses WHERE campaign_id = {}",
                other.id, sipas.campaign.id
            ),
        ))
        .await
        .unwrap();
    }
    let locality = crate::responses::sipas_locality(&app).await;
    let id = uuid::Uuid::new_v4().to_string();
    let res =
        crate::responses::post_json(&app, &crate::responses::valid_body(&id, &locality)).await;
    assert_eq!(res.status(), 201);

    // The copies and the new response wait for a publication: the demo's publication 1 is
    // read, exactly its rows (every published row of the campaign, no other).
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let published: Vec<entity::response::Model> = entity::response::Entity::find()
        .filter(entity::response::Column::CampaignId.eq(sipas.campaign.id))
        .filter(entity::response::Column::Publication.is_not_null())
        .all(&db)
        .await
        .unwrap();
    assert!(!published.is_empty());
    let mut counted: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for r in &published {
        *counted.entry(r.locality_code.clone()).or_default() += 1;
    }
    let plan = results::plan(&sipas.definition);
    for keep_answers in [false, true] {
        let data = results::load_dataset(&db, &sipas, &plan, keep_answers, 1)
            .await
            .unwrap();
        assert_eq!(data.n, published.len(), "keep_answers={keep_answers}");
        let mut per: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for &l in &data.locality {
            *per.entry(data.localities.labels[l as usize].clone())
                .or_default() += 1;
        }
        assert_eq!(per, counted, "keep_answers={keep_answers}");
    }
    crate::helpers::response_counts_agree(&db).await;
}

/// The group totals kept with a publication: stored by each publication, the next one adding
/// only its own responses to the previous totals, equal to a recount either way, and rebuilt
/// from the responses for another plan.
#[tokio::test]
async fn each_publication_adds_its_own_responses_to_the_kept_totals() {
    use hailong::services::results::totals::{self, Source};
    use hailong::services::{campaigns, publication, results};
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let sipas = campaigns::by_slug(&db, "sipas-demo").await.unwrap();
    let plan = results::plan(&sipas.definition);
    let first = publication::latest(&db, sipas.campaign.id)
        .await
        .unwrap()
        .unwrap()
        .number;
    let (kept_first, source) = totals::groups_of(&db, &sipas, &plan, first).await.unwrap();
    assert_eq!(
        source,
        Source::Stored,
        "the demo's publication kept its totals"
    );
    // Half of the campaign's rows again, as new responses waiting for a publication.
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "INSERT INTO responses (id, campaign_id, locality_code, channel, response_date, \
             stratum, cluster, base_weight, cells, answers) \
             SELECT id || '-again', campaign_id, locality_code, channel, response_date, stratum, \
             cluster, base_weight * 1.5, cells, answers FROM responses \
             WHERE campaign_id = {} AND id < '8'",
            sipas.campaign.id
        ),
    ))
    .await
    .unwrap();
    let outcome = publication::publish_synthetic(&db, &sipas, chrono::Utc::now())
        .await
        .unwrap();
    let second = outcome.number.unwrap();
    assert_eq!(second, first + 1);
    let recount = results::load_groups(&db, &sipas, &plan, (1, second))
        .await
        .unwrap();
    let (kept, source) = totals::groups_of(&db, &sipas, &plan, second).await.unwrap();
    assert_eq!(source, Source::Stored);
    assert_eq!(kept.responses(), recount.responses());
    assert!(kept.responses() > kept_first.responses());
    let same = crate::crash::same_totals;
    same(&kept, &recount);
    // Only the latest publication's totals are kept; with the first one's put back, the
    // second's are the first's plus the second's own responses.
    db.execute_unprepared("DELETE FROM publication_totals")
        .await
        .unwrap();
    totals::store(&db, &sipas, &plan, first, &kept_first)
        .await
        .unwrap();
    let (added, source) = totals::groups_of(&db, &sipas, &plan, second).await.unwrap();
    assert_eq!(source, Source::Added);
    same(&added, &recount);
    // Another plan (other calibration variables) cannot use them.
    let mut other = sipas.clone();
    other.design.calibration = vec!["sex".to_owned()];
    let (_, source) = totals::groups_of(&db, &other, &plan, first).await.unwrap();
    assert_eq!(source, Source::Read);
    // Totals that do not agree with the publication's count are not used.
    db.execute_unprepared("UPDATE publication_totals SET responses = responses + 1")
        .await
        .unwrap();
    let (_, source) = totals::groups_of(&db, &sipas, &plan, first).await.unwrap();
    assert_eq!(source, Source::Read);
}
