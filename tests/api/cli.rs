//! The binary as a user runs it.

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::Duration;

use crate::helpers::{TestDb, count, hailong_bin};

fn run(db: &TestDb, args: &[&str]) -> Output {
    Command::new(hailong_bin())
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .current_dir(db.dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "warn")
        .output()
        .expect("run hailong")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn seeding_twice_does_not_duplicate_the_demo() {
    let db = TestDb::new().await;
    let first = run(&db, &["seed", "--demo"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let conn = db.connect().await;
    let responses = count(&conn, "responses").await;
    let localities = count(&conn, "localities").await;
    assert!(responses > 1000);
    let second = run(&db, &["seed", "--demo"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(count(&conn, "responses").await, responses);
    assert_eq!(count(&conn, "localities").await, localities);
    assert_eq!(count(&conn, "campaigns").await, 3);
}

#[tokio::test]
async fn migrations_run_down_and_up_again() {
    let db = TestDb::new().await;
    let up = run(&db, &["migrate"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let seeded = run(&db, &["seed", "--demo"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let down = run(&db, &["migrate", "--down"]);
    assert!(down.status.success(), "{}", stderr(&down));
    let up = run(&db, &["migrate"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let conn = db.connect().await;
    assert_eq!(count(&conn, "responses").await, 0);
}

#[tokio::test]
async fn default_database_is_created_under_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(hailong_bin())
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env("DATABASE_URL", "postgres://must-be-ignored.invalid/x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("data/hailong.db").exists());
}

#[test]
fn a_wrong_database_url_is_one_clear_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(hailong_bin())
        .args(["migrate", "--database-url", "mysql://nowhere/x"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: unsupported database URL"), "{err}");
    assert!(!err.contains("panicked"));

    let out = Command::new(hailong_bin())
        .args([
            "migrate",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open database"), "{err}");
}

#[test]
fn an_unwritable_data_directory_is_one_clear_error_line() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data directory should be: cannot be created as a directory.
    std::fs::write(dir.path().join("data"), "not a directory").unwrap();
    let out = Command::new(hailong_bin())
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot create data directory data"), "{err}");
}

#[tokio::test]
async fn a_port_in_use_is_one_clear_error_line() {
    let db = TestDb::new().await;
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&db, &["serve", "--bind", &addr]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[tokio::test]
async fn serving_twice_on_the_same_data_keeps_it() {
    let db = TestDb::new().await;
    for round in 0..2 {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = Command::new(hailong_bin())
            .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
            .arg("--database-url")
            .arg(&db.url)
            .current_dir(db.dir.path())
            .env("HAILONG_LOG", "warn")
            .spawn()
            .unwrap();
        let client = reqwest::Client::new();
        let mut listed = None;
        for _ in 0..100 {
            if let Ok(res) = client
                .get(format!("http://127.0.0.1:{port}/api/v1/campaigns"))
                .send()
                .await
            {
                listed = Some(res.json::<Vec<serde_json::Value>>().await.unwrap());
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        child.kill().ok();
        child.wait().ok();
        let listed = listed.unwrap_or_else(|| panic!("server did not answer in round {round}"));
        assert_eq!(listed.len(), 3, "round {round}");
    }
    let conn = db.connect().await;
    assert_eq!(count(&conn, "campaigns").await, 3);
}
