//! The CRM: services, advertising campaigns, leads, contracts, active clients and campaign
//! statistics on SQLite or PostgreSQL. This crate's core knows nothing of Tauri; the desktop
//! window (feature `desktop`) and the CLI are thin adapters over [`Crm`].

pub mod app;
pub mod auth;
pub mod backup;
pub mod board;
pub mod bulk;
pub mod campaigns;
pub mod cards;
pub mod cli;
pub mod clients;
pub mod config;
pub mod contracts;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod history;
pub mod i18n;
pub mod import;
pub mod leads;
pub mod logging;
pub mod merge;
pub mod permission;
pub mod reference;
pub mod saved_filters;
pub mod services;
pub mod stats;
mod store;
pub mod tasks;
pub mod users;

#[cfg(feature = "desktop")]
pub mod desktop;

pub use app::{Crm, Page, PageRequest, Settings};
pub use error::{Error, FieldError, Result};
pub use permission::{Actor, Permission};
