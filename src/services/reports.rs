//! Reports by email: a staff member asks for a results export (CSV or XLSX of a level and
//! index, optionally the microdata bundle as a zip) to be emailed to their own address when
//! it is ready. The request is recorded at once (`queued`) and answered by a background task
//! that computes the results, builds the files and sends them through the [`Mailer`]; the
//! outcome (`sent`, or `failed` with the error) is written back to the request and to the
//! audit log.
//!
//! The export shows what the account may see: for a campaign that is not public, an account
//! restricted to some localities gets only their rows (the same rule as the pages), and may
//! not ask for the microdata, which is not split by locality.

use std::sync::Arc;

use chrono::Utc;
use entity::{campaign, report_request, staff_user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::auth::{Access, Area, Role};
use crate::config::Settings;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::mail::{Attachment, MailError, Mailer};
use crate::services::audit::{self, Actor};
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::export;
use crate::services::results::{self, Audience};
use crate::templates;

/// Requests shown on the page.
pub const RECENT: u64 = 10;

/// The form on the results page.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportForm {
    pub format: String,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub index: Option<String>,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub microdata: Option<String>,
}

/// Who asks.
#[derive(Debug, Clone)]
pub struct Requester {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub localities: Option<Vec<String>>,
    pub lang: Lang,
}

/// Status of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    /// Claimed by a process that is building and sending it.
    Sending,
    Sent,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
}

/// Checks a request and records it as queued (and in the audit log). The caller starts
/// [`run`] for it.
pub async fn request(
    db: &DatabaseConnection,
    who: &Requester,
    campaign: &OpenCampaign,
    form: &ReportForm,
) -> Result<report_request::Model, AppError> {
    if !who.role.can(Area::Results, Access::Read) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let format = match form.format.as_str() {
        "csv" | "xlsx" => form.format.clone(),
        _ => {
            errors.push(FieldError::new("format", "report_format"));
            String::new()
        }
    };
    let level = match form.level.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) => match results::Level::parse(l) {
            Some(l) => Some(l.as_str().to_owned()),
            None => {
                errors.push(FieldError::new("level", "report_level"));
                None
            }
        },
    };
    let index = match form.index.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(i) => {
            let plan = results::plan(&campaign.definition);
            if plan.nodes.iter().any(|n| n.key == i) {
                Some(i.to_owned())
            } else {
                errors.push(FieldError::new("index", "report_index"));
                None
            }
        }
    };
    let with_microdata = form.microdata.as_deref().is_some_and(|v| !v.is_empty());
    // The microdata are not split by locality: only for those who see them all.
    if with_microdata
        && (!who.role.can(Area::Exports, Access::Read)
            || Audience::of_campaign(campaign.campaign.is_public, who.localities.clone())
                .is_restricted())
    {
        errors.push(FieldError::new("microdata", "report_microdata"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = report_request::ActiveModel {
        campaign_id: Set(campaign.campaign.id),
        staff_user_id: Set(who.id),
        format: Set(format),
        level: Set(level),
        index_code: Set(index),
        with_microdata: Set(with_microdata),
        lang: Set(who.lang.code().to_owned()),
        status: Set(Status::Queued.as_str().to_owned()),
        error: Set(None),
        requested_at: Set(Utc::now()),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        &Actor::staff(who.id, &who.email),
        "report.request",
        "campaign",
        &campaign.campaign.id.to_string(),
        &describe(&campaign.campaign.slug, &row),
    )
    .await?;
    Ok(row)
}

fn describe(slug: &str, r: &report_request::Model) -> String {
    format!(
        "{slug} report {} {} level={} index={}{}",
        r.id,
        r.format,
        r.level.as_deref().unwrap_or("all"),
        r.index_code.as_deref().unwrap_or("all"),
        if r.with_microdata { " +microdata" } else { "" }
    )
}

/// Starts [`run`] in the background.
pub fn spawn(db: DatabaseConnection, settings: Arc<Settings>, mailer: Option<Mailer>, id: i64) {
    tokio::spawn(async move {
        if let Err(e) = run(&db, &settings, mailer.as_ref(), id).await {
            tracing::error!(error = %e, report = id, "report request could not be recorded");
        }
    });
}

/// A request claimed this long ago and still `sending` was being built by a process that
/// stopped; it is queued again.
const ABANDONED_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// At start-up: sends what an earlier process left queued (it stopped before, or while,
/// sending). Several processes may start at once on one database: each request is claimed
/// by exactly one of them (see [`run`]). A request abandoned mid-way is sent again, so a
/// report can reach its requester twice but is never lost.
pub async fn resume(
    db: &DatabaseConnection,
    settings: Arc<Settings>,
    mailer: Option<Mailer>,
) -> Result<usize, AppError> {
    report_request::Entity::update_many()
        .col_expr(
            report_request::Column::Status,
            Expr::value(Status::Queued.as_str()),
        )
        .filter(report_request::Column::Status.eq(Status::Sending.as_str()))
        .filter(report_request::Column::RequestedAt.lt(Utc::now() - ABANDONED_AFTER))
        .exec(db)
        .await?;
    let queued: Vec<i64> = report_request::Entity::find()
        .select_only()
        .column(report_request::Column::Id)
        .filter(report_request::Column::Status.eq(Status::Queued.as_str()))
        .order_by_asc(report_request::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    for &id in &queued {
        spawn(db.clone(), settings.clone(), mailer.clone(), id);
    }
    Ok(queued.len())
}

/// Builds and sends one queued report, then records the outcome. An error here is one of
/// recording the outcome; failures to build or send end up in the request as `failed`.
/// The request is first claimed (`queued` → `sending` in one statement): a request some
/// other task or process claimed, or one already done, is left alone.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    mailer: Option<&Mailer>,
    id: i64,
) -> Result<(), AppError> {
    let claimed = report_request::Entity::update_many()
        .col_expr(
            report_request::Column::Status,
            Expr::value(Status::Sending.as_str()),
        )
        .filter(report_request::Column::Id.eq(id))
        .filter(report_request::Column::Status.eq(Status::Queued.as_str()))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(());
    }
    let Some(req) = report_request::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    let Some(user) = staff_user::Entity::find_by_id(req.staff_user_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let outcome = build_and_send(db, settings, mailer, &req, &user).await;
    let (status, error) = match &outcome {
        Ok(()) => (Status::Sent, None),
        Err(e) => {
            tracing::warn!(error = %e, report = id, "report not sent");
            (Status::Failed, Some(e.clone()))
        }
    };
    let slug = campaign::Entity::find_by_id(req.campaign_id)
        .one(db)
        .await?
        .map(|c| c.slug)
        .unwrap_or_default();
    audit::record(
        db,
        &Actor::staff(user.id, &user.email),
        &format!("report.{}", status.as_str()),
        "campaign",
        &req.campaign_id.to_string(),
        &match &error {
            Some(e) => format!("{}: {e}", describe(&slug, &req)),
            None => describe(&slug, &req),
        },
    )
    .await?;
    let mut active: report_request::ActiveModel = req.into();
    active.status = Set(status.as_str().to_owned());
    active.error = Set(error);
    active.finished_at = Set(Some(Utc::now()));
    active.update(db).await?;
    Ok(())
}

#[derive(Serialize)]
struct MailContext<'a> {
    lang: &'a str,
    campaign: String,
    format: &'a str,
    level: String,
    index: String,
    microdata: bool,
    rows: usize,
    /// The results page, from `base_url` only (none without it), never from a request.
    link: Option<String>,
}

/// Everything that can fail for the requester to see, as one message.
async fn build_and_send(
    db: &DatabaseConnection,
    settings: &Settings,
    mailer: Option<&Mailer>,
    req: &report_request::Model,
    user: &staff_user::Model,
) -> Result<(), String> {
    let lang = Lang::parse(&req.lang).unwrap_or(Lang::Vi);
    let slug = campaign::Entity::find_by_id(req.campaign_id)
        .one(db)
        .await
        .map_err(|e| e.to_string())?
        .map(|c| c.slug)
        .ok_or("the campaign no longer exists")?;
    let campaign = campaigns::by_slug(db, &slug)
        .await
        .map_err(|e| e.to_string())?;
    let fresh = super::publication::published(db, &campaign)
        .await
        .map_err(|e| e.to_string())?;
    let localities: Option<Vec<String>> = user
        .localities
        .as_deref()
        .and_then(|l| serde_json::from_str(l).ok());
    let shown =
        Audience::of_campaign(campaign.campaign.is_public, localities).results(&fresh.results);
    let level = req.level.as_deref().and_then(results::Level::parse);
    let index = req.index_code.as_deref();
    let rows = shown
        .rows
        .iter()
        .filter(|r| level.is_none_or(|l| r.level == l) && index.is_none_or(|i| r.index == i))
        .count();
    let mut files = vec![match req.format.as_str() {
        "xlsx" => Attachment {
            filename: format!("{slug}-results.xlsx"),
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                .to_owned(),
            bytes: export::results_xlsx(&shown, level, index, lang).map_err(|e| e.to_string())?,
        },
        _ => Attachment {
            filename: format!("{slug}-results.csv"),
            content_type: "text/csv; charset=utf-8".to_owned(),
            bytes: export::results_csv(&shown, level, index, lang)
                .map_err(|e| e.to_string())?
                .into_bytes(),
        },
    }];
    if req.with_microdata {
        // Written into the archive as the rows are read: only the compressed bytes are held.
        let mut archive = export::ZipSink::new(std::io::Cursor::new(Vec::new()));
        export::microdata(db, &campaign, &mut archive)
            .await
            .map_err(|e| e.to_string())?;
        files.push(Attachment {
            filename: format!("{slug}-microdata.zip"),
            content_type: "application/zip".to_owned(),
            bytes: archive
                .into_inner()
                .map_err(|e| e.to_string())?
                .into_inner(),
        });
    }
    let node_name = |key: &str| {
        shown
            .node(key)
            .map(|n| format!("{key} – {}", n.name(lang)))
            .unwrap_or_else(|| key.to_owned())
    };
    let ctx = MailContext {
        lang: lang.code(),
        campaign: lang
            .pick(&campaign.campaign.name_vi, &campaign.campaign.name_en)
            .to_owned(),
        format: if req.format == "xlsx" { "XLSX" } else { "CSV" },
        level: req.level.clone().unwrap_or_default(),
        index: index.map(node_name).unwrap_or_default(),
        microdata: req.with_microdata,
        rows,
        link: settings.public_url(&format!("/results/{slug}")),
    };
    let subject = templates::render("email/report/subject.txt", &ctx).map_err(|e| e.to_string())?;
    let body = templates::render("email/report/body.txt", &ctx).map_err(|e| e.to_string())?;
    let mailer = mailer.ok_or_else(|| MailError::NotConfigured.to_string())?;
    mailer
        .send_with_attachments(&user.email, subject.trim(), body, files)
        .await
        .map_err(|e| e.to_string())
}

/// The most recent requests of a user for a campaign, newest first.
pub async fn recent(
    db: &DatabaseConnection,
    user_id: i64,
    campaign_id: i64,
) -> Result<Vec<report_request::Model>, AppError> {
    Ok(report_request::Entity::find()
        .filter(report_request::Column::StaffUserId.eq(user_id))
        .filter(report_request::Column::CampaignId.eq(campaign_id))
        .order_by_desc(report_request::Column::Id)
        .limit(RECENT)
        .all(db)
        .await?)
}
