//! Collecting answers: kiosks registered for a campaign, locality and service,
//! and email invitations.
//!
//! A kiosk's secret device token is stored only as a SHA-256 hash, and never
//! with a response (a kiosk response carries the channel `kiosk` only).
//! Invitations (the address list) live apart from responses: a used
//! invitation records the date only, and not which response it produced.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from_table: &str, from_col: &str, to_table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(Alias::new(from_table), Alias::new(from_col))
        .to(Alias::new(to_table), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("kiosks")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(string("locality_code"))
                    .col(big_integer("service_id"))
                    .col(string_uniq("token_hash"))
                    .col(string("label"))
                    .col(date("created_on"))
                    .col(boolean("revoked"))
                    .foreign_key(&mut fk("kiosks", "campaign_id", "campaigns"))
                    .foreign_key(&mut fk("kiosks", "service_id", "services"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("invitations")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(string("email"))
                    .col(string_uniq("token_hash"))
                    .col(string_null("reminder_token_hash"))
                    .col(boolean("sent"))
                    .col(boolean("reminded"))
                    .col(date_null("used_on"))
                    .col(date("created_on"))
                    .foreign_key(&mut fk("invitations", "campaign_id", "campaigns"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invitations_campaign_email")
                    .table(Alias::new("invitations"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("email"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_reminder_token")
                    .table(Alias::new("invitations"))
                    .col(Alias::new("reminder_token_hash"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("invitations")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("kiosks")).to_owned())
            .await
    }
}
