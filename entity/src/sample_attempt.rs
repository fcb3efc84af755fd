//! One fieldwork attempt for a selected unit of a sample draw: which unit
//! was tried (the unit itself or one of its replacements), in which order,
//! and its outcome code. Nothing else: no names, contacts, dates or times.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sample_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The selected unit (`sample_draw_units.id`).
    pub draw_unit_id: i64,
    /// 1 for the first attempt, 2 for the next, …
    pub attempt: i32,
    /// 0: the selected unit itself; k: its k-th replacement.
    pub rank: i32,
    /// Outcome code (`completed`, `partial`, `refused`, `non_contact`,
    /// `other`, `unknown`, `ineligible`).
    pub outcome: String,
}

impl ActiveModelBehavior for ActiveModel {}
