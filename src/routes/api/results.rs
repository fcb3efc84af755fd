//! `GET /api/v1/campaigns/{slug}/results`: estimates of one index at one level.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::audience;
use crate::routes::state::AppState;
use crate::services::comparison::comparison;
use crate::services::results::{self, Level, ResultJson};

#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    level: Option<String>,
    index: Option<String>,
}

#[utoipa::path(tag = "results",
    params(("slug" = String, Path, description = "The campaign"),
        ("level" = Option<String>, Query, description = "national (default), province or commune"),
        ("index" = Option<String>, Query, description = "An index, element (INDEX/E) or criterion (INDEX/E/C); default the main index")),
    security((), ("session" = []), ("token" = [])),
    responses((status = 200, description = "Flat rows; suppressed rows keep every key with null numbers", body = [ResultJson]),
        (status = 400, description = "Bad level or unknown index", body = crate::routes::problem::ProblemBody),
        (status = 401, description = "Not public and no account", body = crate::routes::problem::ProblemBody),
        (status = 403, description = "The account's role may not read results", body = crate::routes::problem::ProblemBody),
        (status = 404, description = "Unknown campaign, or `not_published`: no publication yet", body = crate::routes::problem::ProblemBody)))]
#[get("/campaigns/{slug}/results")]
pub async fn campaign_results(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ResultsQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let level = Level::from_query(query.level.as_deref())?.unwrap_or(Level::National);
    let campaign = crate::services::campaigns::by_slug(&state.db, &path).await?;
    let audience = audience::of_request(&req, &campaign).await?;
    let fresh = crate::services::publication::published(&state.db, &campaign).await?;
    let index = results::resolve_index(&fresh.results, query.index.as_deref())?;
    let body: Vec<ResultJson> = fresh
        .results
        .level_rows(level, &index)
        .into_iter()
        .filter(|r| audience.sees_in(&fresh.results, &r.locality))
        .map(|r| ResultJson::new(r, &fresh.results, lang))
        .collect();
    // The publication (its number and date, never a time) in headers; the body stays
    // a list of rows.
    Ok(HttpResponse::Ok()
        .insert_header(("Hailong-Publication", fresh.number.to_string()))
        .insert_header(("Hailong-Published-On", fresh.published_on.to_string()))
        .json(body))
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    with: Option<String>,
    level: Option<String>,
    index: Option<String>,
}

/// `GET /api/v1/campaigns/{slug}/compare?with=OTHER&level=…&index=…`: the change of every
/// locality since the other wave, flagged only where its interval excludes zero.
#[utoipa::path(tag = "results",
    params(("slug" = String, Path), ("with" = String, Query, description = "The earlier wave's campaign"),
        ("level" = Option<String>, Query), ("index" = Option<String>, Query)),
    security((), ("session" = []), ("token" = [])),
    responses((status = 200, description = "Change per locality with its CI, flagged only where the CI excludes zero"),
        (status = 400, body = crate::routes::problem::ProblemBody), (status = 404, body = crate::routes::problem::ProblemBody)))]
#[get("/campaigns/{slug}/compare")]
pub async fn compare(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<CompareQuery>,
) -> Result<HttpResponse, AppError> {
    let level = Level::from_query(query.level.as_deref())?.unwrap_or(Level::National);
    let c = comparison(
        &state.db,
        &path,
        query.with.as_deref(),
        query.index.as_deref(),
        async |c| audience::of_request(&req, c).await,
    )
    .await?;
    let body = results::compare(&c.current.results, &c.previous.results, level, &c.index);
    let mut response = HttpResponse::Ok();
    if c.reaggregated {
        // The body stays a list of changes; the header says how the earlier wave was
        // placed in today's units.
        response.insert_header(("Hailong-Previous-Wave", "reaggregated-by-crosswalk"));
    }
    Ok(response.json(body))
}

/// `GET /api/v1/campaigns/{slug}/targets`: every target with `met`, `missed` or `undecided`.
#[utoipa::path(tag = "results",
    params(("slug" = String, Path)),
    security((), ("session" = []), ("token" = [])),
    responses((status = 200, description = "Each target: met, missed or not yet decidable at 95%, with the reason"),
        (status = 404, body = crate::routes::problem::ProblemBody)))]
#[get("/campaigns/{slug}/targets")]
pub async fn targets(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let campaign = crate::services::campaigns::by_slug(&state.db, &path).await?;
    let audience = audience::of_request(&req, &campaign).await?;
    let fresh = crate::services::publication::published(&state.db, &campaign).await?;
    let body = crate::services::targets::outcomes_for(
        &state.db,
        campaign.campaign.id,
        &fresh.results,
        &audience,
    )
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// One model of `GET /api/v1/campaigns/{slug}/small-area`.
#[derive(Debug, serde::Serialize)]
struct SmallAreaFitJson<'a> {
    #[serde(flatten)]
    fit: &'a crate::services::results::small_area::SmallAreaFit,
    /// The reasons in the request's language.
    reasons_in_words: Vec<String>,
}

/// `GET /api/v1/campaigns/{slug}/small-area`: the Fay–Herriot model of every index, element
/// and criterion at the commune level — published or not and why, its covariates, σ²ᵥ and
/// β̂ (the estimates themselves are the `model_based` field of the commune rows of
/// `/results?level=commune`).
#[utoipa::path(tag = "results",
    params(("slug" = String, Path)),
    security((), ("session" = []), ("token" = [])),
    responses((status = 200, description = "One model per index node: published, reasons (codes and words), transform, sigma2, beta, covariates, counts"),
        (status = 404, body = crate::routes::problem::ProblemBody)))]
#[get("/campaigns/{slug}/small-area")]
pub async fn small_area(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let campaign = crate::services::campaigns::by_slug(&state.db, &path).await?;
    let _audience = audience::of_request(&req, &campaign).await?;
    let fresh = crate::services::publication::published(&state.db, &campaign).await?;
    let body: Vec<SmallAreaFitJson> = fresh
        .results
        .small_area
        .fits
        .iter()
        .map(|fit| SmallAreaFitJson {
            fit,
            reasons_in_words: fit
                .reasons
                .iter()
                .map(|r| crate::i18n::t(lang, &format!("sae-reason-{}", r.replace('_', "-")), &[]))
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
