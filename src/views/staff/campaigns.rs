//! The campaigns page: the list, and the form to create or edit one.

use serde::Serialize;

/// A row of the campaigns table.
#[derive(Debug, Serialize)]
pub struct CampaignRow {
    pub slug: String,
    pub name: String,
    pub version: String,
    /// The service's name, in the reader's language.
    pub service: String,
    pub opens_on: String,
    pub closes_on: String,
    pub is_public: bool,
    pub localities: u64,
    pub responses: u64,
}

/// A published questionnaire version a campaign may use.
#[derive(Debug, Serialize)]
pub struct VersionOption {
    pub id: i64,
    pub label: String,
    /// The name of the service a campaign on it is most likely about (the default).
    pub service: Option<String>,
}

/// A service a campaign may be about.
#[derive(Debug, Serialize)]
pub struct ServiceOption {
    pub code: String,
    pub name: String,
}

/// A unit of the locality picker: its code and what the list shows.
#[derive(Debug, Serialize)]
pub struct PickOption {
    pub code: String,
    pub name: String,
}

/// The campaigns page; `F` is the form's values as typed (shown again after
/// a problem), which the handler owns.
#[derive(Debug, Serialize)]
pub struct CampaignsPage<F: Serialize> {
    pub campaigns: Vec<CampaignRow>,
    pub versions: Vec<VersionOption>,
    pub services: Vec<ServiceOption>,
    pub can_write: bool,
    /// May change public/private, min_n, min_df and the publication schedule
    /// (administrators and analysts).
    pub can_results: bool,
    /// The campaign being edited, if any.
    pub editing: Option<String>,
    pub form: F,
    pub errors: Vec<String>,
    /// What the last "add" of the locality picker did.
    pub notice: Option<String>,
    /// The picker: provinces (to add all their communes) and communes (by code, name,
    /// unaccented name and province, which the browser's list searches as one types).
    pub provinces: Vec<PickOption>,
    pub communes: Vec<PickOption>,
    /// Only the demo's few units are known and the reader is an administrator: offer to
    /// load the national list that comes with Hailong.
    pub offer_national: bool,
}
