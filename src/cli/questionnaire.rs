//! `hailong questionnaire import|export`: reading a questionnaire file
//! (Hailong JSON or an XLSForm) and writing one, with what is printed where:
//! the definition alone on standard output, warnings and problems on
//! standard error, each naming its sheet, row, XLSForm name and column.

use std::collections::HashSet;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;

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

#[derive(Debug, Subcommand)]
pub enum QuestionnaireCommand {
    /// Import a questionnaire from Hailong JSON or an XLSForm (.xlsx) as a
    /// draft (a new questionnaire, or a new draft of the one with its code),
    /// then print it; or print every problem found.
    Import(QuestionnaireImportArgs),
    /// Write the newest version of a questionnaire (by id or code) as JSON
    /// (printed, or to --out) or as an XLSForm (--format xlsform --out F.xlsx).
    Export(QuestionnaireExportArgs),
}

#[derive(Debug, Args)]
pub struct QuestionnaireImportArgs {
    /// A .json file (Hailong's format) or an .xlsx/.xls/.ods XLSForm.
    pub file: PathBuf,
    /// How to print the imported questionnaire.
    #[arg(long, value_enum, default_value_t = PrintFormat::Text)]
    pub format: PrintFormat,
    /// Check and print only; store nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct QuestionnaireExportArgs {
    /// The questionnaire's id or code.
    pub id: String,
    /// Hailong JSON or an XLSForm (.xlsx, as ODK and KoboToolbox read it).
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// The file to write (must not exist yet); JSON is printed without it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Why an import or export failed; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireCliError {
    #[error("{0}")]
    User(String),
    #[error("export: {0}")]
    Export(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
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
pub async fn import(
    settings: &Settings,
    args: &QuestionnaireImportArgs,
) -> Result<(), QuestionnaireCliError> {
    let name = args.file.display().to_string();
    let lang = terminal_lang();
    let file = || ("file", Arg::from(name.as_str()));
    let bytes = std::fs::read(&args.file).map_err(|e| {
        QuestionnaireCliError::User(i18n::t(
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
            return Err(QuestionnaireCliError::User(i18n::t(
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
            return Err(QuestionnaireCliError::User(format!("{name}: {why}")));
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
                return Err(QuestionnaireCliError::User(i18n::t(
                    lang,
                    "cli-import-not-stored",
                    &[file()],
                )));
            }
            Err(e) => return Err(QuestionnaireCliError::User(e.to_string())),
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
) -> Result<(), QuestionnaireCliError> {
    let def = questionnaire_io::latest_definition(db, &args.id)
        .await
        .map_err(|e| match e {
            QuestionnaireError::NotFound => QuestionnaireCliError::User(format!(
                "no questionnaire with id or code {:?}",
                args.id
            )),
            other => QuestionnaireCliError::User(other.to_string()),
        })?;
    let bytes = match args.format {
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&def).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        }
        ExportFormat::Xlsform => xlsform::export::to_xlsx(&def)
            .map_err(|e| QuestionnaireCliError::Export(format!("XLSForm: {e}")))?,
    };
    match &args.out {
        Some(path) => {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| {
                    QuestionnaireCliError::User(format!("cannot create {}: {e}", path.display()))
                })?;
            file.write_all(&bytes).map_err(|e| {
                QuestionnaireCliError::User(format!("cannot write {}: {e}", path.display()))
            })?;
            eprintln!("written to {}", path.display());
        }
        None if args.format == ExportFormat::Xlsform => {
            return Err(QuestionnaireCliError::User(
                "an XLSForm is a spreadsheet: give --out FILE.xlsx".to_owned(),
            ));
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}
