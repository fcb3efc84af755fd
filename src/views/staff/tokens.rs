//! The API tokens page.

use serde::Serialize;

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

/// The API tokens page.
#[derive(Debug, Serialize)]
pub struct TokensPage {
    pub tokens: Vec<TokenRow>,
    /// The token just created: shown once, never stored.
    pub new_token: Option<String>,
    pub errors: Vec<String>,
}
