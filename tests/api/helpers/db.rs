//! Looking into and acting on the test database directly: counting rows,
//! publishing results, checking the kept response counts.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::TestApp;

/// Publishes a campaign's results now, as `hailong results publish` does (the k rule
/// decides what is included); returns the publication's number, `None` if nothing was made.
pub async fn publish(app: &TestApp, slug: &str) -> Option<i64> {
    let db = app.db.connect().await;
    let campaign = hailong::services::campaigns::by_slug(&db, slug)
        .await
        .expect("campaign");
    let outcome = hailong::services::publication::publish(
        &db,
        &campaign,
        hailong::domain::publication::Trigger::Cli,
        hailong::domain::publication::MIN_N_FLOOR,
        Utc::now(),
    )
    .await
    .expect("publish");
    db.close().await.ok();
    outcome.number
}

/// Publishes every waiting row of a campaign at once, as the demo does with its synthetic
/// rows (for a wave the tests make up; collected responses follow the k rule).
pub async fn publish_synthetic(db: &DatabaseConnection, slug: &str) -> i64 {
    let campaign = hailong::services::campaigns::by_slug(db, slug)
        .await
        .expect("campaign");
    hailong::services::publication::publish_synthetic(db, &campaign, Utc::now())
        .await
        .expect("publish")
        .number
        .expect("a publication")
}

/// Counts rows of a table.
pub async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

/// The per-locality counts the database's trigger keeps (`response_counts`)
/// equal a grouped count of `responses` itself.
pub async fn response_counts_agree(db: &DatabaseConnection) {
    use sea_orm::{EntityTrait, QueryOrder};
    let counted: Vec<(i64, String, i64)> = entity::response_count::Entity::find()
        .order_by_asc(entity::response_count::Column::CampaignId)
        .order_by_asc(entity::response_count::Column::LocalityCode)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.campaign_id, c.locality_code, c.n))
        .collect();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT campaign_id, locality_code, count(*) AS n FROM responses \
             GROUP BY campaign_id, locality_code ORDER BY campaign_id, locality_code",
        ))
        .await
        .unwrap();
    let grouped: Vec<(i64, String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get::<i64>("", "campaign_id").unwrap(),
                r.try_get::<String>("", "locality_code").unwrap(),
                r.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect();
    assert!(!grouped.is_empty(), "no responses to compare");
    assert_eq!(counted, grouped, "response_counts disagrees with responses");
}
