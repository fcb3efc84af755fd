//! Hailong's schema, as an ordered list of migrations: the schema's source of truth.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_core;
mod m20261122_000002_staff;
mod m20261122_000003_results;
mod m20261122_000004_collection;
mod m20261122_000005_localities;
mod m20261122_000006_report_requests;
mod m20261122_000007_sample_units;
mod m20261122_000008_login_failures;
mod m20261122_000009_lean_response_indexes;
mod m20261122_000010_response_counts;
mod m20261204_000001_publications;
mod m20261204_000004_invitations;
mod m20261205_000001_area_auxiliary;
mod m20261205_011500_sample_fieldwork;
mod m20261206_000001_publication_totals;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_core::Migration),
            Box::new(m20261122_000002_staff::Migration),
            Box::new(m20261122_000003_results::Migration),
            Box::new(m20261122_000004_collection::Migration),
            Box::new(m20261122_000005_localities::Migration),
            Box::new(m20261122_000006_report_requests::Migration),
            Box::new(m20261122_000007_sample_units::Migration),
            Box::new(m20261122_000008_login_failures::Migration),
            Box::new(m20261122_000009_lean_response_indexes::Migration),
            Box::new(m20261122_000010_response_counts::Migration),
            Box::new(m20261204_000001_publications::Migration),
            Box::new(m20261204_000004_invitations::Migration),
            Box::new(m20261205_000001_area_auxiliary::Migration),
            Box::new(m20261205_011500_sample_fieldwork::Migration),
            Box::new(m20261206_000001_publication_totals::Migration),
        ]
    }
}
