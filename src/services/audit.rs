//! The audit log: who did what to which object. Only appended to; the
//! application has no code path that changes or deletes an entry.

use chrono::Utc;
use entity::audit_log;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect,
};

/// Who acted: a staff member, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub email: String,
}

impl Actor {
    pub fn staff(id: i64, email: &str) -> Actor {
        Actor {
            id: Some(id),
            email: email.to_owned(),
        }
    }

    /// The operator at the command line.
    pub fn cli() -> Actor {
        Actor {
            id: None,
            email: "cli".to_owned(),
        }
    }
}

/// Appends one entry.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    detail: &str,
) -> Result<(), DbErr> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(Utc::now()),
        staff_id: Set(actor.id),
        staff_email: Set(actor.email.clone()),
        action: Set(action.to_owned()),
        object_type: Set(object_type.to_owned()),
        object_id: Set(object_id.to_owned()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// A page of entries, newest first, and the total count.
pub async fn page(
    db: &impl ConnectionTrait,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_log::Model>, u64), DbErr> {
    let total = audit_log::Entity::find().count(db).await?;
    let rows = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .offset(page * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}
