//! Results for analysts: public pages under `/results/{slug}` and the downloads.

use actix_web::HttpRequest;

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

/// Who may read a campaign's results. Public campaigns: everyone, without an account.
/// Others need the analyst role or an API token, which this function does not check yet:
/// it answers 401 for them until staff authentication is plugged in here.
pub fn require_results_access(_req: &HttpRequest, campaign: &OpenCampaign) -> Result<(), AppError> {
    if campaign.campaign.is_public {
        Ok(())
    } else {
        Err(AppError::Unauthorized)
    }
}
