//! Reports by email: asked for on the results page, answered at once, built and sent in the
//! background to a real SMTP listener; the outcome is recorded and shown.

use std::time::Duration;

use entity::{audit_log, report_request};
use hailong::services::audit::Actor;
use hailong::services::staff::{self, NewUser};
use reqwest::{Client, StatusCode};
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::helpers::{
    Inbox, TestApp, attachment, csrf_of, smtp_on, spawn_with, spawn_with_outbox, start_sink,
};

const ANALYST: &str = "analyst@example.vn";

/// A real SMTP server on `port` (these tests are about SMTP failing or coming back).
fn with_smtp(port: u16) -> impl FnOnce(&mut hailong::config::Settings) {
    move |s| {
        smtp_on(s, port);
        s.base_url = Some("https://hailong.example.vn".into());
    }
}

async fn app_with_smtp(port: u16) -> TestApp {
    spawn_with(with_smtp(port)).await
}

/// Asks for a report through the form on the results page; returns the 303's location.
async fn ask(app: &TestApp, c: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = app.page(c, "/results/sipas-demo?lang=en").await;
    assert!(
        page.contains("action=\"/staff/campaigns/sipas-demo/reports\""),
        "the results page offers the report form"
    );
    let token = csrf_of(&page);
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
    form.extend_from_slice(fields);
    c.post(app.url("/staff/campaigns/sipas-demo/reports?lang=en"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// An app whose mail goes to an in-memory outbox.
async fn app_with_outbox() -> (TestApp, Inbox) {
    spawn_with_outbox(|s| {
        s.mail_from = "Hailong <no-reply@example.vn>".into();
        s.base_url = Some("https://hailong.example.vn".into());
    })
    .await
}

async fn wait_for_status(app: &TestApp, id: i64) -> report_request::Model {
    let db = app.db.connect().await;
    for _ in 0..200 {
        let r = report_request::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        if r.status != "queued" && r.status != "sending" {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("request {id} still queued after 10 s");
}

/// A report left queued by a process that stopped, and one it was sending when it stopped,
/// are sent by the next process that starts on the database; a recent `sending` one (some
/// live process has it) is left alone.
#[tokio::test]
async fn reports_left_queued_by_a_stopped_process_are_sent_at_the_next_start() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};

    let (port, inbox) = start_sink();
    let mut ids = Vec::new();
    let app = crate::helpers::spawn_prepared(with_smtp(port), async |conn| {
        let user = staff::create(
            conn,
            &Actor::cli(),
            NewUser {
                email: ANALYST,
                role: "analyst",
                password: crate::helpers::PASSWORD,
                localities: None,
            },
        )
        .await
        .unwrap();
        let campaign = entity::campaign::Entity::find()
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.slug == "sipas-demo")
            .unwrap();
        // Queued 2 min ago; sending for an hour (abandoned); sending for a minute.
        for (status, minutes_ago) in [("queued", 2), ("sending", 60), ("sending", 1)] {
            let row = report_request::ActiveModel {
                campaign_id: Set(campaign.id),
                staff_user_id: Set(user.id),
                format: Set("csv".into()),
                level: Set(Some("province".into())),
                index_code: Set(Some("SIPAS".into())),
                with_microdata: Set(false),
                lang: Set("vi".into()),
                status: Set(status.into()),
                error: Set(None),
                requested_at: Set(chrono::Utc::now() - chrono::TimeDelta::minutes(minutes_ago)),
                finished_at: Set(None),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
            ids.push(row.id);
        }
    })
    .await;
    let (queued, abandoned, in_hand) = (ids[0], ids[1], ids[2]);
    let conn = app.db.connect().await;

    for _ in 0..200 {
        if inbox.messages().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = inbox.messages().await;
    assert_eq!(mails.len(), 2, "exactly the two left behind are sent");
    assert!(mails.iter().all(|m| m.to == vec![ANALYST.to_owned()]));
    for id in [queued, abandoned] {
        let r = wait_for_status(&app, id).await;
        assert_eq!(r.status, "sent", "{id}: {:?}", r.error);
        assert!(r.finished_at.is_some());
    }
    let left = report_request::Entity::find_by_id(in_hand)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.status, "sending");
}

fn id_of(location: &str) -> i64 {
    location.rsplit('=').next().unwrap().parse().unwrap()
}

/// Reads a zip archive back with the `zip` crate, checking each entry is deflated.
fn unzip(z: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).expect("a zip archive");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().into_owned(), data)
        })
        .collect()
}

#[tokio::test]
async fn a_requested_report_arrives_by_email_with_the_api_numbers_and_the_microdata() {
    let (app, inbox) = app_with_outbox().await;
    app.add_user(ANALYST, "analyst").await;
    let c = app.login(ANALYST).await;

    let res = ask(
        &app,
        &c,
        &[
            ("format", "csv"),
            ("level", "province"),
            ("index", "SIPAS"),
            ("microdata", "1"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/staff/campaigns/sipas-demo/reports?queued="),
        "{location}"
    );
    // The page says it is queued (or already sent: the background task may be quick).
    let page = app.page(&c, &format!("{location}&lang=en")).await;
    assert!(page.contains("Your request is queued"), "{page}");

    let mail = inbox.wait_for(1).await.remove(0);
    assert_eq!(mail.to, vec![ANALYST.to_owned()]);
    assert!(mail.data.contains("multipart/mixed"));
    assert!(
        mail.data
            .contains("https://hailong.example.vn/results/sipas-demo")
    );

    // The CSV equals the API's numbers, to the last digit.
    let csv = String::from_utf8(attachment(&mail.data, "sipas-demo-results.csv")).unwrap();
    let api: Vec<Value> = app
        .get("/api/v1/campaigns/sipas-demo/results?level=province&index=SIPAS")
        .await
        .json()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    // The request's language (English here): the headers of `?lang=en`.
    let col = |name: &str| {
        let name = match name {
            "locality" => "Locality code",
            "index" => "Index code",
            "estimate" => "Estimate (0–1 scale, exact)",
            "se" => "Standard error",
            "ci_low" => "95% CI lower (exact)",
            "ci_high" => "95% CI upper (exact)",
            "n" => "Respondents (n)",
            other => other,
        };
        header.iter().position(|h| h == name).unwrap()
    };
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), api.len());
    assert!(api.len() >= 4);
    for (rec, a) in records.iter().zip(&api) {
        assert_eq!(&rec[col("locality")], a["locality"].as_str().unwrap());
        assert_eq!(&rec[col("index")], "SIPAS");
        for k in ["estimate", "se", "ci_low", "ci_high"] {
            let x: f64 = rec[col(k)].parse().unwrap();
            assert_eq!(x, a[k].as_f64().unwrap(), "{k}");
        }
        assert_eq!(
            rec[col("n")].parse::<u64>().unwrap(),
            a["n"].as_u64().unwrap()
        );
    }

    // The microdata bundle is a zip holding the export's files.
    let zip = unzip(&attachment(&mail.data, "sipas-demo-microdata.zip"));
    let names: Vec<&str> = zip.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "microdata.csv",
        "codebook.csv",
        "design.R",
        "design.do",
        "notes.txt",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let micro = String::from_utf8(zip[0].1.clone()).unwrap();
    assert!(
        micro.starts_with("row,province,commune,stratum,psu"),
        "{}",
        &micro[..80]
    );
    assert!(micro.lines().count() > 1000);

    // Recorded as sent, listed on the page and in the audit log.
    let r = wait_for_status(&app, id_of(&location)).await;
    assert_eq!(r.status, "sent");
    assert!(r.error.is_none());
    let page = app
        .page(&c, "/staff/campaigns/sipas-demo/reports?lang=en")
        .await;
    assert!(
        page.contains("report-sent") && page.contains("Sent"),
        "{page}"
    );
    let db = app.db.connect().await;
    let actions: Vec<String> = audit_log::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(
        actions.contains(&"report.request".to_owned()),
        "{actions:?}"
    );
    assert!(actions.contains(&"report.sent".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn a_failing_smtp_server_marks_the_request_failed_and_the_page_says_why() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = app_with_smtp(port).await;
    app.add_user(ANALYST, "analyst").await;
    let c = app.login(ANALYST).await;
    let res = ask(
        &app,
        &c,
        &[("format", "xlsx"), ("level", ""), ("index", "")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let r = wait_for_status(&app, id_of(&location)).await;
    assert_eq!(r.status, "failed");
    let error = r.error.unwrap();
    assert!(!error.is_empty());
    let page = app
        .page(&c, "/staff/campaigns/sipas-demo/reports?lang=en")
        .await;
    assert!(
        page.contains("report-failed") && page.contains("Failed"),
        "{page}"
    );
    let shown = error.replace('"', "&quot;").replace('\'', "&#x27;");
    assert!(page.contains(&shown) || page.contains(&error), "{page}");
    let db = app.db.connect().await;
    assert!(
        audit_log::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .iter()
            .any(|a| a.action == "report.failed")
    );
}

#[tokio::test]
async fn bad_report_requests_are_refused_with_the_reason() {
    let (app, inbox) = app_with_outbox().await;
    let db = app.db.connect().await;
    app.add_user_in(ANALYST, "analyst", Some(vec!["48".to_owned()]))
        .await;
    let c = app.login(ANALYST).await;
    let res = ask(&app, &c, &[("format", "pdf")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Choose CSV or XLSX"));
    let res = ask(&app, &c, &[("format", "csv"), ("index", "NOPE")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::helpers::count(&db, "report_requests").await, 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(inbox.messages().await.is_empty());
    // A designer may not ask at all.
    app.add_user("designer@example.vn", "designer").await;
    let d = app.login("designer@example.vn").await;
    let page = d
        .get(app.url("/staff/campaigns/sipas-demo/reports"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}
