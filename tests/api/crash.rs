//! Crash safety: submissions under load, the server killed with SIGKILL at a
//! random moment, restarted on the same database. Every submission that got a
//! 2xx must be stored exactly once, and the database must pass its integrity
//! check. Multi-process: two servers on one database must both accept
//! answers and agree on results.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngExt;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::Value;

use crate::helpers::{TestDb, count, hailong_bin};
use crate::responses::valid_body;

/// The province results of the demo's SIPAS campaign as `server` serves them.
async fn province_results(client: &reqwest::Client, server: &Server) -> Value {
    let res = client
        .get(server.url("/api/v1/campaigns/sipas-demo/results?level=province"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()
}

/// A `hailong serve` child process on a free loopback port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(db: &TestDb, demo: bool) -> Server {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cmd = Command::new(hailong_bin());
        cmd.arg("serve");
        if demo {
            cmd.arg("--demo");
        }
        let log = db.dir.path().join(format!("server-{port}.log"));
        let child = cmd
            .stderr(std::fs::File::create(&log).unwrap())
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .arg("--database-url")
            .arg(&db.url)
            .current_dir(db.dir.path())
            .env("HAILONG_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(res) = client.get(server.url("/readyz")).send().await
                && res.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the server did not become ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A commune of the SIPAS demo campaign.
async fn commune(server: &Server) -> String {
    let list: Vec<Value> = reqwest::get(server.url("/api/v1/campaigns"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sipas = list.iter().find(|c| c["slug"] == "sipas-demo").unwrap();
    sipas["localities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "commune")
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// How many of `ids` are stored (each id is the primary key, so a stored id
/// is stored once; the count also proves none is missing).
async fn stored(db: &DatabaseConnection, ids: &[String]) -> i64 {
    let mut n = 0;
    for chunk in ids.chunks(400) {
        let list = chunk
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM responses WHERE id IN ({list})"),
            ))
            .await
            .unwrap()
            .unwrap();
        n += row.try_get::<i64>("", "n").unwrap();
    }
    n
}

/// SQLite: `PRAGMA integrity_check`. PostgreSQL: `amcheck` over every
/// B-tree index of the responses table (heap and index agree, order holds).
async fn integrity_ok(db: &DatabaseConnection) {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let rows = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    "PRAGMA integrity_check",
                ))
                .await
                .unwrap();
            let lines: Vec<String> = rows
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect();
            assert_eq!(lines, vec!["ok".to_owned()], "integrity check");
        }
        _ => {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS amcheck")
                .await
                .unwrap();
            let rows = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT c.relname::text AS name, bt_index_check(c.oid, true)::text AS checked \
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                     JOIN pg_am a ON a.oid = c.relam \
                     WHERE i.indrelid = 'responses'::regclass AND a.amname = 'btree'",
                ))
                .await
                .unwrap();
            assert!(!rows.is_empty(), "the responses table has B-tree indexes");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_under_load_loses_no_acknowledged_response() {
    let db = TestDb::new().await;
    let mut server = Server::start(&db, true).await;
    let locality = commune(&server).await;
    let url = server.url("/api/v1/campaigns/sipas-demo/responses");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, url, locality, acked) =
            (client.clone(), url.clone(), locality.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            // Until the server is gone: each client keeps submitting.
            for _ in 0..10_000 {
                let id = uuid::Uuid::new_v4().to_string();
                match client
                    .post(&url)
                    .json(&valid_body(&id, &locality))
                    .send()
                    .await
                {
                    Ok(res) if res.status().is_success() => acked.lock().unwrap().push(id),
                    Ok(res) => panic!("unexpected status {} before the crash", res.status()),
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill at a random moment once the load is running.
    let wait = rand::rng().random_range(300..1_500);
    let started = Instant::now();
    while acked.lock().unwrap().len() < 50 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(wait)).await;
    server.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 50, "the load ran before the crash");

    // Restart on the same database: everything acknowledged is there once.
    let server = Server::start(&db, false).await;
    let conn = db.connect().await;
    integrity_ok(&conn).await;
    crate::helpers::response_counts_agree(&conn).await;
    assert_eq!(stored(&conn, &acked).await, acked.len() as i64);
    let before = count(&conn, "responses").await;
    // Retrying an acknowledged submission stores nothing new.
    let client = reqwest::Client::new();
    let url = server.url("/api/v1/campaigns/sipas-demo/responses");
    for id in acked.iter().take(20) {
        let res = client
            .post(&url)
            .json(&valid_body(id, &locality))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "a retried submission is a duplicate");
    }
    // And the restarted server takes new answers.
    let id = uuid::Uuid::new_v4().to_string();
    let res = client
        .post(&url)
        .json(&valid_body(&id, &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(count(&conn, "responses").await, before + 1);
    println!(
        "crash test: {} acknowledged before SIGKILL at +{wait} ms, all stored once",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_answers_sessions_and_results() {
    let db = TestDb::new().await;
    // Started together on an empty database: they take turns migrating.
    let (a, b) = tokio::join!(Server::start(&db, true), Server::start(&db, false));
    let locality = commune(&a).await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..40 {
        let server = if i % 2 == 0 { &a } else { &b };
        let id = uuid::Uuid::new_v4().to_string();
        let res = client
            .post(server.url("/api/v1/campaigns/sipas-demo/responses"))
            .json(&valid_body(&id, &locality))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        ids.push(id);
    }
    // The same submission sent to the other process is a duplicate there.
    let res = client
        .post(b.url("/api/v1/campaigns/sipas-demo/responses"))
        .json(&valid_body(&ids[0], &locality))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let conn = db.connect().await;
    assert_eq!(stored(&conn, &ids).await, 40);

    // Both processes serve the same numbers (the latest publication, read from
    // the shared database).
    assert_eq!(
        province_results(&client, &a).await,
        province_results(&client, &b).await
    );

    // A staff session made on one process is valid on the other: the cookie
    // key lives in the database.
    let conn = db.connect().await;
    hailong::services::staff::create(
        &conn,
        &hailong::services::audit::Actor::cli(),
        hailong::services::staff::NewUser {
            email: "analyst@example.vn",
            role: "analyst",
            password: "correct horse battery staple",
            localities: None,
        },
    )
    .await
    .unwrap();
    let browser = crate::helpers::client();
    let login = browser.get(a.url("/staff/login")).send().await.unwrap();
    let csrf = crate::helpers::csrf_of(&login.text().await.unwrap());
    let res = browser
        .post(a.url("/staff/login"))
        .form(&[
            ("email", "analyst@example.vn"),
            ("password", "correct horse battery staple"),
            ("csrf_token", csrf.as_str()),
            ("next", "/staff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "logged in on the first process");
    let me = browser.get(b.url("/api/v1/staff/me")).send().await.unwrap();
    assert_eq!(me.status(), 200, "the session works on the second process");

    // Failed sign-ins are counted in the database: five wrong passwords on
    // the first process block the account on the second, even with the
    // right password.
    let attempt = |s: &Server, password: &'static str| {
        let (login, url) = (s.url("/staff/login"), s.url("/staff/login"));
        async move {
            let c = crate::helpers::client();
            let page = c.get(login).send().await.unwrap().text().await.unwrap();
            let csrf = crate::helpers::csrf_of(&page);
            c.post(url)
                .form(&[
                    ("email", "analyst@example.vn"),
                    ("password", password),
                    ("csrf_token", csrf.as_str()),
                    ("next", "/staff"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..hailong::auth::limiter::PER_ACCOUNT {
        assert_eq!(attempt(&a, "wrong password here").await, 401);
    }
    assert_eq!(attempt(&b, "correct horse battery staple").await, 429);
}

/// Several processes publishing at once on one PostgreSQL database: each publication's
/// results are computed by exactly one process (the advisory lock of
/// `services::publication::fill`), including a publication left without results by a
/// killed process, and every serving process then serves the same stored snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_publication_is_computed_once_whatever_the_number_of_processes() {
    let db = TestDb::new().await;
    if !db.url.starts_with("postgres") {
        eprintln!("NOTE: PostgreSQL only (SQLite is served by one process)");
        return;
    }
    let (a, b) = tokio::join!(Server::start(&db, true), Server::start(&db, false));
    let conn = db.connect().await;
    let scalar = |sql: String| {
        let conn = conn.clone();
        async move {
            let row = conn
                .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let campaign = scalar("SELECT id FROM campaigns WHERE slug = 'sipas-demo'".to_owned()).await;
    let last = scalar(format!(
        "SELECT max(number) FROM publications WHERE campaign_id = {campaign}"
    ))
    .await;
    // As if the process computing it had been killed: stored, but without its results.
    conn.execute_unprepared(&format!(
        "UPDATE publications SET payload = NULL WHERE campaign_id = {campaign} AND number = {last}"
    ))
    .await
    .unwrap();

    // Four processes publish at once; each first finishes the incomplete publication.
    let children: Vec<Child> = (0..4)
        .map(|_| {
            Command::new(hailong_bin())
                .args(["results", "publish", "--campaign", "sipas-demo"])
                .arg("--database-url")
                .arg(&db.url)
                .current_dir(db.dir.path())
                .env("HAILONG_LOG", "info")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut computed: Vec<i64> = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{log}");
        for line in log.lines().filter(|l| l.contains("computing results")) {
            let at = line.find("number=").expect("number in the log line") + 7;
            let digits: String = line[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            computed.push(digits.parse().unwrap());
        }
    }
    computed.sort_unstable();
    let now = scalar(format!(
        "SELECT max(number) FROM publications WHERE campaign_id = {campaign}"
    ))
    .await;
    let want: Vec<i64> = (last..=now).collect();
    assert_eq!(
        computed, want,
        "each publication computed by exactly one process"
    );
    let incomplete = scalar(format!(
        "SELECT count(*) FROM publications WHERE campaign_id = {campaign} AND payload IS NULL"
    ))
    .await;
    assert_eq!(incomplete, 0);

    // Both servers serve the same, newest snapshot.
    let client = reqwest::Client::new();
    let (ra, rb) = tokio::join!(province_results(&client, &a), province_results(&client, &b));
    assert_eq!(ra, rb);
    assert!(!ra.as_array().unwrap().is_empty());
    eprintln!("NOTE: publications {last}..={now} computed once each by 4 concurrent processes");
}

/// Every group's totals of a data set of groups, by the group's labels (locality, stratum,
/// cluster, calibration cells), so that totals built in different orders compare.
pub(crate) fn totals_by_group(
    data: &hailong::services::results::Dataset,
) -> std::collections::BTreeMap<Vec<String>, Vec<f64>> {
    let groups = data.groups.as_ref().expect("a data set of groups");
    (0..data.n)
        .map(|g| {
            let mut key = vec![
                data.localities.labels[data.locality[g] as usize].clone(),
                data.strata.labels[data.stratum[g] as usize].clone(),
                data.clusters.labels[data.cluster[g] as usize].clone(),
            ];
            for (_, codes, labels) in &data.cells {
                key.push(
                    labels
                        .labels
                        .get(codes[g] as usize)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            (key, groups.group_totals(g))
        })
        .collect()
}

/// Two data sets of groups hold the same groups with the same totals (to 1e-9: sums in
/// another order).
pub(crate) fn same_totals(
    kept: &hailong::services::results::Dataset,
    recount: &hailong::services::results::Dataset,
) {
    let (kept, recount) = (totals_by_group(kept), totals_by_group(recount));
    assert_eq!(
        kept.keys().collect::<Vec<_>>(),
        recount.keys().collect::<Vec<_>>()
    );
    for (key, want) in &recount {
        for (i, (a, b)) in kept[key].iter().zip(want).enumerate() {
            assert!(
                a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
                "group {key:?}, total {i}: kept {a}, recount {b}"
            );
        }
    }
}

/// The totals kept with the latest publication equal a full recount of its included
/// responses after SIGKILLs: of the server while it stores answers under load, and of
/// `hailong results publish` processes at random moments of publishing (choosing, marking,
/// computing, storing). The published results are then those computed from a recount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_totals_equal_a_recount_after_sigkills_during_inserts_and_publications() {
    use hailong::services::{campaigns, results};
    let db = TestDb::new().await;
    let mut server = Server::start(&db, true).await;
    let locality = commune(&server).await;
    let url = server.url("/api/v1/campaigns/sipas-demo/responses");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let publish = || {
        Command::new(hailong_bin())
            .args(["results", "publish", "--campaign", "sipas-demo"])
            .arg("--database-url")
            .arg(&db.url)
            .current_dir(db.dir.path())
            .env("HAILONG_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut rng = rand::rng();
    let mut killed = 0;
    for round in 0..4 {
        // Answers under load, a publication killed at a random moment meanwhile, then the
        // server killed while still storing.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, url, locality) = (client.clone(), url.clone(), locality.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..10_000 {
                    let id = uuid::Uuid::new_v4().to_string();
                    let sent = client.post(&url).json(&valid_body(&id, &locality)).send();
                    if sent.await.is_err() {
                        return;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..600))).await;
        let mut child = publish();
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..800))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
        server = Server::start(&db, false).await;
        eprintln!("round {round}: done");
    }
    drop(server);
    // One publication to the end: it finishes any publication left without results first.
    let done = publish().wait().unwrap();
    assert!(done.success());

    let conn = db.connect().await;
    let campaign = campaigns::by_slug(&conn, "sipas-demo").await.unwrap();
    let latest = hailong::services::publication::latest(&conn, campaign.campaign.id)
        .await
        .unwrap()
        .unwrap();
    let plan = results::plan(&campaign.definition);
    let (kept, source) = results::totals::groups_of(&conn, &campaign, &plan, latest.number)
        .await
        .unwrap();
    assert_eq!(source, results::totals::Source::Stored, "totals kept");
    let recount = results::load_groups(&conn, &campaign, &plan, (1, latest.number))
        .await
        .unwrap();
    assert_eq!(recount.responses(), latest.included as u64);
    same_totals(&kept, &recount);
    let groups = recount.n;
    // The published results are the recount's.
    let published = hailong::services::publication::published(&conn, &campaign)
        .await
        .unwrap();
    conn.execute_unprepared("DELETE FROM publication_totals")
        .await
        .unwrap();
    let (fresh, _, source) = results::compute_with_totals(&conn, &campaign, latest.number)
        .await
        .unwrap();
    assert_eq!(source, results::totals::Source::Read);
    assert_eq!(published.number, latest.number);
    for (a, b) in published.results.rows.iter().zip(&fresh.rows) {
        assert_eq!((&a.locality, &a.index), (&b.locality, &b.index));
        let (x, y) = (a.estimate.unwrap_or(0.0), b.estimate.unwrap_or(0.0));
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a:?} vs {b:?}");
    }
    assert_eq!(published.results.rows.len(), fresh.rows.len());
    eprintln!(
        "NOTE: publication {} of {} responses, {} groups, {killed} publish processes killed",
        latest.number, latest.included, groups
    );
}
