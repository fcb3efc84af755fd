//! The accounts page.

use serde::Serialize;

use super::Notice;

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

/// The accounts page.
#[derive(Debug, Serialize)]
pub struct UsersPage {
    pub users: Vec<UserRow>,
    pub roles: Vec<&'static str>,
    #[serde(flatten)]
    pub notice: Notice,
    pub email: String,
}
