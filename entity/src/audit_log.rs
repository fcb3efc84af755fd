//! Who did what to which object. The application only ever appends.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// `None` for actions from the command line.
    pub staff_id: Option<i64>,
    pub staff_email: String,
    /// e.g. `user.create`, `questionnaire.publish`.
    pub action: String,
    /// e.g. `user`, `questionnaire`, `campaign`, `kiosk`, `export`.
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
}

impl ActiveModelBehavior for ActiveModel {}
