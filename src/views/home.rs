//! The home page's context.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::campaigns::OpenCampaign;

use super::Chrome;

#[derive(Debug, Serialize)]
pub struct HomePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub campaigns: Vec<CampaignCard>,
}

#[derive(Debug, Serialize)]
pub struct CampaignCard {
    pub slug: String,
    pub name: String,
    pub service: String,
    pub opens_on: String,
    pub closes_on: String,
    pub localities: usize,
    pub provinces: usize,
    /// The campaign's results page, when its results are public.
    pub results: Option<String>,
}

impl HomePage {
    pub fn new(lang: Lang, path: &str, open: &[OpenCampaign]) -> HomePage {
        let campaigns = open
            .iter()
            .map(|c| {
                let pick = |vi: &str, en: &str| lang.pick(vi, en).to_owned();
                let mut provinces: Vec<&str> = c
                    .localities
                    .iter()
                    .map(|l| l.parent_code.as_deref().unwrap_or(&l.code))
                    .collect();
                provinces.sort_unstable();
                provinces.dedup();
                CampaignCard {
                    slug: c.campaign.slug.clone(),
                    name: pick(&c.campaign.name_vi, &c.campaign.name_en),
                    service: pick(&c.service.name_vi, &c.service.name_en),
                    opens_on: c.campaign.opens_on.format("%d/%m/%Y").to_string(),
                    closes_on: c.campaign.closes_on.format("%d/%m/%Y").to_string(),
                    localities: c.localities.len(),
                    provinces: provinces.len(),
                    results: c
                        .campaign
                        .is_public
                        .then(|| format!("/results/{}", c.campaign.slug)),
                }
            })
            .collect();
        HomePage {
            chrome: Chrome::new(lang, path),
            campaigns,
        }
    }
}
