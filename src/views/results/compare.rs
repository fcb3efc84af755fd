//! Two waves side by side.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{CampaignResults, Level, Published};
use crate::views::Chrome;

use super::{ResultsHeader, reason_text};

/// `/results/{slug}/compare?with=OTHER`: the change of every locality since another wave.
#[derive(Debug, Serialize)]
pub struct ComparePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub head: ResultsHeader,
    pub with: String,
    pub with_name: String,
    pub rows: Vec<ChangeView>,
    pub levels: Vec<&'static str>,
    /// The earlier wave was re-aggregated to today's units (see the page's note).
    pub reaggregated: bool,
    pub waves: WavePicker,
}

#[derive(Debug, Serialize)]
pub struct ChangeView {
    pub name: String,
    pub change: crate::services::results::Change,
    pub reason: String,
}

impl ComparePage {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        lang: Lang,
        path: &str,
        campaign: &OpenCampaign,
        fresh: &Published,
        previous: &CampaignResults,
        with: (&str, String),
        index: &str,
        level: Level,
    ) -> ComparePage {
        let r = &fresh.results;
        let rows = crate::services::results::compare(r, previous, level, index)
            .into_iter()
            .map(|c| ChangeView {
                name: r
                    .locality(&c.locality)
                    .map(|l| l.name(lang))
                    .unwrap_or_else(|| c.locality.clone()),
                reason: reason_text(c.reason, r, lang),
                change: c,
            })
            .collect();
        ComparePage {
            chrome: Chrome::new(lang, path),
            head: ResultsHeader::new(campaign, fresh, index, level, lang),
            with: with.0.to_owned(),
            with_name: with.1,
            rows,
            levels: vec!["national", "province", "commune"],
            reaggregated: false,
            waves: WavePicker::default(),
        }
    }
}

/// The wave picker: the earlier campaigns this one can be compared with, as a GET form to
/// `/results/{slug}/compare` (works without JavaScript).
#[derive(Debug, Default, Serialize)]
pub struct WavePicker {
    pub options: Vec<WaveOption>,
}

#[derive(Debug, Serialize)]
pub struct WaveOption {
    pub slug: String,
    /// Its name and dates (`Khảo sát 2024 (01/03/2024–30/06/2024)`).
    pub label: String,
    pub current: bool,
}

impl WavePicker {
    pub fn new(campaigns: &[OpenCampaign], current: Option<&str>, lang: Lang) -> WavePicker {
        WavePicker {
            options: campaigns
                .iter()
                .map(|c| {
                    let c = &c.campaign;
                    WaveOption {
                        slug: c.slug.clone(),
                        label: format!(
                            "{} ({}–{})",
                            lang.pick(&c.name_vi, &c.name_en),
                            c.opens_on.format("%d/%m/%Y"),
                            c.closes_on.format("%d/%m/%Y")
                        ),
                        current: current == Some(c.slug.as_str()),
                    }
                })
                .collect(),
        }
    }
}
