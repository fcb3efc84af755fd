//! The citizen's survey as a pure state machine.
//!
//! A survey page is a plain HTML form: the answers given so far travel in
//! its fields (the server keeps no session), with the step it showed, the
//! submission id and the locality. [`Survey::advance`] takes those fields and
//! decides what comes next — the same page with its problems, another page,
//! or a finished submission to store — for a questionnaire, a layout and a
//! fixed or chosen locality. It does no input/output: the phone survey, the
//! kiosk and the invitation link call it, render the page it names or hand
//! the submission to the one use case that stores responses.
//!
//! Decoding the posted body ([`parse_form_body`]) is here too, so that
//! everything between the bytes a browser sends and a stored response can
//! be tested (and fuzzed) without HTTP.

use std::collections::{BTreeMap, HashSet};

use percent_encoding::percent_decode;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::answer::Answer;
use super::answers;
use super::campaign::Layout;
use super::questionnaire::{Definition, Question};
use super::validation::FieldError;

/// Where the respondent is in the survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Choosing the locality.
    Locality,
    /// One section (per-section layout), by index.
    Section(usize),
    /// Every section (one-page layout).
    All,
}

impl Step {
    /// The value of the page's `step` field.
    pub fn as_field(self) -> String {
        match self {
            Step::Locality => "locality".to_owned(),
            Step::Section(i) => i.to_string(),
            Step::All => "all".to_owned(),
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        match s {
            "locality" => Some(Step::Locality),
            "all" => Some(Step::All),
            n => n.parse().ok().map(Step::Section),
        }
    }
}

/// A survey as the flow sees it.
pub struct Survey<'a> {
    pub definition: &'a Definition,
    /// One page, or a page per section (a kiosk always shows one page).
    pub layout: Layout,
    /// A kiosk's locality; `None` when the respondent chooses it.
    pub fixed_locality: Option<&'a str>,
    /// Whether a locality code is one the campaign surveys.
    pub offers_locality: &'a dyn Fn(&str) -> bool,
    /// The interface languages a `lang-xx` button may switch to.
    pub languages: &'a [&'a str],
}

/// What the page shows: its submission id, locality and answers so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub sid: String,
    pub locality: String,
    /// The answers given so far (raw form values), hidden ones removed.
    pub raw: Map<String, Value>,
}

/// The next page to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub step: Step,
    /// Problems with what was just submitted, by field.
    pub errors: Vec<FieldError>,
    /// Questions appeared because of answers on this page: they must be seen.
    pub more_questions: bool,
    /// The first of those questions (the page scrolls to it).
    pub new_question: Option<String>,
    /// The province chosen on the first half of a two-step locality list (`p`).
    pub province: Option<String>,
    /// The respondent asked for another interface language (its code).
    pub switch_language: Option<String>,
}

impl Page {
    fn plain(step: Step) -> Page {
        Page {
            step,
            errors: Vec::new(),
            more_questions: false,
            new_question: None,
            province: None,
            switch_language: None,
        }
    }
}

/// What follows a posted page.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Show(Page),
    /// The last page was complete: store the response (its answers are
    /// [`Progress::raw`], its id [`Progress::sid`]).
    Submit,
}

/// The fields of a posted page, by name.
struct Fields<'a>(&'a [(String, String)]);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> HashSet<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl Survey<'_> {
    /// The first step of a survey for these answers (after the locality).
    pub fn first_step(&self, raw: &Map<String, Value>) -> Step {
        match self.layout {
            Layout::OnePage => Step::All,
            Layout::PerSection => Step::Section(
                visible_sections(self.definition, raw)
                    .first()
                    .copied()
                    .unwrap_or(0),
            ),
        }
    }

    /// The step of a survey's very first page: the locality list, unless the
    /// locality is fixed or already chosen (`?l=` of a printed link).
    pub fn start(&self, chosen: Option<&str>) -> Step {
        let known = self
            .fixed_locality
            .or(chosen)
            .is_some_and(|l| (self.offers_locality)(l));
        if known {
            self.first_step(&Map::new())
        } else {
            Step::Locality
        }
    }

    /// Whether `step` is a page this survey may show for these answers (a step
    /// named in an address may be stale or made up): the locality list unless
    /// the locality is fixed, a section shown for the answers (per-section
    /// layout), or the whole survey (one-page layout).
    pub fn may_show(&self, raw: &Map<String, Value>, step: Step) -> bool {
        match (step, self.layout) {
            (Step::Locality, _) => self.fixed_locality.is_none(),
            (Step::Section(i), Layout::PerSection) => {
                visible_sections(self.definition, raw).contains(&i)
            }
            (Step::All, Layout::OnePage) => true,
            _ => false,
        }
    }

    /// The page that shows problems found when storing a finished response:
    /// the section of the first question named (per-section layout).
    pub fn page_for(&self, current: Step, errors: Vec<FieldError>) -> Page {
        let target = errors
            .iter()
            .find_map(|e| e.field.strip_prefix("answers."))
            .and_then(|code| {
                self.definition
                    .sections
                    .iter()
                    .position(|s| s.questions.iter().any(|q| q.code == code))
            });
        let step = match (self.layout, target) {
            (Layout::PerSection, Some(i)) => Step::Section(i),
            (Layout::PerSection, None) => current,
            (Layout::OnePage, _) => Step::All,
        };
        Page {
            errors,
            ..Page::plain(step)
        }
    }

    /// One step of the survey: what was just posted, and what follows.
    pub fn advance(&self, fields: &[(String, String)]) -> (Progress, Step, Next) {
        let def = self.definition;
        let fields = Fields(fields);
        let sid = fields
            .get("sid")
            .and_then(|s| Uuid::try_parse(s).ok())
            .unwrap_or_else(Uuid::new_v4)
            .hyphenated()
            .to_string();
        let nav = fields.get("nav").unwrap_or("next");
        let locality = self
            .fixed_locality
            .or_else(|| fields.get("l"))
            .unwrap_or_default()
            .to_owned();
        let locality_ok = (self.offers_locality)(&locality);
        let mut raw = answers::from_form(def, fields.0);
        answers::prune_hidden(def, &mut raw);
        let mut current =
            Step::parse(fields.get("step").unwrap_or("locality")).unwrap_or(Step::Locality);
        let out_of_layout = match current {
            Step::Section(i) => self.layout == Layout::OnePage || i >= def.sections.len(),
            Step::All => self.layout == Layout::PerSection,
            Step::Locality => false,
        };
        if out_of_layout {
            current = self.first_step(&raw);
        }
        let progress = Progress { sid, locality, raw };
        let next = self.decide(&progress, current, nav, locality_ok, &fields);
        (progress, current, next)
    }

    fn decide(
        &self,
        p: &Progress,
        current: Step,
        nav: &str,
        locality_ok: bool,
        fields: &Fields,
    ) -> Next {
        let def = self.definition;
        let show = |page: Page| Next::Show(page);
        if let Some(code) = nav
            .strip_prefix("lang-")
            .filter(|c| self.languages.contains(c))
        {
            return show(Page {
                switch_language: Some(code.to_owned()),
                ..Page::plain(current)
            });
        }
        if current == Step::Locality || !locality_ok {
            if locality_ok {
                return show(Page::plain(self.first_step(&p.raw)));
            }
            // A province chosen on the first half of a two-step list: its communes next.
            let province = fields.get("p").filter(|p| !p.is_empty()).map(str::to_owned);
            let code = if p.locality.is_empty() {
                "answer_required"
            } else {
                "unknown_locality"
            };
            let chose_province = province.is_some() && p.locality.is_empty();
            let errors =
                if current == Step::Locality && fields.get("step").is_some() && !chose_province {
                    vec![FieldError::new("locality", code)]
                } else {
                    Vec::new()
                };
            return show(Page {
                errors,
                province,
                ..Page::plain(Step::Locality)
            });
        }
        let visible = visible_sections(def, &p.raw);
        if nav == "back" {
            let prev = match current {
                Step::Section(i) => visible.iter().rev().find(|v| **v < i).copied(),
                _ => None,
            };
            return show(Page::plain(match prev {
                Some(p) => Step::Section(p),
                None if self.fixed_locality.is_none() => Step::Locality,
                None => current,
            }));
        }
        // Check the page just submitted.
        let on_page: Vec<usize> = match current {
            Step::Section(i) => vec![i],
            _ => (0..def.sections.len()).collect(),
        };
        let in_page = |code: &str| {
            on_page
                .iter()
                .any(|i| def.sections[*i].questions.iter().any(|q| q.code == code))
        };
        if let Err(errors) = answers::parse_with(def, &p.raw, |q| in_page(&q.code)) {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .filter(|e| e.field.strip_prefix("answers.").is_some_and(in_page))
                .collect();
            if !errors.is_empty() {
                return show(Page {
                    errors,
                    ..Page::plain(current)
                });
            }
        }
        // Questions that appeared because of answers on this page must be seen.
        let seen = fields.all("seen");
        let walk = answers::shown_answers(def, &p.raw);
        let unseen = def
            .questions()
            .filter(|q| in_page(&q.code) && walk.shown.contains(&q.code))
            .find(|q| {
                !seen.contains(q.code.as_str())
                    || offered_token(q, &walk.answers).is_some_and(|t| !seen.contains(t.as_str()))
            });
        if let Some(q) = unseen {
            return show(Page {
                more_questions: true,
                new_question: Some(q.code.clone()),
                ..Page::plain(current)
            });
        }
        if let Step::Section(i) = current
            && let Some(next) = visible.iter().find(|v| **v > i)
        {
            return show(Page::plain(Step::Section(*next)));
        }
        Next::Submit
    }
}

/// The sections with at least one question shown for these answers.
pub fn visible_sections(def: &Definition, raw: &Map<String, Value>) -> Vec<usize> {
    let walk = answers::shown_answers(def, raw);
    walk.sections
        .iter()
        .copied()
        .filter(|i| {
            def.sections[*i]
                .questions
                .iter()
                .any(|q| walk.shown.contains(&q.code))
        })
        .collect()
}

/// The `seen` token of a cascading list: its code and the options the page
/// offered, so that a change of the offered options shows the page again.
pub fn offered_token(q: &Question, parsed: &BTreeMap<String, Answer>) -> Option<String> {
    q.choice_filter.as_ref()?;
    let values: Vec<&str> = answers::offered_options(q, parsed)
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    Some(format!("{}={}", q.code, values.join(",")))
}

/// Why a posted body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A percent-decoded name or value is not UTF-8.
    #[error("the form is not UTF-8")]
    NotUtf8,
    #[error("the form cannot be read: {0}")]
    Unreadable(String),
}

/// Decodes a survey form body (`application/x-www-form-urlencoded`) into its
/// fields, refusing one whose percent-decoded names or values are not UTF-8
/// (a lenient decoder would silently turn bad bytes into U+FFFD). Total: any
/// bytes give fields or an error, never a panic.
pub fn parse_form_body(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    if !form_is_utf8(body) {
        return Err(FormError::NotUtf8);
    }
    serde_urlencoded::from_bytes(body).map_err(|e| FormError::Unreadable(e.to_string()))
}

/// True when every percent-decoded name and value of a form body is UTF-8.
pub fn form_is_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&' || *b == b'=').all(|part| {
        // `+` is a space in a form; it cannot make bytes invalid.
        percent_decode(part).decode_utf8().is_ok()
    })
}
