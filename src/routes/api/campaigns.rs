//! `GET /api/v1/campaigns`: the open campaigns and how to answer them.

use actix_web::{HttpResponse, get, web};
use chrono::Utc;

use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::state::AppState;
use crate::services::campaigns;
use crate::views::api::CampaignJson;

#[utoipa::path(tag = "public",
    responses((status = 200, description = "Campaigns open today, in listing order, with their localities and questionnaire", body = [CampaignJson])))]
#[get("/campaigns")]
pub async fn list(state: web::Data<AppState>, lang: Lang) -> Result<HttpResponse, AppError> {
    let today = Utc::now().date_naive();
    let open = campaigns::list_open(&state.db, today).await?;
    let body: Vec<CampaignJson> = open.iter().map(|c| CampaignJson::new(c, lang)).collect();
    Ok(HttpResponse::Ok().json(body))
}
