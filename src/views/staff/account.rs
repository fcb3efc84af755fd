//! The signed-in staff member's own pages.

use serde::Serialize;

/// A link to one area on the dashboard.
#[derive(Debug, Serialize)]
pub struct AreaLink {
    pub href: &'static str,
    pub key: &'static str,
}

/// A campaign on the dashboard, linking to its hub.
#[derive(Debug, Serialize)]
pub struct DashboardCampaign {
    pub slug: String,
    pub name: String,
    /// `open`, `upcoming` or `closed`.
    pub status: &'static str,
    pub opens_on: String,
    pub closes_on: String,
}

/// The dashboard: the campaigns (to their hubs) and the areas the staff member may open.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub campaigns: Vec<DashboardCampaign>,
    pub areas: Vec<AreaLink>,
}
