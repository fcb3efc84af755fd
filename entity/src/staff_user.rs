//! A staff account.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Lowercase email address; the login name.
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id PHC string (`$argon2id$v=19$…`); never the password.
    pub password_hash: String,
    /// `admin`, `designer`, `field_manager` or `analyst`.
    pub role: String,
    /// JSON array of locality codes the account is restricted to; `None` = everywhere.
    pub localities: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
