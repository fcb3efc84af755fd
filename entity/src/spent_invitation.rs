//! A used invitation link: `HMAC(server key, "spent"|token)` only — no date,
//! no reference to the invitation row. Without the server key nobody can
//! tell which invitation a tag belongs to; its uniqueness makes a link
//! single-use.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "spent_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag: String,
    pub campaign_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
