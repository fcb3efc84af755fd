//! Rank bands instead of a false strict ranking.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{Level, Published, RankBand, rank_bands};
use crate::views::Chrome;

use super::{Collapsed, ResultsHeader, RowView};

/// `/results/{slug}/ranks`: rank bands instead of a false strict ranking.
#[derive(Debug, Serialize)]
pub struct RanksPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    /// Earlier campaigns to compare with (set by the handler).
    pub waves: super::WavePicker,
    pub rows: Vec<RankView>,
    pub count: usize,
    pub levels: Vec<&'static str>,
    /// Every row is suppressed: one explanation instead of rows without a band.
    pub collapsed: Option<Collapsed>,
}

#[derive(Debug, Serialize)]
pub struct RankView {
    pub row: RowView,
    pub band: Option<RankBand>,
    /// Where the band starts and ends on a 0–100 bar of ranks 1..count.
    pub x_best: Option<f64>,
    pub x_worst: Option<f64>,
}

impl RanksPage {
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        index: &str,
        level: Level,
    ) -> RanksPage {
        let r = &fresh.results;
        let rows = r.level_rows(level, index);
        let collapsed = Collapsed::of(&rows, r, level, &campaign.campaign.slug, lang);
        let bands = rank_bands(&rows);
        let count = bands.iter().flatten().count();
        // Rank r occupies the cell [(r − 1)/count, r/count] of the bar.
        let cell = 100.0 / count.max(1) as f64;
        let mut views: Vec<RankView> = rows
            .iter()
            .zip(bands)
            .map(|(row, band)| RankView {
                row: RowView::new(row, r, &campaign.campaign.slug, lang),
                x_best: band.map(|b| (b.best - 1) as f64 * cell),
                x_worst: band.map(|b| b.worst as f64 * cell),
                band,
            })
            .collect();
        views.sort_by(|a, b| {
            let ka = a
                .band
                .map_or((usize::MAX, usize::MAX), |b| (b.best, b.worst));
            let kb = b
                .band
                .map_or((usize::MAX, usize::MAX), |b| (b.best, b.worst));
            ka.cmp(&kb).then_with(|| {
                b.row
                    .estimate
                    .unwrap_or(f64::NAN)
                    .total_cmp(&a.row.estimate.unwrap_or(f64::NAN))
            })
        });
        RanksPage {
            waves: super::WavePicker::default(),
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            rows: views,
            count,
            levels: vec!["province", "commune"],
            collapsed,
        }
    }
}
