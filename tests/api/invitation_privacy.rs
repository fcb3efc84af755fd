//! Invitations an adversary cannot link to answers (issue 13): not from the
//! staff pages (no live used state), not from the database without the
//! server key (spent tags are keyed, invitation rows never change when a
//! link is used); one reminder round to everyone; deleted address lists
//! gone from the SQLite file and its log.

use std::collections::HashSet;

use chrono::Utc;
use entity::{invitation, response, spent_invitation};
use hailong::config::Settings;
use hailong::mail::Mailer;
use hailong::secret_key::SecretKey;
use hailong::services::campaigns::{self, OpenCampaign};
use hailong::services::invitations;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use sha2::{Digest, Sha256};

use crate::helpers::browser_fields;
use crate::helpers::{Received, TestApp, count, csrf_of, decoded, spawn_with, spawn_with_outbox};

/// The server key the app under test uses (same settings, same process).
pub fn key_of(app: &TestApp) -> SecretKey {
    hailong::secret_key::load(&Settings {
        database_url: app.db.url.clone(),
        ..Settings::default()
    })
    .unwrap()
}

const FROM: &str = "Khảo sát <khaosat@example.vn>";

/// The `/i/{token}` path in a quoted-printable message.
pub fn link_in(data: &str) -> String {
    let text = decoded(data);
    let at = text.find("/i/").expect("a link");
    text[at..at + 3 + 64].to_owned()
}

fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Answers the health survey through an invitation link; the final status.
pub async fn answer_via(app: &TestApp, link: &str, health: &OpenCampaign) -> u16 {
    let client = crate::helpers::client();
    let res = client.get(app.url(link)).send().await.unwrap();
    if res.status() != 200 {
        return res.status().as_u16();
    }
    let html = res.text().await.unwrap();
    let mut fields = browser_fields(&html);
    fields.push(("l".into(), health.localities[0].code.clone()));
    fields.push(("nav".into(), "next".into()));
    let res = client
        .post(app.url(link))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let html = crate::helpers::follow_step(&client, &app.address, res)
        .await
        .text()
        .await
        .unwrap();
    let mut fields = browser_fields(&html);
    let patient = crate::helpers::attr(&html, "input[name='a.patient_type']", "value");
    fields.extend(
        [
            ("a.patient_type", patient.as_str()),
            ("a.sex", "F"),
            ("a.age_group", "35-54"),
            ("a.a1", "5"),
            ("nav", "submit"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    client
        .post(app.url(link))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn invitation_rows(db: &DatabaseConnection) -> Vec<invitation::Model> {
    invitation::Entity::find()
        .order_by_asc(invitation::Column::Id)
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_database_reader_without_the_key_cannot_link_invitees_to_answers() {
    let app = spawn_with(|_| {}).await;
    let (mailer, outbox) = Mailer::in_memory(FROM).unwrap();
    let key = key_of(&app);
    let db = app.db.connect().await;
    let health = campaigns::by_slug(&db, "health-demo").await.unwrap();
    let today = Utc::now().date_naive();
    let list = "a@example.vn\nb@example.vn\nc@example.vn\nd@example.vn";
    invitations::upload(&db, &key, health.campaign.id, list, today)
        .await
        .unwrap();
    let link = |t: &str| format!("{}/i/{t}", app.address);
    let sent = invitations::send_pending(&db, &key, &mailer, &health, &link)
        .await
        .unwrap();
    assert_eq!(sent.sent, 4);
    let messages: Vec<Received> = outbox.messages().await;
    let link_of = |who: &str| {
        link_in(
            &messages
                .iter()
                .find(|m| m.to == [who.to_owned()])
                .unwrap()
                .data,
        )
    };
    let before = invitation_rows(&db).await;
    let responses_before = count(&db, "responses").await;

    // Three of four answer.
    let answered = ["a@example.vn", "b@example.vn", "c@example.vn"];
    let tokens: Vec<String> = answered
        .iter()
        .map(|w| link_of(w).trim_start_matches("/i/").to_owned())
        .collect();
    for who in answered {
        assert_eq!(answer_via(&app, &link_of(who), &health).await, 303, "{who}");
    }
    assert_eq!(count(&db, "responses").await, responses_before + 3);

    // Nothing on an invitation row changed when its link was used.
    let after = invitation_rows(&db).await;
    assert_eq!(
        before, after,
        "invitation rows are byte-identical before and after use"
    );
    assert_eq!(format!("{before:?}"), format!("{after:?}"));

    // The spent tags: three, and none is a function of what the database holds.
    let spent: Vec<spent_invitation::Model> =
        spent_invitation::Entity::find().all(&db).await.unwrap();
    assert_eq!(spent.len(), 3);
    let mut derivable: HashSet<String> = HashSet::new();
    for inv in &after {
        let lookup = inv.lookup_hash.clone().unwrap_or_default();
        for v in [
            inv.nonce.clone(),
            lookup.clone(),
            inv.email.clone(),
            inv.id.to_string(),
        ] {
            derivable.insert(sha(&v));
            derivable.insert(sha(&format!("spent{v}")));
            derivable.insert(sha(&format!("spent|{v}")));
            derivable.insert(v);
        }
    }
    for s in &spent {
        assert!(!derivable.contains(&s.tag), "a spent tag is derivable");
        for inv in &after {
            assert!(!s.tag.contains(&inv.nonce) && !inv.nonce.contains(&s.tag));
        }
    }
    // With the key (kept outside the database) the tags do match: so the
    // check above could fail if the tag were a plain hash.
    let with_key: HashSet<String> = after
        .iter()
        .map(|i| invitations::spent_tag(&key, &invitations::token_for(&key, &i.nonce)))
        .collect();
    assert_eq!(
        spent.iter().filter(|s| with_key.contains(&s.tag)).count(),
        3
    );
    // No token is stored, and the responses hold nothing of the invitations.
    let rows = response::Entity::find().all(&db).await.unwrap();
    let dump = format!("{rows:?}{after:?}{spent:?}");
    for t in &tokens {
        assert!(!dump.contains(t.as_str()), "a token is stored");
    }
    let responses_dump = format!("{rows:?}");
    for inv in &after {
        assert!(!responses_dump.contains(&inv.nonce));
        assert!(!responses_dump.contains(&inv.email));
        assert!(!responses_dump.contains(inv.lookup_hash.as_deref().unwrap_or("-")));
    }
    for s in &spent {
        assert!(!responses_dump.contains(&s.tag));
    }

    // Single use: the link is refused once used.
    assert_eq!(
        answer_via(&app, &link_of("a@example.vn"), &health).await,
        409
    );
    assert_eq!(count(&db, "responses").await, responses_before + 3);

    // The one reminder round goes to everyone, answered or not, with the
    // same link and a thank-you for those who answered.
    let reminded = invitations::remind(&db, &key, &mailer, &health, &link)
        .await
        .unwrap();
    assert_eq!(reminded.sent, 4);
    let messages: Vec<Received> = outbox.messages().await;
    let reminders = &messages[4..];
    let to: HashSet<String> = reminders.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(to.len(), 4);
    for m in reminders {
        assert_eq!(link_in(&m.data), link_of(&m.to[0]), "the same link again");
        let text = decoded(&m.data);
        assert!(text.contains("thank you"), "{text}");
    }
    let again = invitations::remind(&db, &key, &mailer, &health, &link)
        .await
        .unwrap();
    assert_eq!(again.sent, 0, "one reminder round");
    // The unused link of d@ still works after the reminder.
    assert_eq!(
        answer_via(&app, &link_of("d@example.vn"), &health).await,
        303
    );
}

#[tokio::test]
async fn staff_pages_show_no_live_answered_state_and_links_come_from_base_url() {
    let (app, inbox) = spawn_with_outbox(|s| {
        s.mail_from = FROM.into();
        s.base_url = Some("https://khaosat.example.vn".into());
    })
    .await;
    app.add_user("manager@example.vn", "admin").await;
    let staff = app.login("manager@example.vn").await;
    let page_path = "/staff/campaigns/health-demo/invitations";
    let page = |c: reqwest::Client| {
        let url = app.url(page_path);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(staff.clone()).await;
    let csrf = csrf_of(&html);
    let post = |action: &'static str, extra: Vec<(&'static str, String)>| {
        let (c, url, csrf) = (
            staff.clone(),
            app.url(&format!("{page_path}/{action}")),
            csrf.clone(),
        );
        async move {
            let mut form = vec![("csrf_token", csrf)];
            form.extend(extra);
            c.post(url)
                .header("X-Forwarded-Host", "evil.example")
                .header("Forwarded", "host=evil.example")
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let res = post(
        "upload",
        vec![("addresses", "p@example.vn\nq@example.vn".to_owned())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post("send", vec![]).await;
    assert_eq!(res.status(), 200);
    let messages: Vec<Received> = inbox.messages().await;
    assert_eq!(messages.len(), 2);
    for m in &messages {
        let text = decoded(&m.data);
        assert!(text.contains("https://khaosat.example.vn/i/"), "{text}");
        assert!(!text.contains("evil.example"));
    }

    let before = page(staff.clone()).await;
    assert!(before.contains("invited-answered"));
    let db = app.db.connect().await;
    let health = campaigns::by_slug(&db, "health-demo").await.unwrap();
    let p_link = link_in(
        &messages
            .iter()
            .find(|m| m.to == ["p@example.vn"])
            .unwrap()
            .data,
    );
    assert_eq!(answer_via(&app, &p_link, &health).await, 303);
    let after = page(staff.clone()).await;
    assert_eq!(
        before, after,
        "the invitations page is the same before and after an invitee answers"
    );
    assert!(!after.contains("p@example.vn") && !after.contains("q@example.vn"));
}

#[tokio::test]
async fn invitations_are_refused_without_a_configured_base_url() {
    let (app, inbox) = spawn_with_outbox(|s| s.mail_from = FROM.into()).await;
    app.add_user("manager@example.vn", "admin").await;
    let staff = app.login("manager@example.vn").await;
    let page_path = "/staff/campaigns/health-demo/invitations";
    let html = app.page(&staff, page_path).await;
    assert!(html.contains("base_url"), "the page says why");
    let csrf = csrf_of(&html);
    let res = staff
        .post(app.url(&format!("{page_path}/upload")))
        .form(&[("csrf_token", csrf.as_str()), ("addresses", "p@example.vn")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = staff
        .post(app.url(&format!("{page_path}/send")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("base_url"));
    assert!(inbox.messages().await.is_empty());
}

/// Where a byte string occurs in a file, if it exists.
fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

#[tokio::test]
async fn a_deleted_address_list_is_gone_from_the_sqlite_file_and_its_log() {
    let app = spawn_with(|_| {}).await;
    if !app.db.url.starts_with("sqlite") {
        eprintln!("NOTE: SQLite file check skipped on PostgreSQL (see README: VACUUM)");
        return;
    }
    let key = key_of(&app);
    let db = app.db.connect().await;
    let health = campaigns::by_slug(&db, "health-demo").await.unwrap();
    let today = Utc::now().date_naive();
    let addresses: Vec<String> = (0..50)
        .map(|i| format!("zz-marker-{i:03}@secret-delete.example.vn"))
        .collect();
    invitations::upload(&db, &key, health.campaign.id, &addresses.join("\n"), today)
        .await
        .unwrap();
    let file = app.db.dir.path().join("hailong.db");
    let wal = app.db.dir.path().join("hailong.db-wal");
    let marker = b"@secret-delete.example.vn";
    assert!(
        file_contains(&file, marker) || file_contains(&wal, marker),
        "the addresses are on disk before the delete (else this test proves nothing)"
    );
    assert_eq!(
        invitations::delete_for_campaign(&db, health.campaign.id)
            .await
            .unwrap(),
        50
    );
    assert!(!file_contains(&file, marker), "in the database file");
    assert!(!file_contains(&wal, marker), "in the write-ahead log");
}

#[tokio::test]
async fn sending_without_an_smtp_server_is_refused_with_a_message_not_an_error_page() {
    let app = spawn_with(|s| s.base_url = Some("https://khaosat.example.vn".into())).await;
    app.add_user("manager@example.vn", "admin").await;
    let staff = app.login("manager@example.vn").await;
    let page_path = "/staff/campaigns/health-demo/invitations";
    let csrf = app.page_csrf(&staff, page_path).await;
    for action in ["send", "remind"] {
        let res = staff
            .post(app.url(&format!("{page_path}/{action}")))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 409, "{action}");
        assert!(res.text().await.unwrap().contains("smtp_host"), "{action}");
    }
}
