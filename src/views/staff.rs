//! Contexts of the staff pages.

use serde::Serialize;

use crate::auth::user::{StaffUser, StaffView};
use crate::i18n::Lang;

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

/// The sign-in page.
#[derive(Debug, Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub csrf_token: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
}

impl LoginPage {
    pub fn new(lang: Lang, csrf_token: String, next: String) -> LoginPage {
        LoginPage {
            chrome: Chrome::new(lang, "/staff/login"),
            csrf_token,
            next,
            email: String::new(),
            error: None,
        }
    }
}

/// A row of the accounts table.
#[derive(Debug, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub localities: String,
    pub created_on: String,
}

/// A row of the API tokens table.
#[derive(Debug, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_on: String,
    pub last_used_on: Option<String>,
    pub revoked: bool,
}

/// A row of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditRow {
    pub at: String,
    pub staff: String,
    pub action: String,
    pub object: String,
    pub detail: String,
}

/// A message shown at the top of a page, and field problems.
#[derive(Debug, Default, Serialize)]
pub struct Notice {
    pub notice: Option<String>,
    pub errors: Vec<String>,
}
