//! Accounts restricted to some localities: every results page, the comparison, the targets and
//! the downloads show them their localities only (and the national row not at all) when the
//! campaign is not public.

use entity::campaign;
use reqwest::Client;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_demo};

/// The demo with `sipas-demo` made private, an analyst restricted to province 48 (Đà Nẵng)
/// and an unrestricted one, both signed in.
async fn setup() -> (TestApp, Client, Client) {
    let app = spawn_app_with_demo().await;
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut active: campaign::ActiveModel = c.into();
    active.is_public = Set(false);
    active.update(&db).await.unwrap();
    for (email, localities) in [
        ("prov@example.vn", Some(vec!["48".to_owned()])),
        ("all@example.vn", None),
    ] {
        app.add_user_in(email, "analyst", localities).await;
    }
    let restricted = app.login("prov@example.vn").await;
    let full = app.login("all@example.vn").await;
    (app, restricted, full)
}

async fn json(app: &TestApp, c: &Client, path: &str) -> Vec<Value> {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

async fn text(app: &TestApp, c: &Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn localities(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["locality"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_province_account_reads_its_province_and_communes_through_the_api_only() {
    let (app, restricted, full) = setup().await;
    let api = "/api/v1/campaigns/sipas-demo/results";
    // National: nothing for the province account, one row for the unrestricted one.
    assert!(
        json(&app, &restricted, &format!("{api}?level=national"))
            .await
            .is_empty()
    );
    assert_eq!(
        json(&app, &full, &format!("{api}?level=national"))
            .await
            .len(),
        1
    );
    // Provinces: only 48, with the same numbers the unrestricted account gets.
    let mine = json(&app, &restricted, &format!("{api}?level=province")).await;
    let all = json(&app, &full, &format!("{api}?level=province")).await;
    assert_eq!(localities(&mine), vec!["48"]);
    assert!(all.len() >= 4);
    let same = all.iter().find(|r| r["locality"] == "48").unwrap();
    assert_eq!(&mine[0], same);
    // Communes: exactly those of province 48 (5-digit codes under it in the full list).
    let mine = json(&app, &restricted, &format!("{api}?level=commune")).await;
    let all = json(&app, &full, &format!("{api}?level=commune")).await;
    assert!(!mine.is_empty());
    assert!(mine.len() < all.len());
    let full_list = localities(&all);
    for code in localities(&mine) {
        assert!(full_list.contains(&code));
    }
    // Every commune of the full list that is not shown belongs to another province: the
    // commune page of a shown one works, of another is a 404 for the restricted account.
    let hidden: Vec<String> = full_list
        .iter()
        .filter(|c| !localities(&mine).contains(c))
        .cloned()
        .collect();
    let shown = localities(&mine)[0].clone();
    let (status, _) = text(
        &app,
        &restricted,
        &format!("/results/sipas-demo/locality/{shown}"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = text(
        &app,
        &restricted,
        &format!("/results/sipas-demo/locality/{}", hidden[0]),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = text(&app, &restricted, "/results/sipas-demo/locality/01").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn results_pages_show_a_province_account_its_localities_only() {
    let (app, restricted, full) = setup().await;
    for path in [
        "/results/sipas-demo?lang=en",
        "/results/sipas-demo/localities?level=province&lang=en",
        "/results/sipas-demo/forest?level=province&lang=en",
        "/results/sipas-demo/ranks?level=province&lang=en",
    ] {
        let (status, mine) = text(&app, &restricted, path).await;
        assert_eq!(status, 200, "{path}");
        let (status, all) = text(&app, &full, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(mine.contains("Da Nang"), "{path}");
        for other in ["Hanoi", "Hue", "Can Tho"] {
            assert!(all.contains(other), "{path}: unrestricted sees {other}");
            assert!(!mine.contains(other), "{path}: restricted sees {other}");
        }
    }
    // The overview's national figure is not shown to the province account.
    let (_, mine) = text(&app, &restricted, "/results/sipas-demo?lang=en").await;
    let (_, all) = text(&app, &full, "/results/sipas-demo?lang=en").await;
    assert!(all.contains("Viet Nam") || all.contains("National") || all.contains("national"));
    assert!(!mine.contains("href=\"/results/sipas-demo/locality/VN"));
}

#[tokio::test]
async fn comparison_targets_and_downloads_are_restricted_too() {
    let (app, restricted, full) = setup().await;
    let db = app.db.connect().await;
    let c = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq("sipas-demo"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let results = hailong::services::publication::published(
        &db,
        &hailong::services::campaigns::by_slug(&db, "sipas-demo")
            .await
            .unwrap(),
    )
    .await
    .unwrap()
    .results;
    for locality in ["48", "01"] {
        hailong::services::targets::create(
            &db,
            c.id,
            &results,
            &hailong::services::targets::TargetForm {
                locality: locality.to_owned(),
                index: "SIPAS".to_owned(),
                kind: "at_least".to_owned(),
                value: "50".to_owned(),
                baseline: None,
            },
        )
        .await
        .unwrap();
    }

    // Targets: the province account sees the one of 48.
    let mine = json(&app, &restricted, "/api/v1/campaigns/sipas-demo/targets").await;
    let all = json(&app, &full, "/api/v1/campaigns/sipas-demo/targets").await;
    assert_eq!(all.len(), 2);
    assert_eq!(localities(&mine), vec!["48"]);
    let (status, page) = text(
        &app,
        &restricted,
        "/staff/campaigns/sipas-demo/targets?lang=en",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Da Nang"));
    assert!(!page.contains("Hanoi"));

    // Comparison (API and page) of the campaign with itself: only 48's rows.
    let mine = json(
        &app,
        &restricted,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-demo&level=province",
    )
    .await;
    let all = json(
        &app,
        &full,
        "/api/v1/campaigns/sipas-demo/compare?with=sipas-demo&level=province",
    )
    .await;
    assert!(all.len() >= 4);
    assert_eq!(localities(&mine), vec!["48"]);
    let (status, page) = text(
        &app,
        &restricted,
        "/results/sipas-demo/compare?with=sipas-demo&lang=en",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Da Nang") && !page.contains("Hanoi"));

    // Downloads: the CSV has only 48 and its communes; the XLSX is smaller than the full one.
    let (status, csv) = text(&app, &restricted, "/results/sipas-demo/results.csv").await;
    assert_eq!(status, 200);
    let (_, csv_all) = text(&app, &full, "/results/sipas-demo/results.csv").await;
    let codes = |csv: &str| -> Vec<String> {
        csv.trim_start_matches('\u{feff}')
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(1).map(str::to_owned))
            .collect()
    };
    let mine = codes(&csv);
    assert!(mine.contains(&"48".to_owned()));
    assert!(!mine.contains(&"VN".to_owned()) && !mine.contains(&"01".to_owned()));
    assert!(codes(&csv_all).contains(&"01".to_owned()));
    let communes = json(
        &app,
        &restricted,
        "/api/v1/campaigns/sipas-demo/results?level=commune",
    )
    .await;
    for code in &mine {
        assert!(
            code == "48" || localities(&communes).contains(code),
            "{code}"
        );
    }
    let x_mine = restricted
        .get(app.url("/results/sipas-demo/results.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(x_mine.status(), 200);
    let x_all = full
        .get(app.url("/results/sipas-demo/results.xlsx"))
        .send()
        .await
        .unwrap();
    assert!(x_mine.bytes().await.unwrap().len() < x_all.bytes().await.unwrap().len());
}

#[tokio::test]
async fn a_public_campaign_shows_restricted_accounts_everything() {
    let app = spawn_app_with_demo().await;
    app.add_user_in("prov@example.vn", "analyst", Some(vec!["48".to_owned()]))
        .await;
    let c = app.login("prov@example.vn").await;
    let rows = json(
        &app,
        &c,
        "/api/v1/campaigns/health-demo/results?level=province",
    )
    .await;
    assert!(rows.len() >= 2);
    assert_eq!(
        json(
            &app,
            &c,
            "/api/v1/campaigns/health-demo/results?level=national"
        )
        .await
        .len(),
        1
    );
}
