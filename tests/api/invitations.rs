//! Email invitations against a real SMTP listener on loopback (a sink
//! started by the test, speaking SMTP over TCP), not the in-memory outbox.

use chrono::{Duration, Utc};
use entity::{campaign, invitation, response};
use hailong::config::Settings;
use hailong::mail::Mailer;
use hailong::services::{campaigns, invitations};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::browser_fields;
use crate::helpers::spawn_with;
use crate::helpers::{count, start_sink};
use crate::survey::post_form;

use crate::invitation_privacy::{key_of, link_in};

#[tokio::test]
async fn invitations_are_single_use_and_the_reminder_goes_to_everyone() {
    let (port, inbox) = start_sink();
    let app = spawn_with(|_| {}).await;
    let settings = Settings {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(port),
        smtp_security: "none".into(),
        mail_from: "Khảo sát <khaosat@example.vn>".into(),
        ..Settings::default()
    };
    let mailer = Mailer::from_settings(&settings).unwrap();
    let db = app.db.connect().await;
    let key = key_of(&app);
    let health = campaigns::by_slug(&db, "health-demo").await.unwrap();
    let today = Utc::now().date_naive();
    let base = |t: &str| format!("{}/i/{t}", app.address);

    let up = invitations::upload(
        &db,
        &key,
        health.campaign.id,
        "a@example.vn\nB@Example.vn, not-an-address\na@example.vn",
        today,
    )
    .await
    .unwrap();
    assert_eq!((up.added, up.already_listed), (2, 1));
    assert_eq!(up.invalid, vec!["not-an-address".to_owned()]);
    assert_eq!(count(&db, "invitations").await, 2);

    let sent = invitations::send_pending(&db, &key, &mailer, &health, &base)
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.failed), (2, 0));
    let messages = inbox.messages().await;
    assert_eq!(messages.len(), 2);
    let for_a = messages.iter().find(|m| m.to == ["a@example.vn"]).unwrap();
    assert!(for_a.data.contains("Subject:"));
    let link = link_in(&for_a.data);
    let token = link.trim_start_matches("/i/").to_owned();
    let stored: Vec<invitation::Model> = invitation::Entity::find().all(&db).await.unwrap();
    assert!(stored.iter().all(|i| {
        i.sent && i.lookup_hash.as_deref() != Some(token.as_str()) && i.nonce != token
    }));
    // Sending again sends nothing new.
    let again = invitations::send_pending(&db, &key, &mailer, &health, &base)
        .await
        .unwrap();
    assert_eq!(again.sent, 0);

    // a@ answers through the link.
    let before = count(&db, "responses").await;
    let html = app.get(&link).await.text().await.unwrap();
    assert!(html.contains("id=\"locality\""));
    let locality = health.localities[0].code.clone();
    let mut fields = browser_fields(&html);
    fields.push(("l".into(), locality.clone()));
    fields.push(("nav".into(), "next".into()));
    let html = post_form(&app, &link, &fields).await.text().await.unwrap();
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
    let res = post_form(&app, &link, &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(&db, "responses").await, before + 1);
    assert_eq!(count(&db, "spent_invitations").await, 1, "a keyed tag only");
    assert_eq!(
        invitation::Entity::find().all(&db).await.unwrap(),
        stored,
        "the invitation rows do not change when a link is used"
    );
    let row = response::Entity::find()
        .filter(response::Column::Channel.eq("email"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let dump = format!("{row:?}");
    assert!(!dump.contains(&token) && !dump.contains("a@example.vn"));

    // The link works once.
    let res = app.get(&link).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("đã được sử dụng"));
    let res = post_form(&app, &link, &fields).await;
    assert_eq!(
        res.status(),
        409,
        "a replayed form cannot use the link again"
    );
    assert_eq!(count(&db, "responses").await, before + 1);
    assert_eq!(
        app.get(&format!("/i/{}", "f".repeat(64))).await.status(),
        404
    );

    // The reminder goes to everyone (the server does not know who answered),
    // with the same link.
    let reminded = invitations::remind(&db, &key, &mailer, &health, &base)
        .await
        .unwrap();
    assert_eq!(reminded.sent, 2);
    let messages = inbox.messages().await;
    assert_eq!(messages.len(), 4);
    let to_b = messages[2..]
        .iter()
        .find(|m| m.to == ["b@example.vn"])
        .unwrap();
    let reminder_link = link_in(&to_b.data);
    assert_eq!(app.get(&reminder_link).await.status(), 200);
    let to_a = messages[2..]
        .iter()
        .find(|m| m.to == ["a@example.vn"])
        .unwrap();
    assert_eq!(link_in(&to_a.data), link);
    assert_eq!(app.get(&link).await.status(), 409, "still used");
    let again = invitations::remind(&db, &key, &mailer, &health, &base)
        .await
        .unwrap();
    assert_eq!(again.sent, 0, "one reminder each");

    // Deleted on demand.
    assert_eq!(
        invitations::delete_for_campaign(&db, health.campaign.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(count(&db, "invitations").await, 0);
    assert_eq!(app.get(&reminder_link).await.status(), 404);
}

#[tokio::test]
async fn address_lists_of_closed_campaigns_are_deleted() {
    let app = spawn_with(|_| {}).await;
    let db = app.db.connect().await;
    let key = key_of(&app);
    let today = Utc::now().date_naive();
    let sipas = campaigns::by_slug(&db, "sipas-demo").await.unwrap();
    let health = campaigns::by_slug(&db, "health-demo").await.unwrap();
    invitations::upload(&db, &key, sipas.campaign.id, "x@example.vn", today)
        .await
        .unwrap();
    invitations::upload(&db, &key, health.campaign.id, "y@example.vn", today)
        .await
        .unwrap();
    let mut closed: campaign::ActiveModel = sipas.campaign.clone().into();
    closed.closes_on = Set(today - Duration::days(1));
    closed.update(&db).await.unwrap();
    assert_eq!(invitations::purge_closed(&db, today).await.unwrap(), 1);
    let left: Vec<Value> = invitation::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| Value::String(i.email))
        .collect();
    assert_eq!(left, vec![Value::String("y@example.vn".into())]);
}
