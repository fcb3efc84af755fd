//! Responses are append-only (never updated or deleted), so their count per
//! campaign is enough to tell that a campaign's results are stale; the
//! `(campaign_id, id)` index that served the newest-id half of the old
//! marker goes. Its keys are random (a submission id), so every stored row
//! dirtied a page of its own in it: dropping it halves the random index
//! writes of each submission. The count reads `ix_responses_campaign_locality`,
//! whose keys within a campaign and locality follow storage order.
//!
//! SQLite only: on PostgreSQL the index stays, since reading a campaign's
//! responses there is split into ranges of ids (SQLite splits by rowid), and
//! PostgreSQL's submissions are far from the writer's limit.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_campaign_id")
                    .table(Alias::new("responses"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_campaign_id")
                    .table(Alias::new("responses"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }
}
