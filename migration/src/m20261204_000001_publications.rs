//! Published results: a campaign's results change only at a publication, a fixed set of
//! included responses. `publications` keeps each publication's estimates (one JSON
//! document, filled once the set is committed) and `responses.publication` the number of
//! the publication that first included a row (NULL: waiting). Publication N is computed
//! from every row with `publication <= N`. The date is kept without the time of day.
//!
//! `result_caches` is no longer read or written (live results are gone); it is left in
//! place so that older databases migrate without losing anything.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("publications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    // 1, 2, … per campaign; unique, so that two processes publishing at
                    // once cannot both commit the same number.
                    .col(big_integer("number"))
                    // The date only (Asia/Ho_Chi_Minh), never the time of day.
                    .col(date("published_on"))
                    // `schedule`, `manual`, `close` or `cli`.
                    .col(string("trigger"))
                    // Responses in this publication (all rows with publication <= number).
                    .col(big_integer("included"))
                    // Invitation-channel responses included, rounded down to a multiple of k.
                    .col(big_integer_null("invited_answered"))
                    // Every estimate as one JSON document; NULL while being computed.
                    .col(text_null("payload"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_publications_campaign_id")
                            .from(Alias::new("publications"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_publications_campaign_number")
                    .table(Alias::new("publications"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("number"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("responses"))
                    .add_column(big_integer_null("publication"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("responses"))
                    .drop_column(Alias::new("publication"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("publications").to_owned())
            .await
    }
}
