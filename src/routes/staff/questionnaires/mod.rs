//! The questionnaire designer for survey staff: list, create from a preset
//! or from scratch, edit sections and questions (texts per language, type,
//! bounds, options, conditions' targets, index mapping), reorder, delete,
//! publish. Every change goes through [`questionnaires::save_draft`], so an
//! edit that would make the definition invalid is refused with every problem
//! listed and nothing saved; editing a published questionnaire starts a new
//! draft version.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::domain::questionnaire::{
    Choice, Comparison, Condition, ConditionFn, ConditionOp, Definition, IndexMapping, Question,
    QuestionType, ScalePoint, Section,
};
use crate::domain::text::Text;
use crate::error::{AppError, field_message};
use crate::i18n::{self, Lang};
use crate::presets;
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires::{self, QuestionnaireError};
use crate::views::staff::questionnaires::{
    EditPage, ListPage, PresetOption, QuestionView, SectionView,
};

use super::{render, see_other};

mod logic;
mod upload;

pub use logic::describe;
use logic::logic_words;
pub use upload::{ImportForm, import, import_file};

fn presets_for(lang: Lang) -> Vec<PresetOption> {
    presets::all()
        .into_iter()
        .map(|(file, def)| PresetOption {
            file,
            title: def.title.get(lang.code()).to_owned(),
        })
        .collect()
}

#[get("/questionnaires")]
pub async fn index(state: web::Data<AppState>, user: StaffUser) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    list_page(&state, &user, vec![], vec![], None).await
}

/// The list of questionnaires, with the problems of a refused create or
/// import (then answered 422).
async fn list_page(
    state: &AppState,
    user: &StaffUser,
    errors: Vec<String>,
    warnings: Vec<String>,
    imported: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let list = questionnaires::list(&state.db).await?;
    let failed = !errors.is_empty();
    let page = ListPage {
        questionnaires: list,
        presets: presets_for(lang),
        can_write: user.role.can(Area::Questionnaires, Access::Write),
        errors,
        warnings,
        imported,
    };
    let mut res = render(
        user,
        "staff/questionnaires.html",
        "/staff/questionnaires",
        page,
    )?;
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    preset: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    title_vi: String,
    #[serde(default)]
    title_en: String,
}

/// A new, empty definition: one section with one question to start from.
fn blank(code: &str, title: Text) -> Definition {
    Definition {
        code: code.to_owned(),
        title,
        description: Text::default(),
        sections: vec![Section {
            code: "s1".to_owned(),
            title: Text::vi_en("Phần 1", "Part 1"),
            description: Text::default(),
            questions: vec![scale_question("q1", Text::vi_en("Câu hỏi 1", "Question 1"))],
            condition: None,
        }],
        indices: vec![],
        source: None,
    }
}

/// The standard five-point satisfaction scale.
fn scale_question(code: &str, label: Text) -> Question {
    let points = [
        ("Rất không hài lòng", "Very dissatisfied"),
        ("Không hài lòng", "Dissatisfied"),
        ("Bình thường", "Neither"),
        ("Hài lòng", "Satisfied"),
        ("Rất hài lòng", "Very satisfied"),
    ];
    Question {
        code: code.to_owned(),
        kind: QuestionType::Scale,
        required: false,
        label,
        help: Text::default(),
        min: Some(1),
        max: Some(5),
        points: points
            .iter()
            .zip(1..)
            .map(|((vi, en), value)| ScalePoint {
                value,
                label: Text::vi_en(vi, en),
            })
            .collect(),
        options: vec![],
        dont_know: false,
        not_applicable: false,
        condition: None,
        index: None,
        ..Default::default()
    }
}

fn problems(lang: Lang, e: QuestionnaireError) -> Result<Vec<String>, AppError> {
    match AppError::from(e) {
        AppError::Validation(list) => Ok(list
            .iter()
            .map(|f| {
                if f.field.is_empty() {
                    field_message(lang, f)
                } else {
                    format!("{}: {}", f.field, field_message(lang, f))
                }
            })
            .collect()),
        other => Err(other),
    }
}

#[post("/questionnaires")]
pub async fn create(
    state: web::Data<AppState>,
    form: StaffForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let mut def = match presets::all().into_iter().find(|(f, _)| *f == form.preset) {
        Some((_, def)) => def,
        None => blank(form.code.trim(), Text::default()),
    };
    if !form.code.trim().is_empty() {
        def.code = form.code.trim().to_owned();
    }
    if !form.title_vi.trim().is_empty() {
        def.title = Text::vi_en(form.title_vi.trim(), form.title_en.trim());
    }
    match questionnaires::create(&state.db, &Actor::staff(user.id, &user.email), &def).await {
        Ok(created) => Ok(see_other(&format!("/staff/questionnaires/{}", created.id))),
        Err(e) => {
            let errors = problems(lang, e)?;
            list_page(&state, &user, errors, vec![], None).await
        }
    }
}

/// A field path of a text without Vietnamese, as the designer names it:
/// `sections[1].questions[2].options[0].label.vi` → `s2 › q3 › option 1 › label`
/// with the section's and question's codes.
fn text_place(def: &Definition, path: &str) -> String {
    let path = path.strip_suffix(".vi").unwrap_or(path);
    let mut parts = Vec::new();
    let mut section = None;
    for step in path.split('.') {
        let (name, at) = match step.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (step, None),
        };
        match (name, at) {
            ("sections", Some(i)) => {
                section = def.sections.get(i);
                parts
                    .push(section.map_or_else(|| format!("section {}", i + 1), |s| s.code.clone()));
            }
            ("questions", Some(i)) => parts.push(
                section
                    .and_then(|s| s.questions.get(i))
                    .map_or_else(|| format!("question {}", i + 1), |q| q.code.clone()),
            ),
            (n, Some(i)) => parts.push(format!("{n}[{}]", i + 1)),
            (n, None) => parts.push(n.to_owned()),
        }
    }
    parts.join(" › ")
}

fn options_text(q: &Question) -> String {
    q.options
        .iter()
        .map(|o| {
            let en = o.label.0.get("en").map(String::as_str).unwrap_or("");
            format!("{} | {} | {}", o.value, o.label.get("vi"), en)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn views(def: &Definition, lang: Lang) -> Vec<SectionView> {
    let en = |t: &Text| t.0.get("en").cloned().unwrap_or_default();
    def.sections
        .iter()
        .enumerate()
        .map(|(si, s)| SectionView {
            index: si,
            code: s.code.clone(),
            title_vi: s.title.get("vi").to_owned(),
            title_en: en(&s.title),
            condition: s.condition.as_ref().map(|c| describe(c, lang)),
            questions: s
                .questions
                .iter()
                .enumerate()
                .map(|(qi, q)| QuestionView {
                    index: qi,
                    code: q.code.clone(),
                    kind: q.kind.as_str(),
                    required: q.required,
                    label_vi: q.label.get("vi").to_owned(),
                    label_en: en(&q.label),
                    help_vi: q.help.0.get("vi").cloned().unwrap_or_default(),
                    help_en: en(&q.help),
                    min: q.min,
                    max: q.max,
                    options: options_text(q),
                    condition: q.condition.as_ref().map(|c| describe(c, lang)),
                    condition_compound: has_compound_condition(q),
                    logic: logic_words(q, lang),
                    element: q
                        .index
                        .as_ref()
                        .map(|m| m.element.clone())
                        .unwrap_or_default(),
                    criterion: q
                        .index
                        .as_ref()
                        .map(|m| m.criterion.clone())
                        .unwrap_or_default(),
                    satisfied_min: q.index.as_ref().map(|m| m.satisfied_min),
                    reverse: q.index.as_ref().is_some_and(|m| m.reverse),
                    cond_question: editable_leaf(q)
                        .map(|c| c.question.clone())
                        .unwrap_or_default(),
                    cond_op: editable_leaf(q).map_or("answered", |c| op_name(c.op)),
                    cond_value: editable_leaf(q)
                        .and_then(|c| c.value.as_ref())
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default(),
                    dont_know: q.dont_know,
                    not_applicable: q.not_applicable,
                })
                .collect(),
        })
        .collect()
}

async fn edit_page(
    state: &AppState,
    user: &StaffUser,
    id: i64,
    shown: Option<Definition>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let summary = questionnaires::get(&state.db, id).await?;
    let (row, stored) = questionnaires::latest(&state.db, id).await?;
    let def = shown.unwrap_or(stored);
    let failed = !errors.is_empty();
    let page = EditPage {
        version: row.version,
        status: row.status.clone(),
        checksum: row.checksum.clone(),
        title_vi: def.title.get("vi").to_owned(),
        title_en: def.title.0.get("en").cloned().unwrap_or_default(),
        sections: views(&def, lang),
        indices: def
            .indices
            .iter()
            .flat_map(|i| {
                i.elements.iter().flat_map(move |e| {
                    e.criteria
                        .iter()
                        .map(move |c| format!("{} → {} → {}", i.code, e.code, c.code))
                })
            })
            .collect(),
        types: vec![
            "scale",
            "single_choice",
            "multiple_choice",
            "yes_no",
            "number",
            "short_text",
            "long_text",
        ],
        can_write: user.role.can(Area::Questionnaires, Access::Write),
        summary,
        errors,
        notice,
        untranslated: questionnaires::missing_vietnamese(&def)
            .unwrap_or_default()
            .iter()
            .map(|e| text_place(&def, &e.field))
            .collect(),
    };
    let path = format!("/staff/questionnaires/{id}");
    let mut res = render(user, "staff/questionnaire.html", &path, page)?;
    if failed {
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

#[get("/questionnaires/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<i64>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Questionnaires, Access::Read)?;
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["saved", "published"].contains(d))
        .map(|d| i18n::t(user.lang, &format!("designer-done-{d}"), &[]));
    edit_page(&state, &user, path.into_inner(), None, vec![], notice).await
}

fn field<'a>(form: &'a HashMap<String, String>, key: &str) -> &'a str {
    form.get(key).map(|s| s.trim()).unwrap_or("")
}

fn index_of(form: &HashMap<String, String>, key: &str) -> Result<usize, AppError> {
    field(form, key).parse().map_err(|_| AppError::BadRequest {
        code: "bad_form",
        detail: format!("{key} is not a position"),
    })
}

fn opt_int(form: &HashMap<String, String>, key: &str) -> Result<Option<i64>, AppError> {
    let v = field(form, key);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| AppError::BadRequest {
        code: "bad_form",
        detail: format!("{key} is not a whole number"),
    })
}

fn text_pair(form: &HashMap<String, String>, prefix: &str) -> Text {
    Text::vi_en(
        field(form, &format!("{prefix}_vi")),
        field(form, &format!("{prefix}_en")),
    )
}

/// Lines `value | vi | en` as options.
fn parse_options(text: &str) -> Vec<Choice> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('|').map(str::trim);
            let value = parts.next().unwrap_or("").to_owned();
            let vi = parts.next().unwrap_or("");
            let en = parts.next().unwrap_or("");
            Choice {
                value,
                label: Text::vi_en(vi, en),
                filters: Default::default(),
            }
        })
        .collect()
}

fn missing(what: &str) -> AppError {
    AppError::BadRequest {
        code: "bad_form",
        detail: format!("no such {what}"),
    }
}

fn op_name(op: ConditionOp) -> &'static str {
    op.as_str()
}

/// The operators the designer's simple condition form edits.
const EDITABLE_OPS: [ConditionOp; 5] = [
    ConditionOp::Answered,
    ConditionOp::Eq,
    ConditionOp::Ne,
    ConditionOp::Gte,
    ConditionOp::Lte,
];

/// The question's condition when the simple form can edit it: a single leaf
/// without a function and with one of the form's operators.
fn editable_leaf(q: &Question) -> Option<&Comparison> {
    q.condition
        .as_ref()
        .and_then(Condition::as_leaf)
        .filter(|c| c.func.is_none() && EDITABLE_OPS.contains(&c.op))
}

/// True when the question has a condition the simple form cannot show
/// (a tree, a function, another operator): saving keeps it unchanged.
fn has_compound_condition(q: &Question) -> bool {
    q.condition.is_some() && editable_leaf(q).is_none()
}

/// The condition of the edit form: none without a question; the value is a
/// whole number, `true`/`false`, or else an option value.
fn condition_of(form: &HashMap<String, String>) -> Result<Option<Condition>, AppError> {
    let question = field(form, "cond_question");
    if question.is_empty() {
        return Ok(None);
    }
    let op = match field(form, "cond_op") {
        "answered" | "" => ConditionOp::Answered,
        "eq" => ConditionOp::Eq,
        "ne" => ConditionOp::Ne,
        "gte" => ConditionOp::Gte,
        "lte" => ConditionOp::Lte,
        _ => return Err(missing("condition")),
    };
    let raw = field(form, "cond_value");
    let value = if op == ConditionOp::Answered || raw.is_empty() {
        None
    } else if let Ok(n) = raw.parse::<i64>() {
        Some(serde_json::Value::from(n))
    } else if raw == "true" || raw == "false" {
        Some(serde_json::Value::from(raw == "true"))
    } else {
        Some(serde_json::Value::from(raw))
    };
    Ok(Some(Condition::leaf(question, op, value)))
}

/// A new question from the form: its code (from `code_field`), type, texts
/// and, for choices, options; scales get the standard five labelled points.
fn new_question(form: &HashMap<String, String>, code_field: &str) -> Result<Question, AppError> {
    let mut q = scale_question(field(form, code_field), text_pair(form, "label"));
    q.kind = match field(form, "type") {
        "scale" => QuestionType::Scale,
        "single_choice" => QuestionType::SingleChoice,
        "multiple_choice" => QuestionType::MultipleChoice,
        "yes_no" => QuestionType::YesNo,
        "number" => QuestionType::Number,
        "short_text" => QuestionType::ShortText,
        "long_text" => QuestionType::LongText,
        _ => return Err(missing("question type")),
    };
    if q.kind != QuestionType::Scale {
        q.points.clear();
        q.min = None;
        q.max = None;
    }
    if matches!(
        q.kind,
        QuestionType::SingleChoice | QuestionType::MultipleChoice
    ) {
        q.options = parse_options(field(form, "options"));
    }
    Ok(q)
}

/// Applies one editor operation to a definition.
fn apply(def: &mut Definition, form: &HashMap<String, String>) -> Result<(), AppError> {
    let op = field(form, "op");
    match op {
        "title" => def.title = text_pair(form, "title"),
        "add_section" => {
            // A section needs at least one question: the form brings the first.
            let first = new_question(form, "question_code")?;
            def.sections.push(Section {
                code: field(form, "code").to_owned(),
                title: text_pair(form, "title"),
                description: Text::default(),
                questions: vec![first],
                condition: None,
            });
        }
        "edit_section" | "move_section" | "delete_section" => {
            let si = index_of(form, "section")?;
            if si >= def.sections.len() {
                return Err(missing("section"));
            }
            match op {
                "edit_section" => def.sections[si].title = text_pair(form, "title"),
                "delete_section" => {
                    def.sections.remove(si);
                }
                _ => {
                    let to = if field(form, "dir") == "up" {
                        si.checked_sub(1)
                    } else {
                        Some(si + 1)
                    };
                    if let Some(to) = to.filter(|t| *t < def.sections.len()) {
                        def.sections.swap(si, to);
                    }
                }
            }
        }
        "add_question" => {
            let si = index_of(form, "section")?;
            let q = new_question(form, "code")?;
            let section = def.sections.get_mut(si).ok_or_else(|| missing("section"))?;
            section.questions.push(q);
        }
        "edit_question" | "move_question" | "delete_question" => {
            let si = index_of(form, "section")?;
            let qi = index_of(form, "question")?;
            let section = def.sections.get_mut(si).ok_or_else(|| missing("section"))?;
            if qi >= section.questions.len() {
                return Err(missing("question"));
            }
            match op {
                "delete_question" => {
                    section.questions.remove(qi);
                }
                "move_question" => {
                    let to = if field(form, "dir") == "up" {
                        qi.checked_sub(1)
                    } else {
                        Some(qi + 1)
                    };
                    if let Some(to) = to.filter(|t| *t < section.questions.len()) {
                        section.questions.swap(qi, to);
                    }
                }
                _ => {
                    let q = &mut section.questions[qi];
                    q.label = text_pair(form, "label");
                    let help = text_pair(form, "help");
                    q.help = if help.is_empty() {
                        Text::default()
                    } else {
                        help
                    };
                    q.required = form.contains_key("required");
                    if !has_compound_condition(q) {
                        q.condition = condition_of(form)?;
                    }
                    q.dont_know = form.contains_key("dont_know");
                    q.not_applicable = form.contains_key("not_applicable");
                    if matches!(q.kind, QuestionType::Number) {
                        q.min = opt_int(form, "min")?;
                        q.max = opt_int(form, "max")?;
                    }
                    if matches!(
                        q.kind,
                        QuestionType::SingleChoice | QuestionType::MultipleChoice
                    ) {
                        let mut options = parse_options(field(form, "options"));
                        // Cascading-list columns are not edited here: keep them.
                        for o in &mut options {
                            if let Some(old) = q.options.iter().find(|p| p.value == o.value) {
                                o.filters = old.filters.clone();
                            }
                        }
                        q.options = options;
                    }
                    if q.kind == QuestionType::Scale {
                        let element = field(form, "element");
                        let criterion = field(form, "criterion");
                        q.index = if element.is_empty() && criterion.is_empty() {
                            None
                        } else {
                            let previous = q.index.clone();
                            Some(IndexMapping {
                                index: previous.as_ref().and_then(|m| m.index.clone()),
                                element: element.to_owned(),
                                criterion: criterion.to_owned(),
                                weight: previous.as_ref().map_or(1.0, |m| m.weight),
                                reverse: form.contains_key("reverse"),
                                satisfied_min: opt_int(form, "satisfied_min")?.unwrap_or(4),
                            })
                        };
                    }
                }
            }
        }
        _ => {
            return Err(AppError::BadRequest {
                code: "bad_form",
                detail: format!("unknown operation {op:?}"),
            });
        }
    }
    Ok(())
}

#[post("/questionnaires/{id}/edit")]
pub async fn edit(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let id = path.into_inner();
    let (_, mut def) = questionnaires::latest(&state.db, id).await?;
    apply(&mut def, &form)?;
    match questionnaires::save_draft(&state.db, &Actor::staff(user.id, &user.email), id, &def).await
    {
        Ok(_) => Ok(see_other(&format!("/staff/questionnaires/{id}?done=saved"))),
        Err(e) => {
            let errors = problems(lang, e)?;
            edit_page(&state, &user, id, Some(def), errors, None).await
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

#[post("/questionnaires/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let id = path.into_inner();
    match questionnaires::publish(&state.db, &Actor::staff(user.id, &user.email), id).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/questionnaires/{id}?done=published"
        ))),
        Err(QuestionnaireError::NoDraft) => {
            let msg = i18n::t(lang, "error-no_draft", &[]);
            edit_page(&state, &user, id, None, vec![msg], None).await
        }
        Err(QuestionnaireError::NeedsTranslation(missing)) => {
            let count = i18n::Arg::from(missing.len() as u64);
            let msg = i18n::t(lang, "error-needs_translation_count", &[("count", count)]);
            let mut res = edit_page(&state, &user, id, None, vec![msg], None).await?;
            *res.status_mut() = actix_web::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => {
            let errors = problems(lang, e)?;
            edit_page(&state, &user, id, None, errors, None).await
        }
    }
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    /// `phone` (default) or `kiosk`.
    mode: Option<String>,
    /// Section to show on the phone (per-section layout).
    section: Option<usize>,
}

/// `GET /staff/questionnaires/{id}/preview?mode=phone|kiosk&section=N&lang=vi|en`:
/// the newest version exactly as a citizen sees it, rendered by the survey
/// pages themselves from an in-memory campaign. Nothing can be submitted.
#[get("/questionnaires/{id}/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::campaign::{DesignSettings, Layout};
    use crate::routes::respond::{Mode, render_page};
    use crate::services::campaigns::{CampaignLocality, OpenCampaign};
    use crate::views::respond::Step;

    user.require(Area::Questionnaires, Access::Read)?;
    let lang = user.lang;
    let id = path.into_inner();
    let (row, def) = questionnaires::latest(&state.db, id).await?;
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let kiosk = q.mode.as_deref() == Some("kiosk");
    let campaign = OpenCampaign {
        campaign: entity::campaign::Model {
            id: 0,
            slug: "preview".to_owned(),
            name_vi: def.title.get("vi").to_owned(),
            name_en: def.title.get("en").to_owned(),
            questionnaire_version_id: row.id,
            service_id: 0,
            opens_on: today,
            closes_on: today,
            is_public: false,
            layout: "per_section".to_owned(),
            design: "{}".to_owned(),
            sort_order: 0,
            created_at: now,
        },
        service: entity::service::Model {
            id: 0,
            code: "preview".to_owned(),
            name_vi: i18n::t(Lang::Vi, "designer-preview", &[]),
            name_en: i18n::t(Lang::En, "designer-preview", &[]),
        },
        version: row,
        definition: def,
        design: DesignSettings::default(),
        layout: Layout::PerSection,
        localities: vec![CampaignLocality {
            code: "00000".to_owned(),
            level: "commune".to_owned(),
            parent_code: None,
            name_vi: i18n::t(Lang::Vi, "designer-preview", &[]),
            name_en: i18n::t(Lang::En, "designer-preview", &[]),
        }],
    };
    let action = format!("/staff/questionnaires/{id}/preview");
    let mode = if kiosk {
        Mode::for_kiosk("preview", "00000")
    } else {
        Mode::web("preview")
    };
    let mode = Mode {
        action: action.clone(),
        thanks: action.clone(),
        ..mode
    };
    let sections = campaign.definition.sections.len();
    let section = q.section.unwrap_or(0).min(sections.saturating_sub(1));
    let step = if kiosk {
        Step::All
    } else {
        Step::Section(section)
    };
    let page = render_page(
        &campaign,
        &mode,
        lang,
        &action,
        "00000000-0000-4000-8000-000000000000",
        step,
        "00000",
        &serde_json::Map::new(),
        &[],
        false,
        &HashMap::new(),
    );
    let body = crate::templates::render("respond/survey.html", &page)?;
    // A banner above the survey: what this is, and the other views.
    let mode_name = if kiosk { "kiosk" } else { "phone" };
    let mut links = vec![format!(
        "<a href=\"/staff/questionnaires/{id}\">← {}</a>",
        i18n::t(lang, "designer-title", &[])
    )];
    for (m, l) in [
        ("phone", "vi"),
        ("phone", "en"),
        ("kiosk", "vi"),
        ("kiosk", "en"),
    ] {
        links.push(format!(
            "<a href=\"{action}?mode={m}&amp;lang={l}\">{} ({l})</a>",
            i18n::t(lang, &format!("designer-preview-{m}"), &[])
        ));
    }
    if !kiosk {
        for s in 0..sections {
            links.push(format!(
                "<a href=\"{action}?mode=phone&amp;section={s}&amp;lang={}\"{}>{} {}</a>",
                lang.code(),
                if s == section {
                    " aria-current=\"page\""
                } else {
                    ""
                },
                i18n::t(lang, "designer-section", &[]),
                s + 1
            ));
        }
    }
    let banner = format!(
        "<div class=\"notice preview-banner\" role=\"note\"><p><strong>{}</strong> {}</p><p class=\"row\">{}</p></div>",
        i18n::t(lang, "designer-preview", &[]),
        i18n::t(lang, &format!("designer-preview-{mode_name}"), &[]),
        links.join(" ")
    );
    let body = body.replacen(
        "<main id=\"main\">",
        &format!("<main id=\"main\">{banner}"),
        1,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
