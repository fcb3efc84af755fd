//! Localities over time: the crosswalk from old units to new ones, and the
//! record of every sample draw (its seed and parameters) so a draw can be
//! reproduced.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("locality_crosswalk")
                    .col(big_pk_auto("id"))
                    .col(string("old_code"))
                    .col(string("new_code"))
                    .col(double("share"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_locality_crosswalk_old_new")
                    .table(Alias::new("locality_crosswalk"))
                    .col(Alias::new("old_code"))
                    .col(Alias::new("new_code"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sample_draws")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("campaign_id"))
                    .col(string("seed"))
                    .col(text("parameters"))
                    .col(integer("selected"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sample_draws_campaign_id")
                            .from(Alias::new("sample_draws"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sample_draws", "locality_crosswalk"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
