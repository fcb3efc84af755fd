//! `spawn_app()` and friends.

use std::path::PathBuf;

use chrono::Utc;
use hailong::config::Settings;
use hailong::startup::Application;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tempfile::TempDir;

/// A fresh, empty database for one test: a temporary SQLite file by default,
/// or a new PostgreSQL database named by a UUID when `DATABASE_URL` is set.
pub struct TestDb {
    pub url: String,
    /// Keeps the SQLite directory alive for the test's duration.
    pub dir: TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match std::env::var("DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => create_pg_database(&base).await,
            _ => format!("sqlite://{}/hailong.db", dir.path().display()),
        };
        TestDb { url, dir }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        hailong::db::connect(&self.url, 2).await.expect("connect")
    }
}

/// Creates `hailong_test_<uuid>` next to the database `base` names.
async fn create_pg_database(base: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((a, q)) => (a, format!("?{q}")),
        None => (base, String::new()),
    };
    let (server, _) = without_query
        .rsplit_once('/')
        .filter(|(s, _)| s.contains("://") && s.len() > s.find("://").unwrap() + 3)
        .expect("DATABASE_URL like postgres://user@host:port/db");
    let name = format!("hailong_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(base)
        .await
        .expect("connect to DATABASE_URL");
    admin
        .execute_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("CREATE DATABASE \"{name}\""),
        ))
        .await
        .expect("create test database");
    admin.close().await.ok();
    format!("{server}/{name}{query}")
}

/// A running server and a client that keeps cookies.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

/// Starts the app on a random port with a fresh, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn(false).await
}

/// Like [`spawn_app`], with the demo data seeded.
pub async fn spawn_app_with_demo() -> TestApp {
    spawn(true).await
}

async fn spawn(demo: bool) -> TestApp {
    let db = TestDb::new().await;
    let settings = Settings {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".to_owned(),
        max_connections: 4,
        // Tests publish explicitly (see `publish`); the schedule is tested on its own.
        publication_schedule: false,
        ..Settings::default()
    };
    let conn = hailong::db::connect(&settings.database_url, settings.max_connections)
        .await
        .expect("connect");
    hailong::db::migrate(&conn).await.expect("migrate");
    if demo {
        hailong::services::demo::seed(&conn, Utc::now().date_naive())
            .await
            .expect("seed demo");
    }
    let app = Application::build(settings, conn).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET path` with a bearer token, its JSON body.
    pub async fn get_json_as(&self, path: &str, token: &str) -> serde_json::Value {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON body")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

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

/// The `hailong` binary built for these tests.
pub fn hailong_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hailong"))
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

/// A bearer token for a new account with this role (password
/// `crate::staff::PASSWORD`).
pub async fn token_for(app: &TestApp, email: &str, role: &str) -> String {
    let db = app.db.connect().await;
    let user = hailong::services::staff::create(
        &db,
        &hailong::services::audit::Actor::cli(),
        hailong::services::staff::NewUser {
            email,
            role,
            password: crate::staff::PASSWORD,
            localities: None,
        },
    )
    .await
    .expect("create account");
    hailong::services::staff::create_token(
        &db,
        &hailong::services::audit::Actor::cli(),
        user.id,
        "test",
    )
    .await
    .expect("create token")
    .1
}
