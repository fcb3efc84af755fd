//! Campaign settings: how answers are collected and how results are estimated.

use serde::{Deserialize, Serialize};

/// How the survey pages are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    OnePage,
    PerSection,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::OnePage => "one_page",
            Layout::PerSection => "per_section",
        }
    }

    pub fn parse(s: &str) -> Option<Layout> {
        match s {
            "one_page" => Some(Layout::OnePage),
            "per_section" => Some(Layout::PerSection),
            _ => None,
        }
    }
}

/// The way a response reached Hailong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Kiosk,
    Email,
    Interview,
    Paper,
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Kiosk => "kiosk",
            Channel::Email => "email",
            Channel::Interview => "interview",
            Channel::Paper => "paper",
            Channel::Api => "api",
        }
    }
}

/// Sampling design and publication settings of a campaign, stored as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DesignSettings {
    /// Estimates from fewer respondents are suppressed.
    pub min_n: u32,
    /// Estimates for a locality with fewer own PSUs − strata are suppressed.
    pub min_df: u32,
    /// Answers at or above this count as satisfied unless a question says otherwise.
    pub satisfied_min: i64,
    /// The index shown first; defaults to the questionnaire's first index.
    pub main_index: Option<String>,
    /// Variables whose population margins calibrate the weights
    /// (one: post-stratification; several: raking).
    pub calibration: Vec<String>,
    /// What to do with a stratum that has a single PSU.
    pub lonely_psu: String,
    /// When results are published (daily at 00:00 Asia/Ho_Chi_Minh by default).
    pub publication: super::publication::Schedule,
}

impl Default for DesignSettings {
    fn default() -> Self {
        DesignSettings {
            min_n: 30,
            min_df: 8,
            satisfied_min: 4,
            main_index: None,
            calibration: Vec::new(),
            lonely_psu: "adjust".to_owned(),
            publication: super::publication::Schedule::Daily,
        }
    }
}

/// The service a campaign on a questionnaire is most likely about, from the questionnaire's
/// code (the presets' codes and their copies): the SIPAS and PAPI instruments ask about
/// one-stop desks and local administration, the MoH forms and the hospital preset about a
/// public hospital, the parents' survey about a public school. `None`: staff choose.
pub fn default_service(questionnaire_code: &str) -> Option<&'static str> {
    let code = questionnaire_code.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| code.contains(w));
    if has(&["sipas", "papi", "one-stop", "one_stop", "mot-cua"]) {
        Some("one_stop")
    } else if has(&["health", "hospital", "moh", "patient", "benh-vien"]) {
        Some("hospital")
    } else if has(&["school", "education", "parent", "truong"]) {
        Some("school")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::default_service;

    #[test]
    fn a_campaign_s_service_follows_its_questionnaire() {
        assert_eq!(default_service("sipas-2640"), Some("one_stop"));
        assert_eq!(default_service("papi-governance"), Some("one_stop"));
        assert_eq!(default_service("health-hospital"), Some("hospital"));
        assert_eq!(default_service("moh-56-inpatient"), Some("hospital"));
        assert_eq!(default_service("education-school-parents"), Some("school"));
        assert_eq!(default_service("my-own-survey"), None);
    }
}
