//! The running app under test: [`TestApp`], [`spawn_app`] and its variants, a fresh
//! [`TestDb`], the binary.

use std::path::PathBuf;

use chrono::Utc;
use hailong::config::Settings;
use hailong::mail::Mailer;
use hailong::startup::Application;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tempfile::TempDir;

use super::Inbox;

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
    // Tests publish explicitly (see `publish`); the schedule is tested on its own.
    let start = Start {
        demo,
        cookies: true,
        outbox: false,
    };
    start
        .run(|s| s.publication_schedule = false, async |_| {})
        .await
        .0
}

/// The demo app with the settings changed by `tweak` (its client keeps no cookies).
pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_prepared(tweak, async |_| {}).await
}

/// Like [`spawn_with`], running `prepare` on the seeded database before the app starts
/// (what an earlier process left behind).
pub async fn spawn_prepared(
    tweak: impl FnOnce(&mut Settings),
    prepare: impl AsyncFnOnce(&DatabaseConnection),
) -> TestApp {
    Start::demo().run(tweak, prepare).await.0
}

/// Like [`spawn_with`], the app sending its mail to an in-memory outbox (from
/// `mail_from`), and that outbox.
pub async fn spawn_with_outbox(tweak: impl FnOnce(&mut Settings)) -> (TestApp, Inbox) {
    let start = Start {
        outbox: true,
        ..Start::demo()
    };
    let (app, inbox) = start.run(tweak, async |_| {}).await;
    (app, inbox.expect("an outbox"))
}

/// How a test app starts.
struct Start {
    /// Seed the demo data.
    demo: bool,
    /// The client keeps cookies.
    cookies: bool,
    /// Mail goes to an in-memory outbox instead of what the settings say.
    outbox: bool,
}

impl Start {
    fn demo() -> Start {
        Start {
            demo: true,
            cookies: false,
            outbox: false,
        }
    }

    async fn run(
        self,
        tweak: impl FnOnce(&mut Settings),
        prepare: impl AsyncFnOnce(&DatabaseConnection),
    ) -> (TestApp, Option<Inbox>) {
        let db = TestDb::new().await;
        let mut settings = Settings {
            database_url: db.url.clone(),
            bind: "127.0.0.1:0".to_owned(),
            max_connections: 4,
            ..Settings::default()
        };
        tweak(&mut settings);
        let conn = hailong::db::connect(&settings.database_url, settings.max_connections)
            .await
            .expect("connect");
        hailong::db::migrate(&conn).await.expect("migrate");
        if self.demo {
            hailong::services::demo::seed(&conn, Utc::now().date_naive())
                .await
                .expect("seed demo");
        }
        prepare(&conn).await;
        let (app, inbox) = if self.outbox {
            let (mailer, outbox) = Mailer::in_memory(&settings.mail_from).expect("mail_from");
            let app = Application::build_with_mailer(settings, conn, Some(mailer)).await;
            (app, Some(Inbox::Memory(outbox)))
        } else {
            (Application::build(settings, conn).await, None)
        };
        let app = app.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        // Idle connections are dropped before the server's keep-alive (5 s) closes them: a
        // test that waits (R, Python) never sends on a connection closed under it.
        let client = reqwest::Client::builder()
            .cookie_store(self.cookies)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        let app = TestApp {
            address,
            client,
            db,
        };
        (app, inbox)
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET path` with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with a bearer token, its JSON body.
    pub async fn get_json_as(&self, path: &str, token: &str) -> serde_json::Value {
        self.get_as(path, token)
            .await
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

/// Follows a survey step's redirect (`303` to `…?step=…`) with a GET from the same
/// client, as a browser does; any other answer is returned as it is (the redirect to the
/// thanks page included).
pub async fn follow_step(
    client: &reqwest::Client,
    base: &str,
    res: reqwest::Response,
) -> reqwest::Response {
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        return res;
    }
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    if !to.contains("?step=") {
        return res;
    }
    let to = to.split('#').next().unwrap().to_owned();
    client.get(format!("{base}{to}")).send().await.unwrap()
}

/// The `hailong` binary built for these tests.
pub fn hailong_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hailong"))
}
