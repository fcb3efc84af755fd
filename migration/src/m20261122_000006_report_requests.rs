//! Reports by email: a staff member's request for a results export to be emailed when it is
//! ready, and what became of it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("report_requests")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(big_integer("staff_user_id"))
                    // `csv` or `xlsx`.
                    .col(string("format"))
                    // A level (`national`, `province`, `commune`) or none for every level.
                    .col(string_null("level"))
                    // An index key or none for every index, element and criterion.
                    .col(string_null("index_code"))
                    // Also the anonymised microdata bundle as a zip.
                    .col(boolean("with_microdata"))
                    // The language of the email (`vi`, `en`).
                    .col(string("lang"))
                    // `queued`, `sent` or `failed`.
                    .col(string("status"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("requested_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_report_requests_campaign_id")
                            .from(Alias::new("report_requests"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_report_requests_staff_user_id")
                            .from(Alias::new("report_requests"), Alias::new("staff_user_id"))
                            .to(Alias::new("staff_users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_report_requests_user")
                    .table(Alias::new("report_requests"))
                    .col(Alias::new("staff_user_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("report_requests"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
