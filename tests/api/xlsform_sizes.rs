//! An XLSForm whose zip parts would make the reader allocate gigabytes is
//! refused before the reader runs (issue 13): through the command line.

use std::io::{Cursor, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{hailong_bin, spawn_app};

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;

#[tokio::test]
async fn hostile_xlsform_part_sizes_are_refused_quickly_by_the_import_command() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let bomb = vec![b' '; 200 * 1024 * 1024];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "strings.xlsx",
            zip_of(&[
                ("[Content_Types].xml", CONTENT_TYPES),
                (
                    "xl/sharedStrings.xml",
                    br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4294967295"><si><t>type</t></si></sst>"#,
                ),
            ]),
        ),
        (
            "bomb.xlsx",
            zip_of(&[
                ("[Content_Types].xml", CONTENT_TYPES),
                ("xl/worksheets/sheet1.xml", &bomb),
            ]),
        ),
    ];
    drop(bomb);
    for (name, bytes) in cases {
        assert!(bytes.len() < 1_000_000, "{name}: {} bytes", bytes.len());
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let started = Instant::now();
        let o = Command::new(hailong_bin())
            .args(["questionnaire", "import", name, "--dry-run"])
            .arg("--database-url")
            .arg(&app.db.url)
            .current_dir(dir.path())
            .env_remove("HAILONG_DATABASE_URL")
            .env("HAILONG_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name} was accepted");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name}: a plain refusal, not a crash: {stderr}"
        );
        assert!(
            stderr.contains("declares") || stderr.contains("too large"),
            "{name}: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{name}");
    }
}
