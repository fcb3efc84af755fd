//! The pages before signing in: sign-in and password reset.

use serde::Serialize;

use crate::i18n::Lang;
use crate::views::Chrome;

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

/// The password-reset pages: asking for a link, and setting a new password.
#[derive(Debug, Serialize)]
pub struct ResetPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub csrf_token: String,
    /// Shown after a request, whatever the address.
    pub notice: Option<String>,
    pub errors: Vec<String>,
    /// The link's token, on the page that sets the new password.
    pub token: Option<String>,
}
