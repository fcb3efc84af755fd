//! Use cases over the database. Functions take `&impl ConnectionTrait` so they
//! compose inside transactions.

pub mod audit;
pub mod campaigns;
pub mod demo;
pub mod invitations;
pub mod kiosks;
pub mod localities;
pub mod questionnaire_io;
pub mod questionnaires;
pub mod responses;
pub mod staff;
pub mod writer;
