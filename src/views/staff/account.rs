//! The signed-in staff member's own pages.

use serde::Serialize;

/// A link to one area on the dashboard.
#[derive(Debug, Serialize)]
pub struct AreaLink {
    pub href: &'static str,
    pub key: &'static str,
}

/// The dashboard: the areas the staff member may open.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub areas: Vec<AreaLink>,
}
