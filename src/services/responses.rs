//! Recording a response: check it against its campaign, build the anonymous
//! row (design fields from the campaign's locality), hand it to the writer.

use chrono::NaiveDate;
use entity::campaign_locality;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Map, Value};

use crate::domain::answers::{self, Answers};
use crate::domain::campaign::Channel;
use crate::domain::submission::Submission;
use crate::domain::validation::FieldError;
use crate::error::AppError;

use super::campaigns::OpenCampaign;
use super::writer::{NewResponse, ResponseWriter, Stored, WriteError};

/// Refuses a campaign that is not accepting answers on `today`.
pub fn ensure_open(campaign: &OpenCampaign, today: NaiveDate) -> Result<(), AppError> {
    if today < campaign.campaign.opens_on {
        Err(AppError::Conflict("campaign_not_open"))
    } else if today > campaign.campaign.closes_on {
        Err(AppError::Conflict("campaign_closed"))
    } else {
        Ok(())
    }
}

/// Checks a submission against its campaign and builds the row to store.
pub async fn prepare(
    db: &impl ConnectionTrait,
    campaign: &OpenCampaign,
    submission: &Submission,
    channel: Channel,
    today: NaiveDate,
) -> Result<NewResponse, AppError> {
    ensure_open(campaign, today)?;
    let mut errors: Vec<FieldError> = Vec::new();
    if !campaign
        .localities
        .iter()
        .any(|l| l.code == submission.locality)
    {
        errors.push(FieldError::new("locality", "unknown_locality"));
    }
    let parsed = match answers::parse(&campaign.definition, &submission.answers) {
        Ok(a) => Some(a),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let (Some(parsed), true) = (parsed, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let link =
        campaign_locality::Entity::find_by_id((campaign.campaign.id, submission.locality.clone()))
            .one(db)
            .await?
            .ok_or(AppError::Validation(vec![FieldError::new(
                "locality",
                "unknown_locality",
            )]))?;
    Ok(NewResponse {
        id: submission.id.hyphenated().to_string(),
        campaign_id: campaign.campaign.id,
        locality_code: submission.locality.clone(),
        channel: channel.as_str().to_owned(),
        response_date: today,
        stratum: link.stratum,
        cluster: link.cluster,
        base_weight: link.base_weight.unwrap_or(1.0),
        cells: cells(&campaign.design.calibration, &parsed),
        answers: parsed.to_json_string(),
    })
}

/// Demographic cells for calibration: the answers to the campaign's
/// calibration variables (question codes such as `sex`, `age_group`).
pub fn cells(calibration: &[String], answers: &Answers) -> Option<String> {
    let map: Map<String, Value> = calibration
        .iter()
        .filter_map(|var| {
            answers
                .get(var)
                .and_then(|a| a.cell_value())
                .map(|v| (var.clone(), Value::String(v)))
        })
        .collect();
    (!map.is_empty()).then(|| Value::Object(map).to_string())
}

/// Stores a prepared row through the group-commit writer.
pub async fn store(writer: &ResponseWriter, row: NewResponse) -> Result<Stored, AppError> {
    writer.store(row).await.map_err(|e| match e {
        WriteError::Stopped => AppError::Internal(anyhow::anyhow!("response writer stopped")),
        WriteError::Db(msg) => AppError::Internal(anyhow::anyhow!("storing a response: {msg}")),
    })
}
