//! An email invitation to a campaign: the address list, stored apart from
//! responses and deleted on demand or when the campaign closes. The link's
//! token is derived from `nonce` with the server key (kept outside the
//! database) and never stored; using a link changes nothing on this row.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub email: String,
    /// Random; the token is `HMAC(server key, "token"|nonce)`.
    #[sea_orm(unique)]
    pub nonce: String,
    /// `HMAC(server key, "lookup"|token)`, to find the row from a link; set
    /// when the link is first sent.
    #[sea_orm(unique)]
    pub lookup_hash: Option<String>,
    pub sent: bool,
    pub reminded: bool,
    pub created_on: Date,
}

impl ActiveModelBehavior for ActiveModel {}
