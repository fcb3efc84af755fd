//! Use cases over the database. Functions take `&impl ConnectionTrait` so they
//! compose inside transactions.

pub mod audit;
pub mod auxiliary;
pub mod campaign_setup;
pub mod campaigns;
pub mod comparison;
pub mod crosswalk;
pub mod demo;
pub mod export;
pub mod fieldwork;
pub mod invitations;
pub mod kiosks;
pub mod localities;
pub mod locality_lists;
pub mod planning;
pub mod population;
pub mod publication;
pub mod questionnaire_io;
pub mod questionnaires;
pub mod reports;
pub mod responses;
pub mod results;
pub mod sampling;
pub mod staff;
pub mod targets;
pub mod writer;
