//! The forest plot: each locality's estimate with its interval.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{Level, Published};
use crate::views::Chrome;

use super::{Collapsed, ResultsHeader, RowView, SortKey, sort_rows};

/// `/results/{slug}/forest`: each locality's estimate with its interval as an SVG bar.
#[derive(Debug, Serialize)]
pub struct ForestPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    /// Earlier campaigns to compare with (set by the handler).
    pub waves: super::WavePicker,
    pub rows: Vec<ForestRow>,
    /// Position (0–100) of the national estimate, if shown.
    pub national_x: Option<f64>,
    pub national: Option<f64>,
    pub ticks: Vec<Tick>,
    pub levels: Vec<&'static str>,
    /// Every row is suppressed: one explanation instead of empty rows.
    pub collapsed: Option<Collapsed>,
    /// Some rows are suppressed: listed by name under the plot, not drawn empty.
    pub hidden: Vec<RowView>,
}

#[derive(Debug, Serialize)]
pub struct ForestRow {
    pub row: RowView,
    pub x: Option<f64>,
    pub x_low: Option<f64>,
    pub x_high: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

impl ForestPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
    ) -> ForestPage {
        let r = &fresh.results;
        let slug = &campaign.campaign.slug;
        let level_rows = r.level_rows(level, index);
        let collapsed = Collapsed::of(&level_rows, r, level, slug, lang);
        let (hidden, mut rows): (Vec<RowView>, Vec<RowView>) = level_rows
            .into_iter()
            .map(|row| RowView::new(row, r, slug, lang))
            .partition(|row| row.suppressed);
        sort_rows(&mut rows, SortKey::EstimateDesc);
        let national = r
            .row(crate::services::results::NATIONAL, index)
            .and_then(|n| n.estimate);
        // Axis: 5-point steps around every interval and the national line.
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for v in rows
            .iter()
            .flat_map(|r| [r.ci_low, r.ci_high])
            .chain([national])
            .flatten()
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let lo = ((lo * 20.0).floor() / 20.0).max(0.0);
        let mut hi = ((hi * 20.0).ceil() / 20.0).min(1.0).max(lo + 0.05);
        let mut steps = ((hi - lo) / 0.05).round() as usize;
        let every = if steps > 8 { 2 } else { 1 };
        // Labels are spread evenly, so the last tick must fall on the axis' end.
        if !steps.is_multiple_of(every) {
            steps += 1;
            hi = lo + steps as f64 * 0.05;
        }
        let x = |v: f64| (v - lo) / (hi - lo) * 100.0;
        let mut ticks = Vec::new();
        for i in (0..=steps).step_by(every) {
            let v = lo + i as f64 * 0.05;
            ticks.push(Tick {
                x: x(v),
                label: format!("{:.0}", v * 100.0),
            });
        }
        ForestPage {
            waves: super::WavePicker::default(),
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            rows: rows
                .into_iter()
                .map(|row| ForestRow {
                    x: row.estimate.map(x),
                    x_low: row.ci_low.map(x),
                    x_high: row.ci_high.map(x),
                    row,
                })
                .collect(),
            national_x: national.map(x),
            national,
            ticks,
            levels: vec!["province", "commune"],
            collapsed,
            hidden,
        }
    }
}
