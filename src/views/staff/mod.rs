//! Contexts of the staff pages: the layout every staff page shares, and one
//! module per area.

pub mod account;
pub mod audit;
pub mod campaigns;
pub mod hub;
pub mod invitations;
pub mod kiosks;
pub mod login;
pub mod planning;
pub mod questionnaires;
pub mod tokens;
pub mod users;

use serde::Serialize;

use crate::auth::user::{StaffUser, StaffView};

use super::Chrome;

/// What every staff page's layout needs, plus the page's own fields.
#[derive(Debug, Serialize)]
pub struct StaffPage<T: Serialize> {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub staff: StaffView,
    #[serde(flatten)]
    pub page: T,
}

impl<T: Serialize> StaffPage<T> {
    pub fn new(user: &StaffUser, path: &str, page: T) -> StaffPage<T> {
        StaffPage {
            chrome: Chrome::new(user.lang, path),
            staff: user.view(),
            page,
        }
    }
}

/// A message shown at the top of a page, and field problems.
#[derive(Debug, Default, Serialize)]
pub struct Notice {
    pub notice: Option<String>,
    pub errors: Vec<String>,
}
