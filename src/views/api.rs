//! JSON shapes of the public API.

use serde::Serialize;

use crate::domain::questionnaire::{Choice, ChoiceFilter, Condition, Question, ScalePoint};
use crate::domain::text::Text;
use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;

/// A campaign in `GET /api/v1/campaigns`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignJson<'a> {
    /// The `{campaign}` of every `/api/v1/campaigns/{campaign}/…` path.
    pub slug: &'a str,
    pub name: &'a str,
    /// Code of the public service, e.g. `one_stop`.
    pub service: &'a str,
    pub service_name: &'a str,
    pub opens_on: String,
    pub closes_on: String,
    pub layout: &'static str,
    /// Exactly the codes a response may carry.
    pub localities: Vec<LocalityJson<'a>>,
    pub questionnaire: QuestionnaireJson<'a>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocalityJson<'a> {
    pub code: &'a str,
    pub level: &'a str,
    pub name: &'a str,
    pub parent: Option<&'a str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireJson<'a> {
    pub code: &'a str,
    pub version: i32,
    pub title: &'a Text,
    pub sections: Vec<SectionJson<'a>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SectionJson<'a> {
    pub code: &'a str,
    pub title: &'a Text,
    /// The section is shown only when this holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<&'a Condition>,
    pub questions: Vec<QuestionJson<'a>>,
}

/// A question as clients need it to render and validate an answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionJson<'a> {
    pub code: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    pub label: &'a Text,
    #[serde(skip_serializing_if = "Text::is_empty")]
    pub help: &'a Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub points: &'a [ScalePoint],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub options: &'a [Choice],
    pub dont_know: bool,
    pub not_applicable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<&'a Condition>,
    /// An answer is accepted only when this holds (`"."` is the answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<&'a Condition>,
    #[serde(skip_serializing_if = "Text::is_empty")]
    pub constraint_message: &'a Text,
    /// Required when this holds (`required` is the constant form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_if: Option<&'a Condition>,
    #[serde(skip_serializing_if = "Text::is_empty")]
    pub required_message: &'a Text,
    /// Pre-filled answer; the stored answer of a read-only question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Cascading list: options offered depend on an earlier answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<&'a ChoiceFilter>,
}

impl<'a> QuestionJson<'a> {
    pub fn new(q: &'a Question) -> Self {
        QuestionJson {
            code: &q.code,
            kind: q.kind.as_str(),
            required: q.required,
            label: &q.label,
            help: &q.help,
            min: q.min,
            max: q.max,
            points: &q.points,
            options: &q.options,
            dont_know: q.dont_know,
            not_applicable: q.not_applicable,
            condition: q.condition.as_ref(),
            constraint: q.constraint.as_ref(),
            constraint_message: &q.constraint_message,
            required_if: q.required_if.as_ref(),
            required_message: &q.required_message,
            default: q.default.as_ref(),
            read_only: q.read_only,
            choice_filter: q.choice_filter.as_ref(),
        }
    }
}

impl<'a> CampaignJson<'a> {
    pub fn new(c: &'a OpenCampaign, lang: Lang) -> Self {
        let name = lang.pick(&c.campaign.name_vi, &c.campaign.name_en);
        let service_name = lang.pick(&c.service.name_vi, &c.service.name_en);
        CampaignJson {
            slug: &c.campaign.slug,
            name,
            service: &c.service.code,
            service_name,
            opens_on: c.campaign.opens_on.to_string(),
            closes_on: c.campaign.closes_on.to_string(),
            layout: c.layout.as_str(),
            localities: c
                .localities
                .iter()
                .map(|l| LocalityJson {
                    code: &l.code,
                    level: &l.level,
                    name: l.name(lang),
                    parent: l.parent_code.as_deref(),
                })
                .collect(),
            questionnaire: QuestionnaireJson {
                code: &c.definition.code,
                version: c.version.version,
                title: &c.definition.title,
                sections: c
                    .definition
                    .sections
                    .iter()
                    .map(|s| SectionJson {
                        code: &s.code,
                        title: &s.title,
                        condition: s.condition.as_ref(),
                        questions: s.questions.iter().map(QuestionJson::new).collect(),
                    })
                    .collect(),
            },
        }
    }
}
