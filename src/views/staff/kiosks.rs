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
    /// The locality's name where the campaign is known, else its code.
    pub locality_name: String,
    pub created_on: String,
    pub revoked: bool,
}

/// A campaign a kiosk may be registered for.
#[derive(Debug, Serialize)]
pub struct CampaignOption {
    pub slug: String,
    pub name: String,
}

/// A locality a kiosk may stand in.
#[derive(Debug, Serialize)]
pub struct LocalityOption {
    pub code: String,
    pub name: String,
}

/// The localities of one province, an `<optgroup>` of the picker.
#[derive(Debug, Serialize)]
pub struct LocalityGroup {
    pub label: String,
    pub options: Vec<LocalityOption>,
}

/// A service a kiosk may be about.
#[derive(Debug, Serialize)]
pub struct ServiceChoice {
    pub code: String,
    pub name: String,
}

/// The kiosk just registered, with its link.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub label: String,
    pub url: String,
    /// `url` is only a path: `base_url` is not configured.
    pub no_base_url: bool,
    /// The address as an inline QR code to scan with the tablet (`None` without
    /// `base_url`).
    pub qr: Option<String>,
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
    /// The campaign whose localities the picker lists (`?campaign=`, else the first).
    pub campaign: Option<String>,
    pub localities: Vec<LocalityGroup>,
    pub services: Vec<ServiceChoice>,
    pub registered: Option<Registered>,
    /// `(field, message)` of each problem with the registration form.
    pub problems: Vec<(String, String)>,
    pub form: (String, String, String, String),
}
