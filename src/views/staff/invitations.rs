//! A campaign's invitations page.

use serde::Serialize;

use crate::auth::user::StaffView;
use crate::views::Chrome;

/// A campaign's invitations: counts, and the actions to send them.
#[derive(Debug, Serialize)]
pub struct InvitationsPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub staff: StaffView,
    pub slug: String,
    pub campaign: String,
    pub action: String,
    pub total: u64,
    pub sent: u64,
    pub reminded: u64,
    pub notice: Option<String>,
    pub smtp_configured: bool,
    /// Without `base_url` no invitation link can be made: sending refuses.
    pub base_url_configured: bool,
    /// Invitees who answered as of the latest publication (rounded down to a
    /// multiple of k there), never a live count.
    pub published: Option<PublishedAnswered>,
}

/// Invitees who answered, as of one publication.
#[derive(Debug, Serialize)]
pub struct PublishedAnswered {
    pub answered: i64,
    pub number: i64,
    pub date: String,
}
