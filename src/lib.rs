//! Hailong: citizen-satisfaction surveys of public services, with
//! design-based indices and confidence intervals.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod mail;
pub mod metrics;
pub mod presets;
pub mod routes;
pub mod secret_key;
pub mod services;
pub mod startup;
pub mod templates;
pub mod views;
