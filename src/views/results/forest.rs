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
        let head = ResultsHeader::new(campaign, fresh, index, level, lang);
        // The axis' bounds and step: a share or score from 0 to 1 in 5-point steps, a value
        // within its index's range in a round step (a sixth of the span, rounded to 1, 2 or 5
        // times a power of ten).
        let range = r
            .node(index)
            .and_then(|n| n.range)
            .filter(|_| head.unit == "value");
        let (floor, ceil) = match range {
            Some([a, b]) => (a, b),
            None => (0.0, 1.0),
        };
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
            (lo, hi) = (floor, ceil);
        }
        let step = if range.is_some() {
            nice_step((hi - lo).max((ceil - floor) / 100.0) / 6.0)
        } else {
            0.05
        };
        let lo = ((lo / step).floor() * step).max(floor);
        let mut hi = ((hi / step).ceil() * step).min(ceil).max(lo + step);
        let mut steps = ((hi - lo) / step).round() as usize;
        let every = if steps > 8 { 2 } else { 1 };
        // Labels are spread evenly, so the last tick must fall on the axis' end.
        if !steps.is_multiple_of(every) {
            steps += 1;
            hi = lo + steps as f64 * step;
        }
        let x = |v: f64| (v - lo) / (hi - lo) * 100.0;
        let mut ticks = Vec::new();
        for i in (0..=steps).step_by(every) {
            let v = lo + i as f64 * step;
            ticks.push(Tick {
                x: x(v),
                label: if range.is_some() {
                    let digits = if step >= 1.0 {
                        0
                    } else if step >= 0.1 {
                        1
                    } else {
                        2
                    };
                    format!("{v:.digits$}")
                } else {
                    format!("{:.0}", v * 100.0)
                },
            });
        }
        ForestPage {
            waves: super::WavePicker::default(),
            chrome: Chrome::new(lang, path),
            head,
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

/// 1, 2 or 5 times a power of ten, at least `x`.
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}
