//! One locality's page: the index, its elements and criteria.

use serde::Serialize;

use crate::i18n::{Arg, Lang, t};
use crate::services::campaigns::OpenCampaign;
use crate::services::results::Published;
use crate::views::Chrome;

use super::{ParentView, ResultsHeader, RowView};

/// `/results/{slug}/locality/{code}`: the index, its elements and criteria in one locality.
#[derive(Debug, Serialize)]
pub struct LocalityPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    /// Earlier campaigns to compare with (set by the handler).
    pub waves: super::WavePicker,
    pub code: String,
    pub name: String,
    pub parent: Option<RowLink>,
    pub responses: u64,
    pub rows: Vec<BreakdownRow>,
    /// The index has no number here: why, in plain words, and where to look instead.
    pub unpublished: Option<Unpublished>,
    /// No row of the breakdown has a number: the table is left out.
    pub all_suppressed: bool,
    /// Every family's indices side by side (when there are several families).
    pub families: Vec<super::families::FamilyView>,
    /// The expectation–performance view (when an expectation index pairs with a
    /// satisfaction index).
    pub quadrant: Option<super::families::QuadrantView>,
    /// A province's page: the grid of its communes.
    pub map: Option<super::map::MapView>,
}

/// What a locality page says when the locality's own number is not published.
#[derive(Debug, Serialize)]
pub struct Unpublished {
    pub title: String,
    pub why: String,
    pub instead: Option<ParentView>,
}

#[derive(Debug, Serialize)]
pub struct RowLink {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct BreakdownRow {
    pub depth: u8,
    pub code: String,
    pub name: String,
    pub row: Option<RowView>,
    /// Bar length 0–100 of the estimate and its interval.
    pub x: Option<f64>,
    pub x_low: Option<f64>,
    pub x_high: Option<f64>,
}

impl LocalityPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        code: &str,
    ) -> Option<LocalityPage> {
        let r = &fresh.results;
        let loc = r.locality(code)?;
        let prefix = format!("{index}/");
        let rows: Vec<BreakdownRow> = r
            .nodes
            .iter()
            .filter(|n| n.key == index || n.key.starts_with(&prefix))
            .map(|n| {
                let row = r
                    .row(code, &n.key)
                    .map(|row| RowView::new(row, r, &campaign.campaign.slug, lang));
                // The mini bar's scale: the node's range for a value, 0–1 otherwise.
                let [lo, hi] = n.range.unwrap_or([0.0, 1.0]);
                let pct =
                    |v: Option<f64>| v.map(|v| ((v - lo) / (hi - lo) * 100.0).clamp(0.0, 100.0));
                BreakdownRow {
                    depth: n.depth,
                    code: n.code.clone(),
                    name: n.name(lang).to_owned(),
                    x: pct(row.as_ref().and_then(|r| r.estimate)),
                    x_low: pct(row.as_ref().and_then(|r| r.ci_low)),
                    x_high: pct(row.as_ref().and_then(|r| r.ci_high)),
                    row,
                }
            })
            .collect();
        let slug = &campaign.campaign.slug;
        let unpublished = r
            .row(code, index)
            .filter(|row| row.suppressed)
            .map(|row| Unpublished {
                title: t(
                    lang,
                    "results-locality-unpublished",
                    &[("name", Arg::from(loc.name(lang)))],
                ),
                why: row
                    .reason
                    .map(|reason| reason.explanation(r, lang, true))
                    .unwrap_or_default(),
                instead: ParentView::of(r, code, index, slug, lang),
            });
        let all_suppressed = rows.iter().all(|b| {
            b.row
                .as_ref()
                .is_none_or(|row| row.suppressed && row.model.is_none())
        });
        Some(LocalityPage {
            waves: super::WavePicker::default(),
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, loc.level, lang),
            code: code.to_owned(),
            name: loc.name(lang),
            parent: loc
                .parent
                .as_deref()
                .and_then(|p| r.locality(p))
                .map(|p| RowLink {
                    code: p.code.clone(),
                    name: p.name(lang),
                }),
            responses: loc.responses,
            rows,
            unpublished,
            all_suppressed,
            families: super::families::families(r, code, lang),
            quadrant: super::families::expectation_performance(r, code, lang),
            map: (loc.level == crate::services::results::Level::Province
                && r.node(index).is_none_or(|n| n.range.is_none()))
            .then(|| super::map::communes(lang, r, &campaign.campaign.slug, index, code))
            .flatten(),
        })
    }
}
