//! The editor of one questionnaire: the page, and one change at a time
//! (the operations are [`crate::domain::editor`]'s).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::domain::editor::{self, editable_leaf, has_compound_condition, options_text};
use crate::domain::questionnaire::{Definition, Question};
use crate::domain::text::Text;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::staff::{render, see_other};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::questionnaires;
use crate::views::staff::questionnaires::{CountOption, EditPage, QuestionView, SectionView};

use super::logic::{describe, logic_words};
use super::words::{Placed, placed};

/// A malformed editor form: 400, as before the operations moved to the domain.
fn bad_form(e: FieldError) -> AppError {
    AppError::BadRequest {
        code: "bad_form",
        detail: editor::detail(&e),
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

/// A choice question's options, ticked when its index mapping counts them; then the
/// values the mapping names that the question does not have (a refused change shown
/// again), ticked, so that the designer can untick them.
fn count_options(q: &Question, lang: Lang) -> Vec<CountOption> {
    let counted = q.index.as_ref().map_or(&[][..], |m| m.options.as_slice());
    let known = q.options.iter().map(|o| CountOption {
        value: o.value.clone(),
        label: o.label.get(lang.code()).to_owned(),
        counted: counted.contains(&o.value),
    });
    let unknown = counted
        .iter()
        .filter(|v| !q.options.iter().any(|o| &o.value == *v))
        .map(|v| CountOption {
            value: v.clone(),
            label: String::new(),
            counted: true,
        });
    known.chain(unknown).collect()
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
            lead_in_vi: s.lead_in.0.get("vi").cloned().unwrap_or_default(),
            lead_in_en: en(&s.lead_in),
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
                    count_options: count_options(q, lang),
                    cap: q
                        .index
                        .as_ref()
                        .and_then(|m| m.cap)
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    cond_question: editable_leaf(q)
                        .map(|c| c.question.clone())
                        .unwrap_or_default(),
                    cond_op: editable_leaf(q).map_or("answered", |c| c.op.as_str()),
                    cond_value: editable_leaf(q)
                        .and_then(|c| c.value.as_ref())
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default(),
                    dont_know: q.dont_know,
                    not_applicable: q.not_applicable,
                    errors: Vec::new(),
                })
                .collect(),
            errors: Vec::new(),
        })
        .collect()
}

/// Puts each problem in the form of its section or question.
fn place(sections: &mut [SectionView], at: &[Placed]) {
    for p in at {
        let Some(s) = p.section.and_then(|i| sections.get_mut(i)) else {
            continue;
        };
        match p.question.and_then(|i| s.questions.get_mut(i)) {
            Some(q) => q.errors.push(p.at_field.clone()),
            None => s.errors.push(p.at_field.clone()),
        }
    }
}

pub(super) async fn edit_page(
    state: &AppState,
    user: &StaffUser,
    id: i64,
    shown: Option<Definition>,
    (errors, at): (Vec<String>, Vec<Placed>),
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let summary = questionnaires::get(&state.db, id).await?;
    let (row, stored) = questionnaires::latest(&state.db, id).await?;
    let def = shown.unwrap_or(stored);
    let failed = !errors.is_empty();
    let mut sections = views(&def, lang);
    place(&mut sections, &at);
    let page = EditPage {
        version: row.version,
        status: row.status.clone(),
        checksum: row.checksum.clone(),
        title_vi: def.title.get("vi").to_owned(),
        title_en: def.title.0.get("en").cloned().unwrap_or_default(),
        sections,
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
    edit_page(
        &state,
        &user,
        path.into_inner(),
        None,
        (vec![], vec![]),
        notice,
    )
    .await
}

#[post("/questionnaires/{id}/edit")]
pub async fn edit(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<editor::Form>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Questionnaires, Access::Write)?;
    let lang = user.lang;
    let id = path.into_inner();
    let (_, mut def) = questionnaires::latest(&state.db, id).await?;
    editor::apply(&mut def, &form).map_err(bad_form)?;
    match questionnaires::save_draft(&state.db, &Actor::staff(user.id, &user.email), id, &def).await
    {
        Ok(_) => Ok(see_other(&format!("/staff/questionnaires/{id}?done=saved"))),
        // Each problem in words, at its field; the page shows the change as typed.
        Err(e) => match AppError::from(e) {
            AppError::Validation(list) => {
                let at = placed(&def, lang, &list);
                let errors = at.iter().map(|p| p.summary.clone()).collect();
                edit_page(&state, &user, id, Some(def), (errors, at), None).await
            }
            other => Err(other),
        },
    }
}
