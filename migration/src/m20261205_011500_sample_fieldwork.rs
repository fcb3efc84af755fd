//! Fieldwork of a sample draw: each selected unit's ordered replacement
//! list, drawn with the sample, and its attempts in the order they were
//! made, each with an outcome code only (no names, contacts, dates or
//! times: nothing that identifies a person or when they were visited).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sample_replacements")
                    .col(big_pk_auto("id"))
                    .col(big_integer("draw_unit_id"))
                    .col(integer("rank"))
                    .col(string("code"))
                    .col(string_null("name"))
                    .col(double("size"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sample_replacements_draw_unit_id")
                            .from(
                                Alias::new("sample_replacements"),
                                Alias::new("draw_unit_id"),
                            )
                            .to(Alias::new("sample_draw_units"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sample_replacements_unit_rank")
                    .table(Alias::new("sample_replacements"))
                    .col(Alias::new("draw_unit_id"))
                    .col(Alias::new("rank"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sample_attempts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("draw_unit_id"))
                    .col(integer("attempt"))
                    .col(integer("rank"))
                    .col(string("outcome"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sample_attempts_draw_unit_id")
                            .from(Alias::new("sample_attempts"), Alias::new("draw_unit_id"))
                            .to(Alias::new("sample_draw_units"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sample_attempts_unit_attempt")
                    .table(Alias::new("sample_attempts"))
                    .col(Alias::new("draw_unit_id"))
                    .col(Alias::new("attempt"))
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sample_attempts", "sample_replacements"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
