//! The core schema every feature shares: localities, services, questionnaires
//! and their versions, campaigns, responses and population margins.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 8] = [
    "localities",
    "services",
    "questionnaires",
    "questionnaire_versions",
    "campaigns",
    "campaign_localities",
    "responses",
    "population_margins",
];

fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(Alias::new(table));
    for col in cols {
        idx.col(Alias::new(*col));
    }
    if unique {
        idx.unique();
    }
    idx.to_owned()
}

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
                    .table("localities")
                    .col(big_pk_auto("id"))
                    .col(string("code"))
                    .col(string("level"))
                    .col(string_null("parent_code"))
                    .col(string("name_vi"))
                    .col(string("name_en"))
                    .col(string_null("full_name_vi"))
                    .col(string_null("full_name_en"))
                    .col(string_null("unit_type_vi"))
                    .col(string_null("unit_type_en"))
                    .col(date("valid_from"))
                    .col(date_null("valid_to"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_localities_code_from",
                "localities",
                &["code", "valid_from"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "ix_localities_parent",
                "localities",
                &["parent_code"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("services")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name_vi"))
                    .col(string("name_en"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("questionnaires")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("title_vi"))
                    .col(string("title_en"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("questionnaire_versions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("questionnaire_id"))
                    .col(integer("version"))
                    .col(string("status"))
                    .col(text("definition"))
                    .col(string_null("checksum"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .foreign_key(&mut fk(
                        "questionnaire_versions",
                        "questionnaire_id",
                        "questionnaires",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_questionnaire_versions_q_v",
                "questionnaire_versions",
                &["questionnaire_id", "version"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("campaigns")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("slug"))
                    .col(string("name_vi"))
                    .col(string("name_en"))
                    .col(big_integer("questionnaire_version_id"))
                    .col(big_integer("service_id"))
                    .col(date("opens_on"))
                    .col(date("closes_on"))
                    .col(boolean("is_public"))
                    .col(string("layout"))
                    .col(text("design"))
                    .col(integer("sort_order"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "campaigns",
                        "questionnaire_version_id",
                        "questionnaire_versions",
                    ))
                    .foreign_key(&mut fk("campaigns", "service_id", "services"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("campaign_localities")
                    .col(big_integer("campaign_id"))
                    .col(string("locality_code"))
                    .col(string_null("stratum"))
                    .col(string_null("cluster"))
                    .col(double_null("base_weight"))
                    .col(integer_null("target_n"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("campaign_id"))
                            .col(Alias::new("locality_code")),
                    )
                    .foreign_key(&mut fk("campaign_localities", "campaign_id", "campaigns"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("responses")
                    .col(string("id").primary_key())
                    .col(big_integer("campaign_id"))
                    .col(string("locality_code"))
                    .col(string("channel"))
                    .col(date("response_date"))
                    .col(string_null("stratum"))
                    .col(string_null("cluster"))
                    .col(double("base_weight"))
                    .col(text_null("cells"))
                    .col(text("answers"))
                    .foreign_key(&mut fk("responses", "campaign_id", "campaigns"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_responses_campaign_locality",
                "responses",
                &["campaign_id", "locality_code"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("population_margins")
                    .col(big_pk_auto("id"))
                    .col(string("locality_code"))
                    .col(string("variable"))
                    .col(string("category"))
                    .col(double("total"))
                    .col(integer_null("reference_year"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ux_population_margins_cell",
                "population_margins",
                &["locality_code", "variable", "category"],
                true,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
