//! Contexts of the citizen's survey pages (`/s/{slug}`) and the kiosk.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::answers::{self, Answer};
use crate::domain::flow;
use crate::domain::questionnaire::{
    ChoiceFilter, Condition, LONG_TEXT_MAX, Question, QuestionType, SHORT_TEXT_MAX, Section,
};
use crate::domain::validation::FieldError;
use crate::error::field_message;
use crate::i18n::{self, Lang};
use crate::services::campaigns::OpenCampaign;

use super::Chrome;

pub use crate::domain::flow::Step;

#[derive(Debug, Serialize)]
pub struct SurveyPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub title: String,
    pub campaign: String,
    pub service: String,
    pub intro: String,
    pub action: String,
    pub sid: String,
    pub step: String,
    pub locality: String,
    pub locality_name: String,
    pub progress: Option<Progress>,
    pub sections: Vec<SectionView>,
    pub hidden: Vec<(String, String)>,
    pub can_back: bool,
    pub is_last: bool,
    /// The localities to choose from, by province.
    pub provinces: Vec<ProvinceGroup>,
    /// A long list in two steps: first these provinces (`p`), then the communes of one.
    pub province_choice: Vec<LocalityOption>,
    /// The province chosen on the first step, whose communes `provinces` holds.
    pub province: Option<LocalityOption>,
    pub locality_error: Option<String>,
    pub errors: Vec<ErrorLink>,
    pub more_questions: bool,
    pub other_lang: Vec<LangButton>,
    /// Kiosk mode: big buttons, no header links, auto-reset script.
    pub kiosk: bool,
    /// Kiosk mode: where the script posts JSON submissions.
    pub kiosk_endpoint: String,
}

#[derive(Debug, Serialize)]
pub struct LangButton {
    pub value: String,
    pub code: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Progress {
    pub current: usize,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct ErrorLink {
    pub target: String,
    pub label: String,
    pub message: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ProvinceGroup {
    pub name: String,
    pub options: Vec<LocalityOption>,
}

#[derive(Debug, Serialize)]
pub struct LocalityOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct SectionView {
    pub code: String,
    pub title: String,
    pub description: String,
    /// The words leading into each statement to rate.
    pub lead_in: String,
    pub questions: Vec<QuestionView>,
    /// Hidden by its condition (kiosk pages only keep such sections).
    pub hidden: bool,
    /// The section's condition as JSON, for the kiosk script.
    pub cond: String,
}

#[derive(Debug, Serialize)]
pub struct QuestionView {
    pub code: String,
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub error: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub value: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub maxlength: usize,
    /// Hidden by its condition (kiosk pages only keep such questions).
    pub hidden: bool,
    /// Shown, not editable (its default is stored).
    pub read_only: bool,
    /// Kiosk pages: what the script evaluates ([`LogicQuestion`] as JSON).
    pub logic: String,
    /// Kiosk pages: the question's own messages for a failed constraint and
    /// a missing answer (empty: the general ones).
    pub constraint_msg: String,
    pub required_msg: String,
}

/// The part of a question the kiosk's condition script needs: no texts.
#[derive(Debug, Serialize)]
pub struct LogicQuestion<'a> {
    pub code: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    pub options: Vec<LogicOption<'a>>,
    pub dont_know: bool,
    pub not_applicable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<&'a Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<&'a Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_if: Option<&'a Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'a Value>,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<&'a ChoiceFilter>,
}

#[derive(Debug, Serialize)]
pub struct LogicOption<'a> {
    pub value: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: &'a BTreeMap<String, String>,
}

impl<'a> LogicQuestion<'a> {
    pub fn new(q: &'a Question) -> Self {
        LogicQuestion {
            code: &q.code,
            kind: q.kind.as_str(),
            required: q.required,
            min: q.min,
            max: q.max,
            options: q
                .options
                .iter()
                .map(|o| LogicOption {
                    value: &o.value,
                    filters: &o.filters,
                })
                .collect(),
            dont_know: q.dont_know,
            not_applicable: q.not_applicable,
            condition: q.condition.as_ref(),
            constraint: q.constraint.as_ref(),
            required_if: q.required_if.as_ref(),
            default: q.default.as_ref(),
            read_only: q.read_only,
            choice_filter: q.choice_filter.as_ref(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ChoiceView {
    pub id: String,
    pub value: String,
    pub label: String,
    pub checked: bool,
    /// `dk`/`na`: shown apart from the scale's points.
    pub aside: bool,
    /// Scale point: 1-based position from the bottom, for the kiosk faces.
    pub face: Option<usize>,
    /// Kiosk pages: an option a cascading list does not offer (yet).
    pub hidden: bool,
}

/// What a survey page needs beyond the campaign.
pub struct SurveyState<'a> {
    pub lang: Lang,
    pub path: &'a str,
    pub action: &'a str,
    pub sid: &'a str,
    pub step: Step,
    pub locality: &'a str,
    pub raw: &'a Map<String, Value>,
    pub errors: &'a [FieldError],
    pub more_questions: bool,
    /// The province chosen on the first half of a two-step locality list.
    pub province: Option<&'a str>,
    pub province_names: &'a HashMap<String, (String, String)>,
    pub kiosk: bool,
}

/// A problem's message: the question's own (`message.<lang>` parameters,
/// from `constraint_message` / `required_message`, see [`field_message`])
/// or the general one.
pub fn question_message(lang: Lang, e: &FieldError) -> String {
    field_message(lang, e)
}

impl SurveyPage {
    pub fn new(c: &OpenCampaign, s: &SurveyState) -> SurveyPage {
        let lang = s.lang;
        let pick = |vi: &str, en: &str| lang.pick(vi, en).to_owned();
        let def = &c.definition;
        let walk = answers::shown_answers(def, s.raw);
        let parsed = &walk.answers;
        let errors_by_code: HashMap<&str, &FieldError> = s
            .errors
            .iter()
            .filter_map(|e| e.field.strip_prefix("answers.").map(|code| (code, e)))
            .collect();
        let shown: Vec<(usize, &Section)> = match s.step {
            Step::Locality => Vec::new(),
            Step::Section(i) => def.sections.get(i).map(|x| (i, x)).into_iter().collect(),
            Step::All => def.sections.iter().enumerate().collect(),
        };
        let mut shown_codes = Vec::new();
        let mut offered_tokens = Vec::new();
        let sections: Vec<SectionView> = shown
            .iter()
            .filter_map(|(si, section)| {
                let section_shown = walk.sections.contains(si);
                let questions: Vec<QuestionView> = section
                    .questions
                    .iter()
                    .filter_map(|q| {
                        let visible = walk.shown.contains(&q.code);
                        // A kiosk keeps conditional questions in the page (hidden)
                        // so that its script can show them without the network.
                        if !visible && !s.kiosk {
                            return None;
                        }
                        if visible {
                            shown_codes.push(q.code.clone());
                            offered_tokens.extend(flow::offered_token(q, parsed));
                        }
                        let mut view = question_view(
                            q,
                            lang,
                            s.raw.get(&q.code),
                            errors_by_code.get(q.code.as_str()).copied(),
                            parsed,
                            s.kiosk,
                        );
                        view.hidden = !visible;
                        Some(view)
                    })
                    .collect();
                (!questions.is_empty()).then(|| SectionView {
                    code: section.code.clone(),
                    title: section.title.get(lang.code()).to_owned(),
                    description: section.description.get(lang.code()).to_owned(),
                    lead_in: section.lead_in.get(lang.code()).to_owned(),
                    hidden: !section_shown || questions.iter().all(|q| q.hidden),
                    cond: if s.kiosk {
                        section
                            .condition
                            .as_ref()
                            .and_then(|c| serde_json::to_string(c).ok())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    questions,
                })
            })
            .collect();
        // Answers of questions not on this page travel in hidden fields.
        let mut hidden: Vec<(String, String)> = answers::to_form(s.raw)
            .into_iter()
            .filter(|(name, _)| {
                let code = name.trim_start_matches("a.");
                !shown_codes.iter().any(|c| c == code)
            })
            .collect();
        for code in shown_codes.iter().chain(&offered_tokens) {
            hidden.push(("seen".to_owned(), code.clone()));
        }
        let visible = flow::visible_sections(&c.definition, s.raw);
        let progress = match s.step {
            Step::Section(i) => Some(Progress {
                current: visible.iter().position(|v| *v == i).map_or(1, |p| p + 1),
                total: visible.len(),
            }),
            _ => None,
        };
        let is_last = match s.step {
            Step::Section(i) => visible.last().is_none_or(|l| *l <= i),
            Step::All => true,
            Step::Locality => false,
        };
        let mut errors: Vec<ErrorLink> = Vec::new();
        let mut locality_error = None;
        for e in s.errors {
            if e.field == "locality" {
                let msg = question_message(lang, e);
                errors.push(ErrorLink {
                    target: "locality".to_owned(),
                    label: i18n::t(lang, "survey-locality", &[]),
                    message: msg.clone(),
                });
                locality_error = Some(msg);
            } else if let Some(code) = e.field.strip_prefix("answers.")
                && let Some(q) = def.question(code)
                && shown_codes.iter().any(|c| c == code)
            {
                errors.push(ErrorLink {
                    target: format!("q-{code}"),
                    label: q.label_in(lang.code()).to_owned(),
                    message: question_message(lang, e),
                });
            }
        }
        let (provinces, province_choice, province) = if s.step == Step::Locality {
            locality_lists(c, lang, s.locality, s.province, s.province_names)
        } else {
            (Vec::new(), Vec::new(), None)
        };
        let locality_name = c
            .localities
            .iter()
            .find(|l| l.code == s.locality)
            .map(|l| l.name(lang).to_owned())
            .unwrap_or_default();
        let other_lang = Lang::ALL
            .iter()
            .filter(|l| **l != lang)
            .map(|l| LangButton {
                value: format!("lang-{}", l.code()),
                code: l.code(),
                name: i18n::t(lang, &format!("language-{}", l.code()), &[]),
            })
            .collect();
        SurveyPage {
            chrome: Chrome::new(lang, s.path),
            title: def.title.get(lang.code()).to_owned(),
            campaign: pick(&c.campaign.name_vi, &c.campaign.name_en),
            service: pick(&c.service.name_vi, &c.service.name_en),
            intro: def.description.get(lang.code()).to_owned(),
            action: s.action.to_owned(),
            sid: s.sid.to_owned(),
            step: s.step.as_field(),
            locality: s.locality.to_owned(),
            locality_name,
            progress,
            sections,
            hidden,
            can_back: match s.step {
                Step::Locality => false,
                Step::Section(i) => !s.kiosk || visible.first().is_some_and(|f| *f < i),
                Step::All => !s.kiosk,
            },
            is_last,
            provinces,
            province_choice,
            province,
            locality_error,
            errors,
            more_questions: s.more_questions,
            other_lang,
            kiosk: s.kiosk,
            kiosk_endpoint: format!("{}/responses", s.action),
        }
    }
}

/// Above this many localities in more than one province, the list comes in two steps
/// (province, then its communes), so that a phone never loads thousands of options.
pub const TWO_STEPS_ABOVE: usize = 60;

/// The locality list of the first page: every locality by province; or, for a long list,
/// the provinces to choose from first, then the communes of the chosen one.
fn locality_lists(
    c: &OpenCampaign,
    lang: Lang,
    selected: &str,
    province: Option<&str>,
    names: &HashMap<String, (String, String)>,
) -> (
    Vec<ProvinceGroup>,
    Vec<LocalityOption>,
    Option<LocalityOption>,
) {
    let groups = province_groups(c, lang, selected, names);
    if c.localities.len() <= TWO_STEPS_ABOVE || groups.len() < 2 {
        return (
            groups.into_iter().map(|(_, g)| g).collect(),
            Vec::new(),
            None,
        );
    }
    // The province of a chosen (or refused) locality stays chosen.
    let chosen = province.map(str::to_owned).or_else(|| {
        c.localities
            .iter()
            .find(|l| l.code == selected)
            .and_then(|l| l.parent_code.clone())
    });
    if let Some((code, group)) = groups
        .iter()
        .find(|(code, _)| Some(code) == chosen.as_ref())
    {
        let option = LocalityOption {
            code: code.clone(),
            name: group.name.clone(),
            selected: true,
        };
        let (_, group) = groups
            .into_iter()
            .find(|(c, _)| *c == option.code)
            .unwrap_or_default();
        return (vec![group], Vec::new(), Some(option));
    }
    // In the campaign's order (the national order of codes, north to south).
    let choice = groups
        .into_iter()
        .map(|(code, g)| LocalityOption {
            code,
            name: g.name,
            selected: false,
        })
        .collect();
    (Vec::new(), choice, None)
}

fn province_groups(
    c: &OpenCampaign,
    lang: Lang,
    selected: &str,
    names: &HashMap<String, (String, String)>,
) -> Vec<(String, ProvinceGroup)> {
    let mut groups: Vec<(String, ProvinceGroup)> = Vec::new();
    for l in &c.localities {
        let parent = l.parent_code.clone().unwrap_or_default();
        let name = names
            .get(&parent)
            .map(|(vi, en)| lang.pick(vi, en).to_owned())
            .unwrap_or_else(|| parent.clone());
        let option = LocalityOption {
            code: l.code.clone(),
            name: l.name(lang).to_owned(),
            selected: l.code == selected,
        };
        match groups.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, g)) => g.options.push(option),
            None => groups.push((
                parent,
                ProvinceGroup {
                    name,
                    options: vec![option],
                },
            )),
        }
    }
    groups
}

fn question_view(
    q: &Question,
    lang: Lang,
    raw: Option<&Value>,
    error: Option<&FieldError>,
    parsed: &BTreeMap<String, Answer>,
    kiosk: bool,
) -> QuestionView {
    let l = lang.code();
    let id = format!("q-{}", q.code);
    // A read-only question always shows its default; another shows it until
    // answered.
    let raw = if q.read_only {
        q.default.as_ref()
    } else {
        raw.or(q.default.as_ref())
    };
    let raw_strings: Vec<String> = match raw {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Bool(true)) => vec!["yes".to_owned()],
        Some(Value::Bool(false)) => vec!["no".to_owned()],
        _ => Vec::new(),
    };
    let checked = |v: &str| raw_strings.iter().any(|r| r == v);
    let mut choices: Vec<ChoiceView> = match q.kind {
        QuestionType::Scale => {
            let mut points = q.points.clone();
            points.sort_by_key(|p| p.value);
            let min = q.min.unwrap_or(1);
            // Faces (kiosk) only for the usual five-point satisfaction scale.
            let faces = points.len() == 5;
            points
                .iter()
                .map(|p| ChoiceView {
                    id: format!("{id}-{}", p.value),
                    value: p.value.to_string(),
                    label: p.label.get(l).to_owned(),
                    checked: checked(&p.value.to_string()),
                    aside: false,
                    face: usize::try_from(p.value - min + 1).ok().filter(|_| faces),
                    hidden: false,
                })
                .collect()
        }
        // A cascading list offers the options its filter lets through: the
        // phone page lists only those, the kiosk page all (its script hides
        // the others as answers change).
        QuestionType::SingleChoice | QuestionType::MultipleChoice => q
            .options
            .iter()
            .filter_map(|o| {
                let offered = answers::option_offered(q, o, parsed);
                (offered || kiosk).then(|| ChoiceView {
                    id: format!("{id}-{}", o.value),
                    value: o.value.clone(),
                    label: o.label.get(l).to_owned(),
                    checked: offered && checked(&o.value),
                    aside: false,
                    face: None,
                    hidden: !offered,
                })
            })
            .collect(),
        QuestionType::YesNo => ["yes", "no"]
            .iter()
            .map(|v| ChoiceView {
                id: format!("{id}-{v}"),
                value: (*v).to_owned(),
                label: i18n::t(lang, &format!("survey-{v}"), &[]),
                checked: checked(v),
                aside: false,
                face: None,
                hidden: false,
            })
            .collect(),
        _ => Vec::new(),
    };
    if !matches!(q.kind, QuestionType::ShortText | QuestionType::LongText) {
        for (offered, value, key) in [
            (q.dont_know, "dk", "survey-dont-know"),
            (q.not_applicable, "na", "survey-not-applicable"),
        ] {
            if offered {
                choices.push(ChoiceView {
                    id: format!("{id}-{value}"),
                    value: value.to_owned(),
                    label: i18n::t(lang, key, &[]),
                    checked: checked(value),
                    aside: true,
                    face: None,
                    hidden: false,
                });
            }
        }
    }
    QuestionView {
        code: q.code.clone(),
        id,
        name: format!("a.{}", q.code),
        kind: q.kind.as_str(),
        label: q.label_in(l).to_owned(),
        help: q.help.get(l).to_owned(),
        required: answers::is_required(q, parsed),
        error: error.map(|e| question_message(lang, e)),
        choices,
        value: if matches!(
            q.kind,
            QuestionType::ShortText | QuestionType::LongText | QuestionType::Number
        ) {
            raw_strings.first().cloned().unwrap_or_default()
        } else {
            String::new()
        },
        min: q.min,
        max: q.max,
        maxlength: if q.kind == QuestionType::ShortText {
            SHORT_TEXT_MAX
        } else {
            LONG_TEXT_MAX
        },
        hidden: false,
        read_only: q.read_only,
        logic: if kiosk {
            serde_json::to_string(&LogicQuestion::new(q)).unwrap_or_default()
        } else {
            String::new()
        },
        constraint_msg: q.constraint_message.get(l).to_owned(),
        required_msg: q.required_message.get(l).to_owned(),
    }
}

#[derive(Debug, Serialize)]
pub struct ThanksPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub campaign: String,
    /// A kiosk's next respondent starts here; a personal phone is offered no
    /// "answer again" (it would invite duplicates).
    pub again: Option<String>,
    /// The campaign's public results, if it has them.
    pub results: Option<String>,
    pub kiosk: bool,
}
