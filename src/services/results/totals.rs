//! The group totals of each publication, kept (`publication_totals`) so that a publication's
//! results need only the responses it adds.
//!
//! A publication is a fixed set of included responses: publication N holds every response
//! with `publication <= N`. Its totals ([`super::grouping`]) are therefore those of N − 1 plus
//! the responses with `publication = N`, and they never change once made. [`groups_of`] takes
//! them from the first of:
//!
//! 1. the stored totals of N, when made for the same plan;
//! 2. the stored totals of N − 1 and the responses of publication N, read and added;
//! 3. every response of publication N, read in one streaming pass.
//!
//! Stored totals count their responses; before use they are checked against the
//! publication's own count of included responses, and anything that does not agree (or cannot
//! be read, or was made for another plan: other items, thresholds, indices or calibration
//! variables) is rebuilt from the responses, never trusted. Only the latest publication's
//! totals are kept: older ones can always be rebuilt. Nothing in them is finer than the
//! responses they sum, which the same database holds; no page shows them.

use entity::{publication, publication_totals};
use hailong_stats::Groups;
use hailong_stats::encoding::{Reader, Writer};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Interner};
use super::grouping::join_groups;
use super::loader::load_groups;
use super::plan::Plan;

/// Where [`groups_of`] found the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Stored with the publication.
    Stored,
    /// The previous publication's, with this publication's responses added.
    Added,
    /// Read from every response.
    Read,
}

/// What totals must have been made for to be used with `plan`: a digest of its items (codes,
/// sources, scales, thresholds), its indices' items and the calibration variables.
pub fn plan_key(campaign: &OpenCampaign, plan: &Plan) -> String {
    let indices: Vec<(&str, Vec<&str>)> = plan
        .indices
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.items.iter().map(|(c, _)| c.as_str()).collect(),
            )
        })
        .collect();
    let text = format!(
        "v1\n{:?}\n{:?}\n{:?}",
        plan.items, indices, campaign.design.calibration
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A data set of groups as bytes: its labels, each group's codes, and the totals.
pub fn encode(data: &Dataset) -> Vec<u8> {
    let mut w = Writer::default();
    w.strs(&data.localities.labels);
    w.strs(&data.strata.labels);
    w.strs(&data.clusters.labels);
    w.u32s(&data.locality);
    w.u32s(&data.stratum);
    w.u32s(&data.cluster);
    w.u64(data.cells.len() as u64);
    for (variable, codes, labels) in &data.cells {
        w.str(variable);
        w.u32s(codes);
        w.strs(&labels.labels);
    }
    if let Some(g) = &data.groups {
        g.write(&mut w);
    }
    w.bytes
}

/// Reads [`encode`]'s bytes back; `None` when they are not a whole, consistent data set.
pub fn decode(bytes: &[u8]) -> Option<Dataset> {
    let mut r = Reader::new(bytes);
    let interner = |labels: Vec<String>| {
        let mut i = Interner::default();
        for l in &labels {
            i.code(l);
        }
        (i.labels.len() == labels.len()).then_some(i)
    };
    let localities = interner(r.strs().ok()?)?;
    let strata = interner(r.strs().ok()?)?;
    let clusters = interner(r.strs().ok()?)?;
    let locality = r.u32s().ok()?;
    let stratum = r.u32s().ok()?;
    let cluster = r.u32s().ok()?;
    let n_cells = r.u64().ok()?;
    let mut cells = Vec::new();
    for _ in 0..n_cells.min(64) {
        let variable = r.str().ok()?;
        let codes = r.u32s().ok()?;
        let labels = interner(r.strs().ok()?)?;
        cells.push((variable, codes, labels));
    }
    let groups = Groups::read(&mut r).ok()?;
    let n = groups.len();
    let within = |codes: &[u32], labels: &Interner| {
        codes.len() == n && codes.iter().all(|&c| (c as usize) < labels.labels.len())
    };
    let whole = r.is_done()
        && cells.len() as u64 == n_cells
        && within(&locality, &localities)
        && within(&stratum, &strata)
        && within(&cluster, &clusters)
        && cells.iter().all(|(_, codes, labels)| {
            codes.len() == n
                && codes
                    .iter()
                    .all(|&c| c == u32::MAX || (c as usize) < labels.labels.len())
        });
    whole.then(|| Dataset {
        n,
        locality,
        localities,
        stratum,
        strata,
        cluster,
        clusters,
        weight: groups.weights().to_vec(),
        cells,
        values: Vec::new(),
        answers: Vec::new(),
        groups: Some(groups),
    })
}

/// The stored totals of publication `number`, if made for `key` and whole.
async fn stored(
    db: &DatabaseConnection,
    campaign_id: i64,
    number: i64,
    key: &str,
) -> Result<Option<Dataset>, AppError> {
    let row = publication_totals::Entity::find()
        .filter(publication_totals::Column::CampaignId.eq(campaign_id))
        .filter(publication_totals::Column::Number.eq(number))
        .filter(publication_totals::Column::PlanKey.eq(key))
        .one(db)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let included: Option<i64> = publication::Entity::find()
        .select_only()
        .column(publication::Column::Included)
        .filter(publication::Column::CampaignId.eq(campaign_id))
        .filter(publication::Column::Number.eq(number))
        .into_tuple()
        .one(db)
        .await?;
    let data = tokio::task::spawn_blocking(move || decode(&row.data).map(|d| (d, row.responses)))
        .await
        .map_err(|e| anyhow::anyhow!("reading totals: {e}"))?;
    Ok(match data {
        Some((d, responses))
            if Some(responses) == included && d.responses() == responses as u64 =>
        {
            Some(d)
        }
        _ => {
            tracing::warn!(
                campaign_id,
                number,
                "stored totals do not match the publication; rebuilt from the responses"
            );
            None
        }
    })
}

/// The totals of publication `upto` (see the module documentation) and where they came from.
pub async fn groups_of(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: &Plan,
    upto: i64,
) -> Result<(Dataset, Source), AppError> {
    let id = campaign.campaign.id;
    let key = plan_key(campaign, plan);
    if let Some(d) = stored(db, id, upto, &key).await? {
        return Ok((d, Source::Stored));
    }
    if upto > 1
        && let Some(previous) = stored(db, id, upto - 1, &key).await?
    {
        let added = load_groups(db, campaign, plan, (upto, upto)).await?;
        let joined = tokio::task::spawn_blocking(move || join_groups(vec![previous, added]))
            .await
            .map_err(|e| anyhow::anyhow!("adding totals: {e}"))?;
        return Ok((joined, Source::Added));
    }
    Ok((
        load_groups(db, campaign, plan, (1, upto)).await?,
        Source::Read,
    ))
}

/// Keeps the totals of publication `number` (unless stored already, e.g. by another process)
/// and drops those of earlier publications.
pub async fn store(
    db: &DatabaseConnection,
    campaign: &OpenCampaign,
    plan: &Plan,
    number: i64,
    data: &Dataset,
) -> Result<(), AppError> {
    let id = campaign.campaign.id;
    let key = plan_key(campaign, plan);
    let responses = i64::try_from(data.responses()).unwrap_or(i64::MAX);
    let bytes = encode(data);
    let txn = crate::db::begin_write(db).await?;
    publication_totals::Entity::delete_many()
        .filter(publication_totals::Column::CampaignId.eq(id))
        .filter(publication_totals::Column::Number.lte(number))
        .exec(&txn)
        .await?;
    let insert = publication_totals::Entity::insert(publication_totals::ActiveModel {
        campaign_id: Set(id),
        number: Set(number),
        plan_key: Set(key),
        responses: Set(responses),
        data: Set(bytes),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    match insert {
        Ok(_) => txn.commit().await?,
        // Another process stored the same publication's totals first: they are the same.
        Err(e) => {
            txn.rollback().await?;
            tracing::debug!(campaign = %campaign.campaign.slug, number, error = %e, "totals not stored");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::campaign::DesignSettings;
    use crate::services::results::grouping::GroupParser;
    use crate::services::results::plan::plan;
    use crate::services::results::testkit::{campaign, sipas};

    #[test]
    fn totals_are_read_back_as_stored_and_damaged_ones_are_refused() {
        let c = campaign(
            sipas(),
            DesignSettings {
                calibration: vec!["sex".to_owned()],
                ..DesignSettings::default()
            },
        );
        let p = plan(&c.definition);
        let mut g = GroupParser::new(&c, &p, 0);
        g.push_row(
            "00004",
            Some("h1"),
            Some("c1"),
            2.0,
            Some(r#"{"sex": "F"}"#),
            r#"{"q1": 5}"#,
        );
        g.push_row("00007", None, None, 1.5, None, r#"{"q2": 3, "q4": 4}"#);
        g.push_row(
            "00004",
            Some("h1"),
            Some("c1"),
            1.0,
            Some(r#"{"sex": "F"}"#),
            "{}",
        );
        let data = g.finish();
        assert_eq!((data.n, data.responses()), (2, 3));
        let bytes = encode(&data);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.groups, data.groups);
        assert_eq!(back.localities.labels, data.localities.labels);
        assert_eq!(back.clusters.labels, data.clusters.labels);
        assert_eq!((back.locality, back.stratum), (data.locality, data.stratum));
        assert_eq!(back.cells[0].1, data.cells[0].1);
        assert_eq!(back.weight, [3.0, 1.5]);
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
        // Another plan (another threshold, another calibration) has another key.
        let key = plan_key(&c, &p);
        let mut other = c.clone();
        other.design.calibration.clear();
        assert_ne!(plan_key(&other, &p), key);
        let mut q = p.clone();
        q.items[0].satisfied_min = 5;
        assert_ne!(plan_key(&c, &q), key);
        assert_eq!(plan_key(&c, &p), key);
    }
}
