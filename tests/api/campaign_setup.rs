//! Campaign set-up by staff, end to end: the new campaign is listed, takes
//! answers with its design fields, and refuses bad input as a whole.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{count, spawn_app_with_demo};

#[tokio::test]
async fn a_designer_sets_up_a_campaign_that_takes_answers_with_its_design() {
    let app = spawn_app_with_demo().await;
    app.add_user("designer@example.vn", "designer").await;
    app.add_user("analyst@example.vn", "analyst").await;
    let db = app.db.connect().await;
    let sipas = hailong::services::questionnaires::find(&db, "sipas-2640")
        .await
        .unwrap();
    let version = sipas.latest_published().unwrap().id.to_string();
    let today = Utc::now().date_naive();
    let (opens, closes) = (today.to_string(), (today + Duration::days(30)).to_string());
    let d = app.login("designer@example.vn").await;
    let csrf = app.page_csrf(&d, "/staff/campaigns").await;
    let campaigns_before = count(&db, "campaigns").await;

    // Every problem at once; nothing saved.
    let res = d
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("slug", "bad slug"),
            ("name_vi", ""),
            ("questionnaire_version", "999999"),
            ("service", "one_stop"),
            ("opens_on", closes.as_str()),
            ("closes_on", opens.as_str()),
            ("layout", "per_section"),
            ("localities", "00004\n99999"),
            ("calibration", "religion"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for msg in [
        "Mã không hợp lệ",
        "Thiếu nội dung tiếng Việt.",
        "Hãy chọn một phiên bản bảng hỏi đã công bố.",
        "Ngày đóng phải sau hoặc bằng ngày mở.",
        "Không có địa bàn mã 99999 vào ngày mở.",
        "Chưa có số liệu dân số cho biến religion.",
    ] {
        assert!(
            html.contains(msg),
            "{msg} in {}",
            &html[html.find("field-errors").unwrap_or(0)..]
                [..1500.min(html.len() - html.find("field-errors").unwrap_or(0))]
        );
    }
    // Each problem is named by the field's label, never its code.
    assert!(
        html.contains("Mã khảo sát: Mã không hợp lệ"),
        "the slug's label"
    );
    assert!(html.contains("Tên (tiếng Việt): Thiếu nội dung tiếng Việt."));
    assert!(!html.contains("name_vi:") && !html.contains("questionnaire_version:"));
    // A bad locality line is named by its number.
    let res = d
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("slug", "lines"),
            ("name_vi", "Dòng"),
            ("localities", "00004\n00103,01-U,,-5,40"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Địa bàn, dòng 2: "),
        "{}",
        &html[html.find("field-errors").unwrap_or(0)..]
            [..600.min(html.len() - html.find("field-errors").unwrap_or(0))]
    );
    assert_eq!(count(&db, "campaigns").await, campaigns_before);

    // An analyst may look but not set up.
    let a = app.login("analyst@example.vn").await;
    assert_eq!(
        a.get(app.url("/staff/campaigns"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let acsrf = app.page_csrf(&a, "/staff/campaigns").await;
    let res = a
        .post(app.url("/staff/campaigns"))
        .form(&[("csrf_token", acsrf.as_str()), ("slug", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A good set-up.
    let res = d
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("slug", "sipas-hanoi-2027"),
            ("name_vi", "SIPAS Hà Nội 2027"),
            ("name_en", "SIPAS Hanoi 2027"),
            ("questionnaire_version", version.as_str()),
            ("service", "one_stop"),
            ("opens_on", opens.as_str()),
            ("closes_on", closes.as_str()),
            ("layout", "one_page"),
            (
                "localities",
                "00004,01-U,C1,812.5,40\n00103,01-U,C2,640,40\n00385,01-R,,1500,30",
            ),
            ("calibration", "sex, age_group"),
            ("lonely_psu", "average"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/staff/campaigns/sipas-hanoi-2027"
    );
    let edit = app
        .page(&d, "/staff/campaigns/sipas-hanoi-2027/settings")
        .await;
    assert!(edit.contains("00004,01-U,C1,812.5,40"));
    // Public results and the small-numbers rule are the analyst's to set.
    let res = a
        .post(app.url("/staff/campaigns/sipas-hanoi-2027/results-settings"))
        .form(&[
            ("csrf_token", acsrf.as_str()),
            ("is_public", "1"),
            ("min_n", "20"),
            ("min_df", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stored = hailong::services::campaigns::by_slug(&db, "sipas-hanoi-2027")
        .await
        .unwrap();
    assert!(stored.campaign.is_public);
    assert_eq!((stored.design.min_n, stored.design.min_df), (20, 1));

    let list: Vec<Value> = app.get("/api/v1/campaigns").await.json().await.unwrap();
    let new = list
        .iter()
        .find(|c| c["slug"] == "sipas-hanoi-2027")
        .expect("listed");
    let codes: Vec<&str> = new["localities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["00004", "00103", "00385"]);
    assert_eq!(new["layout"], "one_page");

    // A response takes the locality's design fields.
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({"submission_id": id, "locality": "00004", "answers": {"sex": "F", "age_group": "18-34", "e1_1": 5}});
    let res = app
        .client
        .post(app.url("/api/v1/campaigns/sipas-hanoi-2027/responses"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let stored = entity::response::Entity::find_by_id(id.clone())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.stratum.as_deref(), Some("01-U"));
    assert_eq!(stored.cluster.as_deref(), Some("C1"));
    assert!((stored.base_weight - 812.5).abs() < 1e-12);
    let other_version = hailong::services::questionnaires::find(&db, "health-hospital")
        .await
        .unwrap();
    let other = other_version.latest_published().unwrap().id.to_string();

    // With responses, the questionnaire version can no longer change.
    let res = d
        .post(app.url("/staff/campaigns/sipas-hanoi-2027"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name_vi", "SIPAS Hà Nội 2027"),
            ("questionnaire_version", other.as_str()),
            ("service", "one_stop"),
            ("opens_on", opens.as_str()),
            ("closes_on", closes.as_str()),
            ("layout", "one_page"),
            ("localities", "00004,01-U,C1,812.5,40"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("không thể đổi phiên bản")
    );
    let actions: Vec<String> = entity::audit_log::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(actions.iter().any(|a| a == "campaign.create"));
}

#[tokio::test]
async fn localities_are_picked_by_province_or_by_name_and_the_national_list_loads_by_a_button() {
    let app = spawn_app_with_demo().await;
    app.add_user("admin@example.vn", "admin").await;
    app.add_user("designer@example.vn", "designer").await;
    let db = app.db.connect().await;
    let a = app.login("admin@example.vn").await;
    let page = app.page(&a, "/staff/campaigns").await;
    let csrf = crate::helpers::csrf_of(&page);
    let campaigns_before = count(&db, "campaigns").await;
    // The picker's list names communes with and without accents, and their province.
    let listed = crate::helpers::attrs(&page, "#p-communes option", "value");
    assert!(
        listed
            .iter()
            .any(|o| o == "00004 · Ba Đình · Ba Dinh · Hà Nội"),
        "{listed:?}"
    );
    // Every commune of Đà Nẵng (48), then Ba Đình picked by its list entry: added to the
    // lines as typed so far, nothing saved.
    let res = a
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("slug", "picked"),
            ("name_vi", "Đã chọn"),
            ("localities", "00103,01-U,,980,40"),
            ("add_province", "48"),
            ("add_commune", "00004 · Ba Đình · Ba Dinh · Hà Nội"),
            ("act", "add"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let lines = crate::helpers::text(&html, "textarea[name=localities]");
    let codes: Vec<&str> = lines
        .lines()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        codes[0], "00103",
        "what was typed stays first, with its design fields"
    );
    assert!(lines.starts_with("00103,01-U,,980,40\n"), "{lines}");
    assert!(codes.contains(&"00004"));
    let da_nang: Vec<String> = entity::locality::Entity::find()
        .filter(entity::locality::Column::ParentCode.eq("48"))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert!(!da_nang.is_empty());
    assert!(da_nang.iter().all(|c| codes.contains(&c.as_str())));
    assert_eq!(codes.len(), da_nang.len() + 2);
    assert!(html.contains("(chưa lưu)") || html.contains("not saved yet"));
    assert_eq!(
        crate::helpers::attr(&html, "input[name=slug]", "value"),
        "picked"
    );
    assert_eq!(
        count(&db, "campaigns").await,
        campaigns_before,
        "nothing saved"
    );
    // A code the list does not have is refused by name.
    let res = a
        .post(app.url("/staff/campaigns"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("add_commune", "99999"),
            ("act", "add"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("99999"));
    // The bulk lines' template.
    let res = a
        .get(app.url("/staff/campaigns/localities-template.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("code,stratum,cluster,base_weight,target_n")
    );
    // Only the demo's units: administrators are offered the national list; designers not.
    assert!(page.contains("action=\"/staff/localities/national\""));
    let d = app.login("designer@example.vn").await;
    let dpage = app.page(&d, "/staff/campaigns").await;
    assert!(!dpage.contains("/staff/localities/national"));
    let dcsrf = crate::helpers::csrf_of(&dpage);
    let res = d
        .post(app.url("/staff/localities/national"))
        .form(&[("csrf_token", dcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = a
        .post(app.url("/staff/localities/national"))
        .form(&[("csrf_token", csrf.as_str()), ("back", "/staff/campaigns")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/staff/campaigns");
    let communes = entity::locality::Entity::find()
        .filter(entity::locality::Column::Level.eq("commune"))
        .filter(entity::locality::Column::ValidTo.is_null())
        .count(&db)
        .await
        .unwrap();
    assert_eq!(communes, 3321);
    let after = app.page(&a, "/staff/campaigns").await;
    assert!(
        !after.contains("/staff/localities/national"),
        "offered no more"
    );
}
