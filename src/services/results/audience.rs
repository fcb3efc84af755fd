//! Who sees which results: the one access policy that the pages, the API, the targets, the
//! fieldwork counts, the comparisons, the downloads and the reports all ask.
//!
//! An account may be restricted to a list of localities. It then sees a locality when the
//! locality itself or its parent is in the list: a province account sees its province and
//! that province's communes, a commune account its commune, and only an unrestricted account
//! sees the national row. An empty list (or one that cannot be read) sees nothing: the
//! policy fails closed. A public campaign's results are
//! everyone's to read in full, whoever asks.

use std::collections::HashSet;
use std::sync::Arc;

use crate::auth::{Access, Area, Role};
use crate::error::AppError;

use super::model::{CampaignResults, Published};

/// The localities whose results someone may see (`None`: all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    localities: Option<Vec<String>>,
}

/// The account asking for results, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub role: Role,
    /// The localities the account is restricted to (`None`: none).
    pub localities: Option<Vec<String>>,
}

impl Audience {
    /// Sees every locality.
    pub fn everyone() -> Audience {
        Audience { localities: None }
    }

    /// An account's own restriction (`None`: every locality; an empty list: none), whatever
    /// the campaign: the staff pages that manage a campaign's targets.
    pub fn account(localities: Option<Vec<String>>) -> Audience {
        Audience { localities }
    }

    /// What an account sees of one campaign: everything when the campaign is public, else
    /// the account's own restriction.
    pub fn of_campaign(public: bool, localities: Option<Vec<String>>) -> Audience {
        if public {
            Audience::everyone()
        } else {
            Audience::account(localities)
        }
    }

    /// Who may read a campaign's results. A public campaign: everyone, without an account
    /// (`account` is then never awaited, so a request is not refused for its credentials).
    /// Otherwise an account whose role may read results: 401 without an account, 403 for
    /// other roles; it sees what [`Audience::of_campaign`] says.
    pub async fn reading(
        public: bool,
        account: impl Future<Output = Result<Option<Reader>, AppError>>,
    ) -> Result<Audience, AppError> {
        if public {
            return Ok(Audience::everyone());
        }
        match account.await? {
            Some(reader) if reader.role.can(Area::Results, Access::Read) => {
                Ok(Audience::account(reader.localities))
            }
            Some(_) => Err(AppError::Forbidden),
            None => Err(AppError::Unauthorized),
        }
    }

    /// The audience of two campaigns read together (a comparison of waves): restricted when
    /// either is. Both come from the same account, so a restriction is the same list in both
    /// (a public wave shows everything, so the other wave's rule is the one that restricts).
    pub fn together(self, other: Audience) -> Audience {
        Audience {
            localities: self.localities.or(other.localities),
        }
    }

    /// True when some localities are hidden.
    pub fn is_restricted(&self) -> bool {
        self.localities.is_some()
    }

    /// True when this audience sees the locality `code`, whose parent is `parent`.
    pub fn sees(&self, code: &str, parent: Option<&str>) -> bool {
        match &self.localities {
            None => true,
            Some(list) => list.iter().any(|a| a == code || Some(a.as_str()) == parent),
        }
    }

    /// [`Audience::sees`] for a locality of the results, with its parent as they give it
    /// (a code the results do not hold has no parent).
    pub fn sees_in(&self, results: &CampaignResults, code: &str) -> bool {
        let parent = results.locality(code).and_then(|l| l.parent.as_deref());
        self.sees(code, parent)
    }

    /// The results as this audience may see them: only the rows and localities it sees, and
    /// the responses of those localities (the national total is not a restricted account's
    /// to see). Unrestricted: a copy of all.
    pub fn results(&self, full: &CampaignResults) -> CampaignResults {
        if !self.is_restricted() {
            return full.clone();
        }
        let shown: HashSet<&str> = full
            .localities
            .iter()
            .filter(|l| self.sees(&l.code, l.parent.as_deref()))
            .map(|l| l.code.as_str())
            .collect();
        // Responses of the shown localities whose parent is not shown too (no double count).
        let responses = full
            .localities
            .iter()
            .filter(|l| shown.contains(l.code.as_str()))
            .filter(|l| !l.parent.as_deref().is_some_and(|p| shown.contains(p)))
            .map(|l| l.responses)
            .sum();
        CampaignResults {
            rows: full
                .rows
                .iter()
                .filter(|r| shown.contains(r.locality.as_str()))
                .cloned()
                .collect(),
            localities: full
                .localities
                .iter()
                .filter(|l| shown.contains(l.code.as_str()))
                .cloned()
                .collect(),
            nodes: full.nodes.clone(),
            main_index: full.main_index.clone(),
            responses,
            df: full.df,
            min_n: full.min_n,
            min_df: full.min_df,
            calibration: full.calibration.clone(),
            skipped_indices: full.skipped_indices.clone(),
            small_area: full.small_area.restricted(|code| shown.contains(code)),
        }
    }

    /// A publication as this audience may see it (see [`Audience::results`]).
    pub fn published(&self, full: &Published) -> Published {
        if !self.is_restricted() {
            return full.clone();
        }
        Published {
            results: Arc::new(self.results(&full.results)),
            ..full.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::services::results::model::{
        CalibrationNote, Level, NATIONAL, ResultLocality, ResultRow,
    };

    fn locality(code: &str, level: Level, parent: Option<&str>, responses: u64) -> ResultLocality {
        ResultLocality {
            code: code.to_owned(),
            level,
            parent: parent.map(str::to_owned),
            name_vi: code.to_owned(),
            name_en: code.to_owned(),
            responses,
        }
    }

    fn row(level: Level, code: &str) -> ResultRow {
        ResultRow {
            level,
            locality: code.to_owned(),
            index: "SIPAS".to_owned(),
            estimate: Some(0.8),
            se: Some(0.01),
            ci_low: Some(0.78),
            ci_high: Some(0.82),
            df: 40,
            n: 100,
            deff: Some(1.2),
            own_df: 10,
            suppressed: false,
            reason: None,
        }
    }

    /// The country, two provinces (01 with communes 00004 and 00007, 79 with 26734).
    fn results() -> CampaignResults {
        let localities = vec![
            locality(NATIONAL, Level::National, None, 300),
            locality("01", Level::Province, Some(NATIONAL), 200),
            locality("79", Level::Province, Some(NATIONAL), 100),
            locality("00004", Level::Commune, Some("01"), 120),
            locality("00007", Level::Commune, Some("01"), 80),
            locality("26734", Level::Commune, Some("79"), 100),
        ];
        CampaignResults {
            rows: localities.iter().map(|l| row(l.level, &l.code)).collect(),
            localities,
            nodes: Vec::new(),
            main_index: Some("SIPAS".to_owned()),
            responses: 300,
            df: 40,
            min_n: 30,
            min_df: 8,
            calibration: CalibrationNote::None,
            skipped_indices: Vec::new(),
            small_area: Default::default(),
        }
    }

    fn codes(r: &CampaignResults) -> Vec<&str> {
        r.localities.iter().map(|l| l.code.as_str()).collect()
    }

    fn list(codes: &[&str]) -> Option<Vec<String>> {
        Some(codes.iter().map(|c| (*c).to_owned()).collect())
    }

    #[test]
    fn a_locality_is_seen_when_it_or_its_parent_is_listed() {
        let province = Audience::account(list(&["01"]));
        assert!(province.sees("01", Some(NATIONAL)));
        assert!(province.sees("00004", Some("01")));
        assert!(!province.sees("79", Some(NATIONAL)));
        assert!(!province.sees("26734", Some("79")));
        assert!(!province.sees(NATIONAL, None));
        // The grandparent does not count: only the locality and its parent.
        let country = Audience::account(list(&[NATIONAL]));
        assert!(country.sees("01", Some(NATIONAL)));
        assert!(!country.sees("00004", Some("01")));
    }

    #[test]
    fn no_list_sees_everything_and_an_empty_list_nothing() {
        for audience in [Audience::everyone(), Audience::account(None)] {
            assert!(!audience.is_restricted());
            assert!(audience.sees(NATIONAL, None));
            assert!(audience.sees("26734", Some("79")));
        }
        let nothing = Audience::account(Some(Vec::new()));
        assert!(nothing.is_restricted());
        assert!(!nothing.sees(NATIONAL, None));
        assert!(!nothing.sees("79", Some(NATIONAL)));
        assert!(!nothing.sees("26734", Some("79")));
    }

    #[test]
    fn a_public_campaign_is_seen_whole_by_a_restricted_account() {
        assert!(!Audience::of_campaign(true, list(&["01"])).is_restricted());
        assert!(Audience::of_campaign(false, list(&["01"])).is_restricted());
        assert!(!Audience::of_campaign(false, None).is_restricted());
    }

    #[test]
    fn sees_in_takes_the_parent_from_the_results() {
        let r = results();
        let commune = Audience::account(list(&["00007"]));
        assert!(commune.sees_in(&r, "00007"));
        assert!(!commune.sees_in(&r, "00004"));
        assert!(!commune.sees_in(&r, "01"));
        let province = Audience::account(list(&["79"]));
        assert!(province.sees_in(&r, "26734"));
        // A code the results do not hold has no parent to go by.
        assert!(!province.sees_in(&r, "99999"));
        assert!(province.sees_in(&r, "79"));
    }

    #[test]
    fn results_keep_the_seen_rows_and_count_their_responses_once() {
        let full = results();
        let shown = Audience::account(list(&["01"])).results(&full);
        assert_eq!(codes(&shown), ["01", "00004", "00007"]);
        assert!(shown.rows.iter().all(|r| r.locality != "79"));
        assert_eq!(shown.rows.len(), 3);
        // The province's 200, not 200 + its communes' 120 + 80, and not the national 300.
        assert_eq!(shown.responses, 200);
        // Two communes of different provinces: both counted.
        let communes = Audience::account(list(&["00004", "26734"])).results(&full);
        assert_eq!(codes(&communes), ["00004", "26734"]);
        assert_eq!(communes.responses, 220);
        // Everything else is kept as it is.
        assert_eq!(communes.main_index, full.main_index);
        assert_eq!(communes.df, full.df);
        assert_eq!(Audience::everyone().results(&full), full);
    }

    #[test]
    fn a_published_copy_keeps_its_number_and_date() {
        let full = Published {
            results: Arc::new(results()),
            number: 3,
            published_on: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
        };
        let shown = Audience::account(list(&["79"])).published(&full);
        assert_eq!(shown.number, 3);
        assert_eq!(shown.published_on, full.published_on);
        assert_eq!(codes(&shown.results), ["79", "26734"]);
    }

    #[test]
    fn two_waves_read_together_are_restricted_when_either_is() {
        let restricted = || Audience::account(list(&["01"]));
        assert!(restricted().together(Audience::everyone()).is_restricted());
        assert!(Audience::everyone().together(restricted()).is_restricted());
        assert!(
            !Audience::everyone()
                .together(Audience::everyone())
                .is_restricted()
        );
        assert_eq!(Audience::everyone().together(restricted()), restricted());
    }

    fn reader(role: Role, localities: Option<Vec<String>>) -> Reader {
        Reader { role, localities }
    }

    /// Runs a future that never waits (the policy does no I/O).
    fn now<T>(f: impl Future<Output = T>) -> T {
        futures_util::FutureExt::now_or_never(f).expect("the policy does not wait")
    }

    #[test]
    fn reading_a_private_campaign_needs_an_account_that_may_read_results() {
        let asks = |account: Option<Reader>| now(Audience::reading(false, async { Ok(account) }));
        assert!(matches!(asks(None), Err(AppError::Unauthorized)));
        assert!(matches!(
            asks(Some(reader(Role::Designer, None))),
            Err(AppError::Forbidden)
        ));
        assert_eq!(
            asks(Some(reader(Role::Analyst, None))).ok(),
            Some(Audience::everyone())
        );
        assert_eq!(
            asks(Some(reader(Role::Admin, list(&["01"])))).ok(),
            Some(Audience::account(list(&["01"])))
        );
    }

    #[test]
    fn reading_a_public_campaign_never_looks_at_the_account() {
        let audience = now(Audience::reading(true, async {
            Err::<Option<Reader>, _>(AppError::Unauthorized)
        }));
        assert_eq!(audience.ok(), Some(Audience::everyone()));
    }
}
