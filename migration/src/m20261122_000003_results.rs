//! Results for analysts: the per-campaign cache of computed estimates and the
//! targets local governments set per locality and index.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("result_caches")
                    .col(big_integer("campaign_id").primary_key())
                    // What the results were computed from (response count, newest
                    // response, design, margins); a different marker means stale.
                    .col(string("marker"))
                    .col(timestamp_with_time_zone("computed_at"))
                    // Every estimate of the campaign as one JSON document.
                    .col(text("payload"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_result_caches_campaign_id")
                            .from(Alias::new("result_caches"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("result_targets")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(string("locality_code"))
                    .col(string("index_code"))
                    // `at_least` (estimate ≥ value), `gain` (change on the
                    // compared campaign ≥ value) or `top` (rank ≤ value).
                    .col(string("kind"))
                    .col(double("value"))
                    // `gain`: the slug of the earlier campaign compared with.
                    .col(string_null("baseline_slug"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_result_targets_campaign_id")
                            .from(Alias::new("result_targets"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The cache's change marker (count and newest id of a campaign's responses) is then
        // an index-only query, not a scan of the responses.
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_campaign_id")
                    .table(Alias::new("responses"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_result_targets_campaign")
                    .table(Alias::new("result_targets"))
                    .col(Alias::new("campaign_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_campaign_id")
                    .table(Alias::new("responses"))
                    .to_owned(),
            )
            .await?;
        for table in ["result_targets", "result_caches"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
