//! A personal API token for scripts; only its SHA-256 is stored.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    pub created_at: DateTimeUtc,
    pub last_used_on: Option<Date>,
    pub revoked: bool,
}

impl ActiveModelBehavior for ActiveModel {}
