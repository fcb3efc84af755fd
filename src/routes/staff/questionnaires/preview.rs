//! The preview of a questionnaire, as a citizen would see it.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::routes::extract::StaffUser;
use crate::routes::state::AppState;
use crate::services::questionnaires;

#[derive(Deserialize)]
pub struct PreviewQuery {
    /// `phone` (default) or `kiosk`.
    mode: Option<String>,
    /// Section to show on the phone (per-section layout).
    section: Option<usize>,
}

/// `GET /staff/questionnaires/{id}/preview?mode=phone|kiosk&section=N&lang=vi|en`:
/// the newest version exactly as a citizen sees it, rendered by the survey
/// pages themselves from an in-memory campaign. Nothing can be submitted.
#[get("/questionnaires/{id}/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::campaign::{DesignSettings, Layout};
    use crate::routes::respond::{Mode, render_page};
    use crate::services::campaigns::{CampaignLocality, OpenCampaign};
    use crate::views::respond::Step;

    user.require(Area::Questionnaires, Access::Read)?;
    let lang = user.lang;
    let id = path.into_inner();
    let (row, def) = questionnaires::latest(&state.db, id).await?;
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let kiosk = q.mode.as_deref() == Some("kiosk");
    let campaign = OpenCampaign {
        campaign: entity::campaign::Model {
            id: 0,
            slug: "preview".to_owned(),
            name_vi: def.title.get("vi").to_owned(),
            name_en: def.title.get("en").to_owned(),
            questionnaire_version_id: row.id,
            service_id: 0,
            opens_on: today,
            closes_on: today,
            is_public: false,
            layout: "per_section".to_owned(),
            design: "{}".to_owned(),
            sort_order: 0,
            created_at: now,
        },
        service: entity::service::Model {
            id: 0,
            code: "preview".to_owned(),
            name_vi: i18n::t(Lang::Vi, "designer-preview", &[]),
            name_en: i18n::t(Lang::En, "designer-preview", &[]),
        },
        version: row,
        definition: def,
        design: DesignSettings::default(),
        layout: Layout::PerSection,
        localities: vec![CampaignLocality {
            code: "00000".to_owned(),
            level: "commune".to_owned(),
            parent_code: None,
            name_vi: i18n::t(Lang::Vi, "designer-preview", &[]),
            name_en: i18n::t(Lang::En, "designer-preview", &[]),
        }],
    };
    let action = format!("/staff/questionnaires/{id}/preview");
    let mode = if kiosk {
        Mode::for_kiosk("preview", "00000")
    } else {
        Mode::web("preview")
    };
    let mode = Mode {
        action: action.clone(),
        thanks: action.clone(),
        ..mode
    };
    let sections = campaign.definition.sections.len();
    let section = q.section.unwrap_or(0).min(sections.saturating_sub(1));
    let step = if kiosk {
        Step::All
    } else {
        Step::Section(section)
    };
    let page = render_page(
        &campaign,
        &mode,
        lang,
        &action,
        "00000000-0000-4000-8000-000000000000",
        step,
        "00000",
        &serde_json::Map::new(),
        &[],
        false,
        None,
        &HashMap::new(),
    );
    let body = crate::templates::render("respond/survey.html", &page)?;
    // A banner above the survey: what this is, and the other views.
    let mode_name = if kiosk { "kiosk" } else { "phone" };
    let mut links = vec![format!(
        "<a href=\"/staff/questionnaires/{id}\">← {}</a>",
        i18n::t(lang, "designer-title", &[])
    )];
    for (m, l) in [
        ("phone", "vi"),
        ("phone", "en"),
        ("kiosk", "vi"),
        ("kiosk", "en"),
    ] {
        links.push(format!(
            "<a href=\"{action}?mode={m}&amp;lang={l}\">{} ({l})</a>",
            i18n::t(lang, &format!("designer-preview-{m}"), &[])
        ));
    }
    if !kiosk {
        for s in 0..sections {
            links.push(format!(
                "<a href=\"{action}?mode=phone&amp;section={s}&amp;lang={}\"{}>{} {}</a>",
                lang.code(),
                if s == section {
                    " aria-current=\"page\""
                } else {
                    ""
                },
                i18n::t(lang, "designer-section", &[]),
                s + 1
            ));
        }
    }
    let banner = format!(
        "<div class=\"notice preview-banner\" role=\"note\"><p><strong>{}</strong> {}</p><p class=\"row\">{}</p></div>",
        i18n::t(lang, "designer-preview", &[]),
        i18n::t(lang, &format!("designer-preview-{mode_name}"), &[]),
        links.join(" ")
    );
    let body = body.replacen(
        "<main id=\"main\">",
        &format!("<main id=\"main\">{banner}"),
        1,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
