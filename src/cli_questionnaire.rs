//! `hailong questionnaire import|export`: reading a questionnaire file
//! (Hailong JSON or an XLSForm) and writing one, with what is printed where:
//! the definition alone on standard output, warnings and problems on
//! standard error, each naming its sheet, row, XLSForm name and column.

use std::collections::HashSet;

use sea_orm::DatabaseConnection;

use crate::cli::{CliError, PrintFormat, QuestionnaireExportArgs, QuestionnaireImportArgs};
use crate::config::Settings;
use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;
use crate::domain::xlsform::{self, Warning};
use crate::error::{field_message, warning_line};
use crate::i18n::{self, Arg, Lang};
use crate::services::audit::Actor;
use crate::services::questionnaire_io::{self, Parsed, needs_translation};
use crate::services::questionnaires::QuestionnaireError;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Json,
    Xlsform,
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
                let json = serde_json::to_value(c).unwrap_or_default();
                out.push_str(&format!("      if {}\n", xlsform::export::xpath(&json)));
            }
        }
    }
    out
}

/// `warning: F.xlsx: …` in `lang`.
fn print_warning(name: &str, message: String, lang: Lang) {
    eprintln!(
        "{}",
        i18n::t(
            lang,
            "cli-warning",
            &[("file", Arg::from(name)), ("message", Arg::from(message))]
        )
    );
}

/// Each warning once, in order.
fn print_warnings(name: &str, warnings: &[Warning], lang: Lang) {
    let mut seen = HashSet::new();
    for w in warnings {
        let line = warning_line(lang, w);
        if seen.insert(line.clone()) {
            print_warning(name, line, lang);
        }
    }
}

fn print_problems(name: &str, list: &[FieldError], lang: Lang) {
    let mut seen = HashSet::new();
    for p in list {
        let line = if p.field.is_empty() {
            field_message(lang, p)
        } else {
            format!("{}: {}", p.field, field_message(lang, p))
        };
        if seen.insert(line.clone()) {
            eprintln!("{name}: {line}");
        }
    }
}

/// How many texts lack their Vietnamese.
fn missing_count(definition: &Definition) -> usize {
    crate::services::questionnaires::missing_vietnamese(definition).map_or(0, |l| l.len())
}

/// `hailong questionnaire import FILE`.
pub async fn import(settings: &Settings, args: &QuestionnaireImportArgs) -> Result<(), CliError> {
    let name = args.file.display().to_string();
    let lang = terminal_lang();
    let file = || ("file", Arg::from(name.as_str()));
    let bytes = std::fs::read(&args.file).map_err(|e| {
        CliError::User(i18n::t(
            lang,
            "cli-import-cannot-read",
            &[file(), ("detail", Arg::from(e.to_string()))],
        ))
    })?;
    let (definition, warnings) = match questionnaire_io::parse_file(&name, &bytes) {
        Parsed::Ok {
            definition,
            warnings,
        } => (definition, warnings),
        Parsed::Problems { problems, warnings } => {
            print_warnings(&name, &warnings, lang);
            print_problems(&name, &problems, lang);
            return Err(CliError::User(i18n::t(
                lang,
                "cli-import-refused",
                &[
                    file(),
                    ("problems", Arg::from(problems.len() as u64)),
                    ("warnings", Arg::from(warnings.len() as u64)),
                ],
            )));
        }
        Parsed::NotAQuestionnaire(why) => {
            return Err(CliError::User(format!("{name}: {why}")));
        }
    };
    print_warnings(&name, &warnings, lang);
    if !args.dry_run {
        let db = crate::db::connect(&settings.database_url, 1).await?;
        crate::db::migrate(&db).await?;
        let stored = questionnaire_io::store(&db, &Actor::cli(), &definition).await;
        match stored {
            Ok((id, version)) => {
                eprintln!(
                    "{}",
                    i18n::t(
                        lang,
                        "cli-import-stored",
                        &[
                            ("id", Arg::from(id.to_string())),
                            ("version", Arg::from(version.to_string())),
                        ],
                    )
                );
                if needs_translation(&definition) {
                    let count = missing_count(&definition) as u64;
                    let message = i18n::t(
                        lang,
                        "cli-import-needs-translation",
                        &[("count", Arg::from(count))],
                    );
                    print_warning(&name, message, lang);
                }
            }
            Err(QuestionnaireError::Invalid(list)) => {
                print_problems(&name, &list, lang);
                return Err(CliError::User(i18n::t(
                    lang,
                    "cli-import-not-stored",
                    &[file()],
                )));
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

/// `hailong questionnaire export ID|CODE [--format json|xlsform] [--out FILE]`.
pub async fn export(
    db: &DatabaseConnection,
    args: &QuestionnaireExportArgs,
) -> Result<(), CliError> {
    let def = questionnaire_io::latest_definition(db, &args.id)
        .await
        .map_err(|e| match e {
            QuestionnaireError::NotFound => {
                CliError::User(format!("no questionnaire with id or code {:?}", args.id))
            }
            other => CliError::User(other.to_string()),
        })?;
    let bytes = match args.format {
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&def).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        }
        ExportFormat::Xlsform => {
            xlsform::export::to_xlsx(&def).map_err(|e| CliError::Export(format!("XLSForm: {e}")))?
        }
    };
    match &args.out {
        Some(path) => {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| CliError::User(format!("cannot create {}: {e}", path.display())))?;
            file.write_all(&bytes)
                .map_err(|e| CliError::User(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("written to {}", path.display());
        }
        None if args.format == ExportFormat::Xlsform => {
            return Err(CliError::User(
                "an XLSForm is a spreadsheet: give --out FILE.xlsx".to_owned(),
            ));
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}
