//! The citizen's survey at `/s/{slug}`: server-rendered, works without
//! JavaScript. GET shows the first page; every step is a plain form POST to
//! the same URL. Answers given so far travel in hidden form fields — the
//! server keeps no session — and are only stored on the final submit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, mime, post, web};
use chrono::Utc;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::answers;
use crate::domain::campaign::{Channel, Layout};
use crate::domain::submission::Submission;
use crate::domain::validation::FieldError;
use crate::error::{AppError, Problem};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::routes::api::responses::read_limited;
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::responses::CachedCampaign;
use crate::services::{invitations, responses};
use crate::state::AppState;
use crate::templates;
use crate::views::Chrome;
use crate::views::respond::{Step, SurveyPage, SurveyState, ThanksPage, visible_sections};

/// Largest accepted form body (a long answer of 5,000 Vietnamese characters,
/// percent-encoded, is about 45 KB).
pub const MAX_FORM: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(post_step)
        .service(thanks)
        .service(qr_svg)
        .service(qr_png);
}

#[derive(Deserialize)]
pub struct StartQuery {
    l: Option<String>,
}

/// Where a survey is being answered: the public web page or a kiosk.
#[derive(Debug, Clone)]
pub struct Mode {
    /// The URL the form posts to (and the page's own URL).
    pub action: String,
    /// The fixed locality of a kiosk.
    pub locality: Option<String>,
    pub channel: Channel,
    pub thanks: String,
    /// The single-use invitation link that opened this survey (its campaign
    /// and spent tag, nothing naming the invitation).
    pub invitation: Option<invitations::Invited>,
}

impl Mode {
    /// The public phone survey.
    pub fn web(slug: &str) -> Mode {
        Mode {
            action: format!("/s/{slug}"),
            locality: None,
            channel: Channel::Web,
            thanks: format!("/s/{slug}/thanks"),
            invitation: None,
        }
    }

    /// A kiosk: the locality is fixed, the channel is `kiosk`.
    pub fn for_kiosk(token: &str, locality: &str) -> Mode {
        Mode {
            action: format!("/k/{token}"),
            locality: Some(locality.to_owned()),
            channel: Channel::Kiosk,
            thanks: format!("/k/{token}/thanks"),
            invitation: None,
        }
    }

    /// An emailed invitation's single-use link.
    pub fn for_invitation(token: &str, slug: &str, invitation: invitations::Invited) -> Mode {
        Mode {
            action: format!("/i/{token}"),
            locality: None,
            channel: Channel::Email,
            thanks: format!("/s/{slug}/thanks"),
            invitation: Some(invitation),
        }
    }

    fn kiosk(&self) -> bool {
        self.channel == Channel::Kiosk
    }
}

/// A rendered page, or where to go next.
pub enum Outcome {
    Page(Box<SurveyPage>),
    Done,
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Answers are in the page: never keep it in a shared device's cache.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn open_campaign(state: &AppState, slug: &str) -> Result<Arc<CachedCampaign>, AppError> {
    let cached = state.campaign_cache.get(&state.db, slug).await?;
    responses::ensure_open(&cached.campaign, Utc::now().date_naive())?;
    Ok(cached)
}

/// The layout a page uses: kiosks always show one page (it works offline).
fn layout_of(c: &OpenCampaign, mode: &Mode) -> Layout {
    if mode.kiosk() {
        Layout::OnePage
    } else {
        c.layout
    }
}

pub fn first_step(c: &OpenCampaign, mode: &Mode, raw: &Map<String, Value>) -> Step {
    match layout_of(c, mode) {
        Layout::OnePage => Step::All,
        Layout::PerSection => Step::Section(visible_sections(c, raw).first().copied().unwrap_or(0)),
    }
}

#[get("/s/{slug}")]
pub async fn start(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, Problem> {
    let run = async {
        let cached = open_campaign(&state, &path).await?;
        let c = &cached.campaign;
        let mode = Mode::web(&c.campaign.slug);
        let locality = query
            .l
            .as_deref()
            .filter(|l| c.localities.iter().any(|x| x.code == *l))
            .unwrap_or("");
        let raw = Map::new();
        let step = if locality.is_empty() {
            Step::Locality
        } else {
            first_step(c, &mode, &raw)
        };
        let sid = Uuid::new_v4().hyphenated().to_string();
        // The first page is the same for every respondent but for its
        // submission id: rendered once per campaign load, language and locality.
        let key = (lang.code(), locality.to_owned(), req.path().to_owned());
        let body = cached.first_page(key, &sid, |sid| {
            let page = render_page(
                c,
                &mode,
                lang,
                req.path(),
                sid,
                step,
                locality,
                &raw,
                &[],
                false,
                &cached.province_names,
            );
            templates::render("respond/survey.html", &page)
        })?;
        Ok::<_, AppError>(html(body))
    };
    run.await.map_err(|e| e.page(lang))
}

#[allow(clippy::too_many_arguments)]
pub fn render_page(
    c: &OpenCampaign,
    mode: &Mode,
    lang: Lang,
    path: &str,
    sid: &str,
    step: Step,
    locality: &str,
    raw: &Map<String, Value>,
    errors: &[FieldError],
    more_questions: bool,
    names: &HashMap<String, (String, String)>,
) -> SurveyPage {
    SurveyPage::new(
        c,
        &SurveyState {
            lang,
            path,
            action: &mode.action,
            sid,
            step,
            locality,
            raw,
            errors,
            more_questions,
            province_names: names,
            kiosk: mode.kiosk(),
        },
    )
}

/// Parses an `application/x-www-form-urlencoded` body (415 for anything else).
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    let form = mime::APPLICATION_WWW_FORM_URLENCODED.essence_str();
    if req
        .mime_type()
        .ok()
        .flatten()
        .is_none_or(|m| m.essence_str() != form)
    {
        return Err(AppError::UnsupportedMediaType);
    }
    let body = read_limited(req, payload, MAX_FORM).await?;
    parse_form_body(&body)
}

/// Decodes a survey form body (`application/x-www-form-urlencoded`) into its
/// fields, refusing one whose percent-decoded names or values are not UTF-8
/// (400 `invalid_utf8`). The fields then go to [`answers::from_form`]. Pure
/// and total: any bytes give fields or a 400, never a panic.
pub fn parse_form_body(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    if !form_is_utf8(body) {
        return Err(AppError::BadRequest {
            code: "invalid_utf8",
            detail: String::new(),
        });
    }
    serde_urlencoded::from_bytes(body).map_err(|e| AppError::BadRequest {
        code: "invalid_form",
        detail: e.to_string(),
    })
}

/// True when every percent-decoded name and value of a form body is UTF-8
/// (a lenient decoder would silently turn bad bytes into U+FFFD).
pub fn form_is_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&' || *b == b'=').all(|part| {
        // `+` (a space) cannot make a part invalid, so it is left as it is.
        percent_encoding::percent_decode(part).decode_utf8().is_ok()
    })
}

#[post("/s/{slug}")]
pub async fn post_step(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, Problem> {
    let run = async {
        if !state.limiter.allow(&req) {
            return Err(AppError::TooManyRequests);
        }
        let fields = read_form(&req, payload).await?;
        let c = open_campaign(&state, &path).await?;
        let mode = Mode::web(&c.campaign.campaign.slug);
        advance(&req, &state, &c, &mode, lang, &fields).await
    };
    run.await.map_err(|e| e.page(lang))
}

/// One step of the survey: validate what was just answered, then show the
/// next page, the same page with messages, or store and go to the thanks page.
pub async fn advance(
    req: &HttpRequest,
    state: &AppState,
    cached: &CachedCampaign,
    mode: &Mode,
    lang: Lang,
    fields: &[(String, String)],
) -> Result<HttpResponse, AppError> {
    let c = &cached.campaign;
    let names = &cached.province_names;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let sid = field("sid")
        .and_then(|s| Uuid::try_parse(s).ok())
        .unwrap_or_else(Uuid::new_v4)
        .hyphenated()
        .to_string();
    let nav = field("nav").unwrap_or("next");
    let (lang, lang_cookie) = match nav.strip_prefix("lang-").and_then(Lang::parse) {
        Some(l) => (l, Some(l)),
        None => (lang, None),
    };
    let locality = mode
        .locality
        .clone()
        .or_else(|| field("l").map(str::to_owned))
        .unwrap_or_default();
    let locality_ok = c.localities.iter().any(|l| l.code == locality);
    let seen: HashSet<&str> = fields
        .iter()
        .filter(|(k, _)| k == "seen")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut raw = answers::from_form(&c.definition, fields);
    answers::prune_hidden(&c.definition, &mut raw);
    let mut current = Step::parse(field("step").unwrap_or("locality")).unwrap_or(Step::Locality);
    if let Step::Section(i) = current
        && (layout_of(c, mode) == Layout::OnePage || i >= c.definition.sections.len())
    {
        current = first_step(c, mode, &raw);
    }
    if current == Step::All && layout_of(c, mode) == Layout::PerSection {
        current = first_step(c, mode, &raw);
    }
    let page = |step: Step, errors: &[FieldError], more: bool| -> Result<HttpResponse, AppError> {
        let page = render_page(
            c,
            mode,
            lang,
            req.path(),
            &sid,
            step,
            &locality,
            &raw,
            errors,
            more,
            names,
        );
        let mut res = html(templates::render("respond/survey.html", &page)?);
        if let Some(l) = lang_cookie {
            let cookie = Cookie::build(LANG_COOKIE, l.code())
                .path("/")
                .same_site(SameSite::Lax)
                .http_only(true)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish();
            res.add_cookie(&cookie)
                .map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
        }
        Ok(res)
    };
    if lang_cookie.is_some() {
        return page(current, &[], false);
    }
    if current == Step::Locality || !locality_ok {
        if !locality_ok {
            let code = if locality.is_empty() {
                "answer_required"
            } else {
                "unknown_locality"
            };
            let errors = if current == Step::Locality && field("step").is_some() {
                vec![FieldError::new("locality", code)]
            } else {
                Vec::new()
            };
            return page(Step::Locality, &errors, false);
        }
        return page(first_step(c, mode, &raw), &[], false);
    }
    let visible = visible_sections(c, &raw);
    if nav == "back" {
        let prev = match current {
            Step::Section(i) => visible.iter().rev().find(|v| **v < i).copied(),
            _ => None,
        };
        return match prev {
            Some(p) => page(Step::Section(p), &[], false),
            None if mode.locality.is_none() => page(Step::Locality, &[], false),
            None => page(current, &[], false),
        };
    }
    // Validate the page just submitted.
    let on_page: Vec<usize> = match current {
        Step::Section(i) => vec![i],
        _ => (0..c.definition.sections.len()).collect(),
    };
    let in_page = |code: &str| {
        on_page.iter().any(|i| {
            c.definition.sections[*i]
                .questions
                .iter()
                .any(|q| q.code == code)
        })
    };
    let errors: Vec<FieldError> =
        match answers::parse_with(&c.definition, &raw, |q| in_page(&q.code)) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .filter(|e| e.field.strip_prefix("answers.").is_some_and(in_page))
                .collect(),
        };
    if !errors.is_empty() {
        return page(current, &errors, false);
    }
    // Questions that appeared because of answers on this page must be seen.
    let parsed = crate::views::respond::parsed_so_far(c, &raw);
    let shown = answers::shown_answers(&c.definition, &raw).shown;
    let unseen = c
        .definition
        .questions()
        .filter(|q| in_page(&q.code) && shown.contains(&q.code))
        .any(|q| {
            !seen.contains(q.code.as_str())
                || crate::views::respond::offered_token(q, &parsed)
                    .is_some_and(|t| !seen.contains(t.as_str()))
        });
    if unseen {
        return page(current, &[], true);
    }
    if let Step::Section(i) = current
        && let Some(next) = visible.iter().find(|v| **v > i)
    {
        return page(Step::Section(*next), &[], false);
    }
    // Last page: store the whole response.
    let submission = Submission {
        id: Uuid::try_parse(&sid).map_err(|e| anyhow::anyhow!("sid: {e}"))?,
        locality: locality.clone(),
        answers: raw.clone(),
        channel: Some(mode.channel),
    };
    let today = Utc::now().date_naive();
    let link = cached.links.get(&submission.locality);
    match responses::build_row(c, link, &submission, mode.channel, today) {
        Ok(row) => {
            // A used invitation link records its keyed tag only (no date,
            // nothing naming the invitation), before the response is stored.
            if let Some(inv) = &mode.invitation
                && !invitations::claim(&state.db, inv).await?
            {
                return Err(AppError::Conflict("invitation_used"));
            }
            if let Err(e) = responses::store(&state.writer, row).await {
                if let Some(inv) = &mode.invitation {
                    invitations::unclaim(&state.db, inv).await?;
                }
                return Err(e);
            }
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, mode.thanks.clone()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        Err(AppError::Validation(errors)) => {
            let target = errors
                .iter()
                .find_map(|e| e.field.strip_prefix("answers."))
                .and_then(|code| {
                    c.definition
                        .sections
                        .iter()
                        .position(|s| s.questions.iter().any(|q| q.code == code))
                });
            let step = match (layout_of(c, mode), target) {
                (Layout::PerSection, Some(i)) => Step::Section(i),
                (Layout::PerSection, None) => current,
                (Layout::OnePage, _) => Step::All,
            };
            page(step, &errors, false)
        }
        Err(e) => Err(e),
    }
}

#[get("/s/{slug}/thanks")]
pub async fn thanks(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, Problem> {
    let run = async {
        let c = campaigns::by_slug(&state.db, &path).await?;
        let page = ThanksPage {
            chrome: Chrome::new(lang, req.path()),
            campaign: lang
                .pick(&c.campaign.name_vi, &c.campaign.name_en)
                .to_owned(),
            again: format!("/s/{}", c.campaign.slug),
            kiosk: false,
        };
        Ok::<_, AppError>(html(templates::render("respond/thanks.html", &page)?))
    };
    run.await.map_err(|e| e.page(lang))
}

/// The survey's public URL and whether it depends on the request's `Host`:
/// from `base_url`, else from the `qr_hosts` entry the `Host` header names
/// (the request only chooses among configured addresses; `X-Forwarded-Host`
/// and `Forwarded` are never read). `None`: no address may be printed.
fn survey_url(req: &HttpRequest, state: &AppState, slug: &str) -> Option<(String, bool)> {
    let path = format!("/s/{slug}");
    if let Some(url) = state.settings.public_url(&path) {
        return Some((url, false));
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))?;
    state
        .settings
        .qr_host_url(&host, &path)
        .map(|url| (url, true))
}

/// The QR code of a survey's address, and whether it varies by `Host`.
async fn qr_code(
    req: &HttpRequest,
    state: &AppState,
    slug: &str,
) -> Result<(QrCode, bool), AppError> {
    let c = campaigns::by_slug(&state.db, slug).await?;
    let (url, by_host) =
        survey_url(req, state, &c.campaign.slug).ok_or(AppError::NotFound("qr_no_base_url"))?;
    let code = QrCode::new(url.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok((code, by_host))
}

/// `public` when the address came from `base_url`; otherwise the image
/// depends on the `Host` header and no shared cache may keep it.
fn qr_cache(by_host: bool) -> &'static str {
    if by_host {
        "private, max-age=3600"
    } else {
        "public, max-age=3600"
    }
}

#[get("/s/{slug}/qr.svg")]
pub async fn qr_svg(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, Problem> {
    let (code, by_host) = qr_code(&req, &state, &path)
        .await
        .map_err(|e| e.page(lang))?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, qr_cache(by_host)))
        .insert_header((header::VARY, "Host"))
        .body(image))
}

#[get("/s/{slug}/qr.png")]
pub async fn qr_png(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, Problem> {
    let (code, by_host) = qr_code(&req, &state, &path)
        .await
        .map_err(|e| e.page(lang))?;
    let png = crate::views::png::qr_png(&code, 8);
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CACHE_CONTROL, qr_cache(by_host)))
        .insert_header((header::VARY, "Host"))
        .body(png))
}

#[cfg(test)]
mod tests {
    use super::form_is_utf8;

    #[test]
    fn form_bodies_must_decode_to_utf8() {
        assert!(form_is_utf8(b"a.comment=T%E1%BB%91t+l%E1%BA%AFm&nav=next"));
        assert!(form_is_utf8(b"a=100%&b=%"));
        assert!(!form_is_utf8(b"a.comment=%FF%FE"));
        assert!(!form_is_utf8(b"a.comment=\xff"));
        assert!(!form_is_utf8(b"%C3=x"));
    }
}
