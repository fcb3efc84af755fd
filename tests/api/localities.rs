//! `hailong localities import`: checked lists, history across re-imports,
//! the full national list when it is present.

use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::NaiveDate;
use entity::locality;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::helpers::{TestDb, count, hailong_bin};

pub fn run(db: &TestDb, args: &[&str]) -> Output {
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

pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn rows_of(db: &TestDb, code: &str) -> Vec<locality::Model> {
    locality::Entity::find()
        .filter(locality::Column::Code.eq(code))
        .order_by_asc(locality::Column::ValidFrom)
        .all(&db.connect().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reimport_with_changed_units_keeps_history() {
    let db = TestDb::new().await;
    ok(&run(&db, &["migrate"]));
    let out = ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2025.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    ));
    assert!(
        out.contains("9 units valid from 2025-07-01: 9 added"),
        "{out}"
    );
    let out = ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2026.csv"),
            "--valid-from",
            "2026-04-30",
        ],
    ));
    assert!(
        out.contains("1 added, 1 changed, 7 unchanged, 1 closed, 0 removed"),
        "{out}"
    );
    // Gone: closed, not deleted.
    let gone = rows_of(&db, "00008").await;
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].valid_to, Some(date("2026-04-30")));
    // Renamed: the old row closed, a new one opened.
    let renamed = rows_of(&db, "00025").await;
    assert_eq!(renamed.len(), 2);
    assert_eq!(renamed[0].name_vi, "Giảng Võ");
    assert_eq!(renamed[0].valid_to, Some(date("2026-04-30")));
    assert_eq!(renamed[1].name_vi, "Giảng Võ Mới");
    assert_eq!(renamed[1].valid_from, date("2026-04-30"));
    assert_eq!(renamed[1].valid_to, None);
    let new = rows_of(&db, "00099").await;
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].valid_from, date("2026-04-30"));
    let conn = db.connect().await;
    assert_eq!(count(&conn, "localities").await, 11);

    // The hierarchy as valid on each date.
    let codes: Vec<String> = ["00008", "00025"].iter().map(|s| s.to_string()).collect();
    let before = hailong::services::localities::valid_on(&conn, &codes, date("2025-12-31"))
        .await
        .unwrap();
    assert_eq!(before["00025"].name_vi, "Giảng Võ");
    let after = hailong::services::localities::valid_on(&conn, &codes, date("2026-05-01"))
        .await
        .unwrap();
    assert_eq!(after["00025"].name_vi, "Giảng Võ Mới");

    // The same list again changes nothing.
    let out = ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2026.csv"),
            "--valid-from",
            "2026-04-30",
        ],
    ));
    assert!(
        out.contains("0 added, 0 changed, 9 unchanged, 0 closed"),
        "{out}"
    );
    assert_eq!(count(&conn, "localities").await, 11);

    // An older list after a newer one is refused, and changes nothing.
    let out = run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2025.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("import lists in date order"), "{err}");
    assert_eq!(count(&conn, "localities").await, 11);
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_nothing_is_imported() {
    let db = TestDb::new().await;
    ok(&run(&db, &["migrate"]));
    let out = run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-bad.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for expected in [
        "line 4, code: duplicate code 00004 (first on line 3)",
        "line 5, parent_code: unknown parent 77",
        "line 6, level: unknown level \"ward\"",
        "line 7, name_vi: name missing",
        "line 8, parent_code: cycle of parents: 100 → 200 → 100",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
    assert_eq!(count(&db.connect().await, "localities").await, 0);
}

#[tokio::test]
async fn the_national_list_imports_whole_and_over_the_demo() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let conn = db.connect().await;
    let demo_units = count(&conn, "localities").await;
    assert!(demo_units > 0);
    // The list that comes with Hailong, valid from the reform's first day by default.
    let out = ok(&run(&db, &["localities", "import", "--national"]));
    assert!(out.contains("3355 units valid from 2025-07-01"), "{out}");
    // The demo's units were updated in place, not duplicated.
    assert_eq!(count(&conn, "localities").await, 3355);
    let current = locality::Entity::find()
        .filter(locality::Column::ValidTo.is_null())
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(current.iter().filter(|l| l.level == "province").count(), 34);
    assert_eq!(
        current.iter().filter(|l| l.level == "commune").count(),
        3321
    );
    let hanoi = rows_of(&db, "01").await;
    assert_eq!(hanoi.len(), 1);
    assert_eq!(hanoi[0].full_name_vi.as_deref(), Some("Thành phố Hà Nội"));
    // Again: nothing changes; a file and --national together are refused by name.
    let out = ok(&run(&db, &["localities", "import", "--national"]));
    assert!(out.contains("0 added, 0 changed, 3355 unchanged"), "{out}");
    let both = run(&db, &["localities", "import", "x.csv", "--national"]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("--national"));
    let neither = run(&db, &["localities", "import"]);
    assert!(!neither.status.success());
}

#[tokio::test]
async fn plan_prints_textbook_sizes_and_budget_allocations() {
    let db = TestDb::new().await;
    let frame = fixture("plan-frame.csv");
    // deff 1, p 0.5, full response, ±3 points at 95 %: n0 = 1067.07;
    // N = 10,000 gives 964.27 → 965; N = 10⁹ gives 1067.07 → 1068.
    let out = ok(&run(
        &db,
        &[
            "plan",
            "--frame",
            &frame,
            "--moe",
            "3",
            "--expected",
            "50",
            "--deff",
            "1",
            "--response-rate",
            "100",
            "--csv",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "code,name_vi,name_en,population,required,allocated,expected_moe_points,clusters"
    );
    assert!(lines[1].starts_with("A,Small,Small,10000,965,,"), "{out}");
    assert!(
        lines[2].starts_with("B,Large,Large,1000000000,1068,,"),
        "{out}"
    );
    assert_eq!(lines[3], "total,,,1000010000,2033,,,");
    // Halving the response rate doubles the people to contact.
    let out = ok(&run(
        &db,
        &[
            "plan",
            "--frame",
            &frame,
            "--moe",
            "3",
            "--expected",
            "50",
            "--deff",
            "1",
            "--response-rate",
            "50",
            "--csv",
        ],
    ));
    assert!(out.contains("\nA,Small,Small,10000,1929,,"), "{out}");
    // A budget of 1,000 equally, with its expected margins: 500 each,
    // e = 1.96·√(0.25·(N−500)/((N−1)·500)).
    let out = ok(&run(
        &db,
        &[
            "plan",
            "--frame",
            &frame,
            "--budget",
            "1000",
            "--allocation",
            "equal",
            "--expected",
            "50",
            "--deff",
            "1",
            "--csv",
        ],
    ));
    assert!(out.contains("\nA,Small,Small,10000,,500,4.27,\n"), "{out}");
    assert!(
        out.contains("\nB,Large,Large,1000000000,,500,4.38,\n"),
        "{out}"
    );
    // Bad input is one line.
    let out = run(
        &db,
        &[
            "plan",
            "--frame",
            &frame,
            "--budget",
            "10",
            "--minimum",
            "6",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("below the minimums"), "{err}");
}

#[tokio::test]
async fn units_missing_from_a_list_of_the_same_date_are_kept_only_when_referenced() {
    let db = TestDb::new().await;
    ok(&run(&db, &["seed", "--demo"]));
    let conn = db.connect().await;
    let demo_units = count(&conn, "localities").await;
    // The demo's units begin on 2025-07-01 like the small list, which has
    // only 01 and 92 and 7 of their communes.
    let out = ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2025.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    ));
    assert!(out.contains("0 removed"), "{out}");
    // Every demo unit is referenced (responses, campaigns, margins): none
    // is deleted; those missing from the list are closed on its date.
    let added: i64 = out
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(count(&conn, "localities").await, demo_units + added);
    let hue = rows_of(&db, "46").await;
    assert_eq!(hue.len(), 1);
    assert_eq!(hue[0].valid_to, Some(date("2025-07-01")));
    let hanoi = rows_of(&db, "01").await;
    assert_eq!(hanoi[0].valid_to, None);
    // The frame of provinces on a later date has only the listed ones.
    let frame = hailong::services::planning::frame(&conn, "province", date("2026-01-01"))
        .await
        .unwrap();
    let codes: Vec<&str> = frame.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, vec!["01", "92"]);
    // A same-day unit that nothing references is removed.
    let extra = db.dir.path().join("extra.csv");
    std::fs::write(
        &extra,
        format!(
            "{}00999,commune,01,Thêm,Extra\n",
            std::fs::read_to_string(fixture("localities-2025.csv")).unwrap()
        ),
    )
    .unwrap();
    ok(&run(
        &db,
        &[
            "localities",
            "import",
            extra.to_str().unwrap(),
            "--valid-from",
            "2025-07-01",
        ],
    ));
    assert_eq!(rows_of(&db, "00999").await.len(), 1);
    let out = ok(&run(
        &db,
        &[
            "localities",
            "import",
            &fixture("localities-2025.csv"),
            "--valid-from",
            "2025-07-01",
        ],
    ));
    assert!(out.contains("0 closed, 1 removed"), "{out}");
    assert!(rows_of(&db, "00999").await.is_empty());
}
