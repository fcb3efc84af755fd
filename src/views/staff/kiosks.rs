//! The kiosks page.

use serde::Serialize;

use crate::auth::user::StaffView;
use crate::views::Chrome;

/// A row of the kiosks table.
#[derive(Debug, Serialize)]
pub struct KioskRow {
    pub id: i64,
    pub label: String,
    pub campaign: String,
    pub locality: String,
    pub created_on: String,
    pub revoked: bool,
}

/// A campaign a kiosk may be registered for.
#[derive(Debug, Serialize)]
pub struct CampaignOption {
    pub slug: String,
    pub name: String,
}

/// The kiosk just registered, with its link.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub label: String,
    pub url: String,
    /// `url` is only a path: `base_url` is not configured.
    pub no_base_url: bool,
}

/// The kiosks page.
#[derive(Debug, Serialize)]
pub struct KiosksPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub staff: StaffView,
    pub action: String,
    pub kiosks: Vec<KioskRow>,
    pub campaigns: Vec<CampaignOption>,
    pub registered: Option<Registered>,
    pub errors: Vec<(String, String)>,
    pub form: (String, String, String, String),
}
