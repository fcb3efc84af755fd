//! The XLSForm corpus (issue 14): real, public XLSForms from ODK's and
//! Kobo's repositories, each with its source, commit, licence and ODK's own
//! verdict (pyxform), listed in tests/fixtures/xlsform/MANIFEST.csv.
//!
//! Every form is imported in-process; of the forms pyxform accepts, the test
//! pins how many the importer accepts (an improvement or a regression both
//! show up as a changed number) and prints every refusal with its reason. Any
//! form (pyxform's refusals included) that makes the import panic or take
//! longer than the bound per form fails the test.
//!
//! The forms are data from other repositories and live beside the repository,
//! not in it: `../shared/data/xlsform/forms` (like the localities list), or the
//! folder named by `HAILONG_XLSFORM_CORPUS`, or a local, git-ignored copy at
//! `tests/fixtures/xlsform/forms`. Without any of them the test says so and
//! passes, unless `HAILONG_REQUIRE_XLSFORM_CORPUS=1` (then it fails). See
//! tests/fixtures/xlsform/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hailong::domain::xlsform::{self, XlsFormError};
use hailong::error::field_message;
use hailong::i18n::Lang;
use sha2::{Digest, Sha256};

/// Forms of the corpus that pyxform 4.5.0 accepts (pinned with the manifest).
const PYXFORM_ACCEPTS: usize = 202;
/// Forms in the manifest.
const CORPUS_SIZE: usize = 237;
/// Of the forms pyxform accepts, how many Hailong's importer accepts. Pinned:
/// change it (with the list the test prints) when the reader changes.
const HAILONG_ACCEPTS: usize = 190;
/// The longest one import may take (a debug build on a shared machine).
const PER_FORM_LIMIT: Duration = Duration::from_secs(20);

/// The licences of the sources (SPDX); each allows redistribution with its
/// notice, which is kept beside the forms (LICENSES/<source>.txt).
const REDISTRIBUTABLE: [&str; 4] = [
    "BSD-2-Clause",
    "Apache-2.0",
    "GPL-3.0-only",
    "AGPL-3.0-only",
];

struct Entry {
    file: String,
    repo: String,
    licence: String,
    sha256: String,
    pyxform_accepts: bool,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xlsform")
}

fn manifest() -> Vec<Entry> {
    let mut reader = csv::Reader::from_path(fixtures().join("MANIFEST.csv"))
        .unwrap_or_else(|e| panic!("tests/fixtures/xlsform/MANIFEST.csv: {e}"));
    let headers = reader.headers().expect("manifest header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("the manifest has no column {name}"))
    };
    let (file, repo, licence, sha, verdict) = (
        col("file"),
        col("repo"),
        col("licence"),
        col("sha256"),
        col("pyxform_verdict"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("a manifest row");
            let verdict = &r[verdict];
            assert!(
                verdict == "accept" || verdict == "refuse",
                "pyxform verdict {verdict:?} for {}",
                &r[file]
            );
            Entry {
                file: r[file].to_owned(),
                repo: r[repo].to_owned(),
                licence: r[licence].to_owned(),
                sha256: r[sha].to_owned(),
                pyxform_accepts: verdict == "accept",
            }
        })
        .collect()
}

/// Where the forms are, if they are anywhere.
fn corpus_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("HAILONG_XLSFORM_CORPUS") {
        return Some(PathBuf::from(dir));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/data/xlsform/forms"),
        fixtures().join("forms"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

enum Outcome {
    Accepted { warnings: usize },
    Refused(String),
    Panicked,
    TooSlow,
}

fn reason(e: &XlsFormError) -> String {
    match e {
        XlsFormError::Invalid(list) => {
            let mut parts: Vec<String> = list
                .iter()
                .take(3)
                .map(|p| {
                    let msg = field_message(Lang::En, p);
                    if p.field.is_empty() {
                        msg
                    } else {
                        format!("{}: {msg}", p.field)
                    }
                })
                .collect();
            if list.len() > 3 {
                parts.push(format!("… {} problems in all", list.len()));
            }
            parts.join(" | ")
        }
        other => other.to_string(),
    }
}

/// One import on its own thread, so that a panic or a hang is seen and named.
fn import(path: &Path) -> (Outcome, Duration) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("questionnaire")
        .to_owned();
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let outcome = match xlsform::from_bytes(&bytes, &stem) {
            Ok(imported) => Outcome::Accepted {
                warnings: imported.warnings.len(),
            },
            Err(e) => Outcome::Refused(reason(&e)),
        };
        let _ = tx.send(outcome);
    });
    let outcome = match rx.recv_timeout(PER_FORM_LIMIT) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Disconnected) => Outcome::Panicked,
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::TooSlow,
    };
    (outcome, started.elapsed())
}

#[test]
fn the_manifest_records_source_licence_and_pyxform_verdict_of_every_form() {
    let entries = manifest();
    assert_eq!(entries.len(), CORPUS_SIZE);
    assert!(entries.len() >= 100, "the corpus has at least 100 forms");
    let accepted = entries.iter().filter(|e| e.pyxform_accepts).count();
    assert_eq!(accepted, PYXFORM_ACCEPTS);
    let mut files = std::collections::HashSet::new();
    for e in &entries {
        assert!(files.insert(&e.file), "{} is listed twice", e.file);
        assert!(!e.repo.is_empty() && !e.licence.is_empty(), "{}", e.file);
        assert_eq!(e.sha256.len(), 64, "{}", e.file);
        assert!(
            REDISTRIBUTABLE.contains(&e.licence.as_str()),
            "{}: licence {} is not one that allows redistribution",
            e.file,
            e.licence
        );
    }
}

#[test]
fn the_importer_accepts_the_pinned_number_of_the_forms_pyxform_accepts() {
    let Some(dir) = corpus_dir() else {
        let required = std::env::var("HAILONG_REQUIRE_XLSFORM_CORPUS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "HAILONG_REQUIRE_XLSFORM_CORPUS=1 but the corpus is not at ../shared/data/xlsform/forms, \
             $HAILONG_XLSFORM_CORPUS or tests/fixtures/xlsform/forms"
        );
        eprintln!(
            "SKIPPED: the XLSForm corpus is not here (see tests/fixtures/xlsform/README.md); \
             nothing was imported"
        );
        return;
    };
    // Every form is read (the ones pyxform refuses too: they must not
    // panic or hang either); only the ones pyxform accepts are counted.
    let all = manifest();
    let entries: Vec<&Entry> = all.iter().filter(|e| e.pyxform_accepts).collect();
    let mut accepted = 0;
    let mut accepted_of_refused = 0;
    let mut refusals: BTreeMap<String, String> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for e in &all {
        let path = dir.join(&e.file);
        let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            e.sha256,
            "{} is not the file the manifest describes",
            e.file
        );
        let source = e.file.split('/').next().unwrap_or_default();
        let licence = dir.join("../LICENSES").join(format!("{source}.txt"));
        assert!(
            licence.is_file(),
            "no licence text at {}",
            licence.display()
        );
        let (outcome, took) = import(&path);
        if took > slowest.0 {
            slowest = (took, e.file.clone());
        }
        match outcome {
            Outcome::Accepted { .. } if !e.pyxform_accepts => accepted_of_refused += 1,
            Outcome::Refused(_) if !e.pyxform_accepts => {}
            Outcome::Accepted { warnings } => {
                accepted += 1;
                println!("accepted  {} ({warnings} warnings, {took:?})", e.file);
            }
            Outcome::Refused(why) => {
                refusals.insert(e.file.clone(), why);
            }
            Outcome::Panicked => broken.push(format!("{}: the import panicked", e.file)),
            Outcome::TooSlow => broken.push(format!(
                "{}: the import took longer than {PER_FORM_LIMIT:?}",
                e.file
            )),
        }
    }
    for (file, why) in &refusals {
        println!("refused   {file}: {why}");
    }
    println!(
        "Hailong imports {accepted} of the {} forms pyxform accepts ({} %); {} refused; \
         slowest {:?} ({})",
        entries.len(),
        accepted * 100 / entries.len().max(1),
        refusals.len(),
        slowest.0,
        slowest.1
    );
    println!(
        "of the {} forms pyxform refuses, Hailong imports {accepted_of_refused}",
        all.len() - entries.len()
    );
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert_eq!(
        accepted, HAILONG_ACCEPTS,
        "the number of corpus forms the importer accepts changed: re-pin HAILONG_ACCEPTS \
         (run with --nocapture for the list)"
    );
}
