//! Spreadsheet formula injection (issue 13): a locality named
//! `=HYPERLINK(...)` and a label `@SUM(1)` reach results.csv, results.xlsx
//! and codebook.csv as text that a spreadsheet will not run.

use std::io::Read;
use std::process::Command;

use entity::{locality, questionnaire_version};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::hailong_bin;
use crate::helpers::spawn_prepared;

const LINK: &str = "=HYPERLINK(\"http://x\",\"y\")";

#[tokio::test]
async fn exported_cells_beginning_with_formula_characters_are_neutralised() {
    let app = spawn_prepared(
        |_| {},
        async |db| {
            locality::Entity::update_many()
                .col_expr(locality::Column::NameVi, Expr::value(LINK))
                .col_expr(locality::Column::NameEn, Expr::value(LINK))
                .filter(locality::Column::Level.eq("province"))
                .exec(db)
                .await
                .unwrap();
            for v in questionnaire_version::Entity::find().all(db).await.unwrap() {
                let definition = v.definition.replace("\"Rất hài lòng\"", "\"@SUM(1)\"");
                questionnaire_version::Entity::update_many()
                    .col_expr(
                        questionnaire_version::Column::Definition,
                        Expr::value(definition),
                    )
                    .filter(questionnaire_version::Column::Id.eq(v.id))
                    .exec(db)
                    .await
                    .unwrap();
            }
        },
    )
    .await;
    // Results come from a publication: publish again so it carries the new names.
    crate::helpers::publish(&app, "sipas-demo").await;

    // results.csv: the name cell starts with a quote; numbers stay numerals.
    let csv = app
        .get("/results/sipas-demo/results.csv?level=province")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let mut names = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r'])
                    && (!cell.starts_with('-') || cell.parse::<f64>().is_ok()),
                "a live formula cell: {cell:?}"
            );
        }
        if rec[2] == format!("'{LINK}") {
            names += 1;
        }
    }
    assert!(
        names > 0,
        "the hostile name is exported, neutralised: {csv}"
    );

    // results.xlsx: the same text in the workbook's strings.
    let xlsx = app
        .get("/results/sipas-demo/results.xlsx?level=province")
        .await
        .bytes()
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let mut text = String::new();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        if part.name().unwrap().ends_with(".xml") {
            part.read_to_string(&mut text).unwrap();
        }
    }
    assert!(text.contains("'=HYPERLINK("), "neutralised in the workbook");
    assert!(
        !text.contains(">=HYPERLINK("),
        "a live formula in the workbook"
    );

    // codebook.csv of the microdata export: the label starts with a quote.
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(hailong_bin())
        .args([
            "export",
            "microdata",
            "--campaign",
            "sipas-demo",
            "--out",
            ".",
        ])
        .arg("--database-url")
        .arg(&app.db.url)
        .current_dir(dir.path())
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let codebook = std::fs::read_to_string(dir.path().join("codebook.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(codebook.as_bytes());
    let mut labels = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(!cell.starts_with('@'), "a live formula cell: {cell:?}");
            if cell == "'@SUM(1)" {
                labels += 1;
            }
        }
    }
    assert!(
        labels > 0,
        "the hostile label is in the codebook, neutralised"
    );
}
