//! Reading questionnaires from files (Hailong JSON, XLSForm) and writing them
//! out, for the command line and the designer.

use std::path::Path;

use sea_orm::DatabaseConnection;

use crate::cli::{CliError, PrintFormat, QuestionnaireImportArgs};
use crate::config::Settings;
use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;
use crate::domain::xlsform::{self, Warning, XlsFormError};
use crate::error::field_message;
use crate::i18n::Lang;

use super::audit::Actor;
use super::questionnaires::{self, QuestionnaireError};

/// A file's questionnaire, or why it could not be read.
#[derive(Debug)]
pub enum Parsed {
    Ok {
        definition: Definition,
        warnings: Vec<Warning>,
    },
    Problems(Vec<FieldError>),
    NotAQuestionnaire(String),
}

/// Reads a questionnaire from a file's bytes; the name's extension decides the format.
pub fn parse_file(name: &str, bytes: &[u8]) -> Parsed {
    let lower = name.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") || lower.ends_with(".ods") {
        let stem = Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("questionnaire")
            .to_owned();
        return match xlsform::from_bytes(bytes, &stem) {
            Ok(imported) => Parsed::Ok {
                definition: imported.definition,
                warnings: imported.warnings,
            },
            Err(XlsFormError::Invalid(list)) => Parsed::Problems(list),
            Err(e @ (XlsFormError::NotXlsForm(_) | XlsFormError::TooLarge { .. })) => {
                Parsed::NotAQuestionnaire(e.to_string())
            }
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => match Definition::parse(text) {
            Ok(definition) => Parsed::Ok {
                definition,
                warnings: vec![],
            },
            Err(list) => Parsed::Problems(list),
        },
        Err(e) => Parsed::NotAQuestionnaire(format!("not UTF-8 text ({e})")),
    }
}

/// The language of the terminal (`LANG=vi_VN…` → Vietnamese), English otherwise.
fn terminal_lang() -> Lang {
    std::env::var("LANG")
        .ok()
        .and_then(|l| Lang::parse(&l))
        .unwrap_or(Lang::En)
}

/// A readable listing: codes, types and texts.
pub fn describe(def: &Definition) -> String {
    let mut out = format!("{}  {}", def.code, def.title.get("vi"));
    if let Some(en) = def.title.0.get("en") {
        out.push_str(&format!(" / {en}"));
    }
    out.push('\n');
    for s in &def.sections {
        out.push_str(&format!("\n[{}] {}\n", s.code, s.title.get("vi")));
        for q in &s.questions {
            let mut line = format!("  {:<14} {:<16}", q.code, q.kind.as_str());
            if let (Some(min), Some(max)) = (q.min, q.max) {
                line.push_str(&format!(" {min}..{max}"));
            }
            if q.required {
                line.push_str(" *");
            }
            out.push_str(&line);
            out.push('\n');
            for (lang, text) in &q.label.0 {
                out.push_str(&format!("      {lang}: {text}\n"));
            }
            for o in &q.options {
                out.push_str(&format!("      - {} = {}\n", o.value, o.label.get("vi")));
            }
            if let Some(c) = &q.condition {
                out.push_str(&format!(
                    "      if {}\n",
                    serde_json::to_string(c).unwrap_or_default()
                ));
            }
        }
    }
    out
}

fn print_problems(name: &str, list: &[FieldError], lang: Lang) {
    for p in list {
        if p.field.is_empty() {
            eprintln!("{name}: {}", field_message(lang, p));
        } else {
            eprintln!("{name}: {}: {}", p.field, field_message(lang, p));
        }
    }
}

/// `hailong questionnaire import FILE`.
pub async fn import_cli(
    settings: &Settings,
    args: &QuestionnaireImportArgs,
) -> Result<(), CliError> {
    let name = args.file.display().to_string();
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError::User(format!("cannot read {name}: {e}")))?;
    let lang = terminal_lang();
    let (definition, warnings) = match parse_file(&name, &bytes) {
        Parsed::Ok {
            definition,
            warnings,
        } => (definition, warnings),
        Parsed::Problems(list) => {
            print_problems(&name, &list, lang);
            return Err(CliError::User(format!(
                "{name}: {} problem(s) found; nothing was imported",
                list.len()
            )));
        }
        Parsed::NotAQuestionnaire(why) => {
            return Err(CliError::User(format!("{name}: {why}")));
        }
    };
    for w in &warnings {
        eprintln!("warning: {name}: {w}");
    }
    if !args.dry_run {
        let db = crate::db::connect(&settings.database_url, 1).await?;
        crate::db::migrate(&db).await?;
        let stored = store(&db, &Actor::cli(), &definition).await;
        match stored {
            Ok((id, version)) => eprintln!("stored as questionnaire {id}, draft version {version}"),
            Err(QuestionnaireError::Invalid(list)) => {
                print_problems(&name, &list, lang);
                return Err(CliError::User(format!("{name}: nothing was imported")));
            }
            Err(e) => return Err(CliError::User(e.to_string())),
        }
    }
    match args.format {
        PrintFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&definition).unwrap_or_default()
        ),
        PrintFormat::Text => print!("{}", describe(&definition)),
    }
    Ok(())
}

/// Stores an imported definition: a new questionnaire, or a new draft of
/// the questionnaire with the same code. Returns (id, draft version).
pub async fn store(
    db: &DatabaseConnection,
    actor: &Actor,
    definition: &Definition,
) -> Result<(i64, i32), QuestionnaireError> {
    match questionnaires::find(db, &definition.code).await {
        Ok(existing) => {
            let version = questionnaires::save_draft(db, actor, existing.id, definition).await?;
            Ok((existing.id, version))
        }
        Err(QuestionnaireError::NotFound) => {
            let created = questionnaires::create(db, actor, definition).await?;
            Ok((created.id, 1))
        }
        Err(e) => Err(e),
    }
}

/// `hailong questionnaire export ID`.
pub async fn export_cli(db: &DatabaseConnection, id: &str) -> Result<(), CliError> {
    let summary = questionnaires::find(db, id)
        .await
        .map_err(|_| CliError::User(format!("no questionnaire with id or code {id:?}")))?;
    let (_, def) = questionnaires::latest(db, summary.id)
        .await
        .map_err(|e| CliError::User(e.to_string()))?;
    println!("{}", serde_json::to_string_pretty(&def).unwrap_or_default());
    Ok(())
}
