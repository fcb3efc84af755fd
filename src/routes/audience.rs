//! The results [`Audience`] of a request, for the results pages and the JSON API alike:
//! the account behind the request (session cookie or API token), looked up only when the
//! campaign is not public, judged by [`Audience::reading`].

use actix_web::HttpRequest;

use crate::error::AppError;
use crate::routes::extract::api_user;
use crate::services::campaigns::OpenCampaign;
use crate::services::results::{Audience, Reader};

/// Who may read this campaign's results, and which localities (401 without an account for
/// a campaign that is not public, 403 for a role that may not read results).
pub async fn of_request(req: &HttpRequest, campaign: &OpenCampaign) -> Result<Audience, AppError> {
    Audience::reading(campaign.campaign.is_public, async {
        Ok(api_user(req).await?.map(|u| Reader {
            role: u.role,
            localities: u.localities,
        }))
    })
    .await
}
