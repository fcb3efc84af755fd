//! The units a sample draw selected, stage by stage: each first-stage unit
//! (and second-stage unit in a two-stage draw) with its inclusion
//! probabilities and the design fields its respondents get.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sample_draw_units")
                    .col(big_pk_auto("id"))
                    .col(big_integer("draw_id"))
                    .col(string("stratum"))
                    .col(string("psu_code"))
                    .col(double("psu_size"))
                    .col(double("psu_probability"))
                    .col(boolean("psu_certainty"))
                    .col(string_null("unit_code"))
                    .col(string_null("unit_name"))
                    .col(double_null("unit_size"))
                    .col(double_null("unit_probability"))
                    .col(boolean_null("unit_certainty"))
                    .col(double("probability"))
                    .col(string("design_stratum"))
                    .col(string_null("cluster"))
                    .col(double("base_weight"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sample_draw_units_draw_id")
                            .from(Alias::new("sample_draw_units"), Alias::new("draw_id"))
                            .to(Alias::new("sample_draws"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sample_draw_units_draw_id")
                    .table(Alias::new("sample_draw_units"))
                    .col(Alias::new("draw_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("sample_draw_units"))
                    .to_owned(),
            )
            .await
    }
}
