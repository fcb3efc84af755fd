//! The locality table and its sort order.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{Level, Published};
use crate::views::Chrome;

use super::{Collapsed, ResultsHeader, RowView};

/// How the locality table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    EstimateDesc,
    EstimateAsc,
    Name,
    N,
}

impl SortKey {
    pub fn parse(s: Option<&str>) -> SortKey {
        match s {
            Some("estimate") => SortKey::EstimateAsc,
            Some("name") => SortKey::Name,
            Some("n") => SortKey::N,
            _ => SortKey::EstimateDesc,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::EstimateDesc => "-estimate",
            SortKey::EstimateAsc => "estimate",
            SortKey::Name => "name",
            SortKey::N => "n",
        }
    }
}

/// Sorts rows; suppressed rows always go last (they have no number to sort by).
pub fn sort_rows(rows: &mut [RowView], key: SortKey) {
    rows.sort_by(|a, b| {
        let ea = a.estimate.unwrap_or(f64::NAN);
        let eb = b.estimate.unwrap_or(f64::NAN);
        a.suppressed.cmp(&b.suppressed).then_with(|| match key {
            SortKey::EstimateDesc => eb.total_cmp(&ea),
            SortKey::EstimateAsc => ea.total_cmp(&eb),
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::N => b.n.cmp(&a.n),
        })
    });
}

/// `/results/{slug}/localities`.
#[derive(Debug, Serialize)]
pub struct TablePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    /// Earlier campaigns to compare with (set by the handler).
    pub waves: super::WavePicker,
    pub sort: &'static str,
    pub rows: Vec<RowView>,
    pub levels: Vec<&'static str>,
    /// Every row is suppressed: said once above the table.
    pub collapsed: Option<Collapsed>,
}

impl TablePage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
        sort: SortKey,
    ) -> TablePage {
        let r = &fresh.results;
        let slug = &campaign.campaign.slug;
        let level_rows = r.level_rows(level, index);
        let collapsed = Collapsed::of(&level_rows, r, level, slug, lang);
        let mut rows: Vec<RowView> = level_rows
            .into_iter()
            .map(|row| RowView::new(row, r, &campaign.campaign.slug, lang))
            .collect();
        sort_rows(&mut rows, sort);
        TablePage {
            waves: super::WavePicker::default(),
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            sort: sort.as_str(),
            rows,
            levels: vec!["province", "commune"],
            collapsed,
        }
    }
}
