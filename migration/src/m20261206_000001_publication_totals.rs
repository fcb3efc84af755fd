//! The group totals of a publication's included responses (`publication_totals`): what its
//! results are computed from, kept so that the next publication adds only its own responses
//! to them instead of reading every response again (see `services::results::totals`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("publication_totals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(big_integer("number"))
                    .col(text("plan_key"))
                    .col(big_integer("responses"))
                    .col(blob("data"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("publication_totals"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_publication_totals_campaign_number")
                    .table(Alias::new("publication_totals"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("number"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("publication_totals"))
                    .to_owned(),
            )
            .await
    }
}
