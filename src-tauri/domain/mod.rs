//! Value types parsed once at the edge: money, contacts, names, dates.

pub mod contact;
pub mod date;
pub mod id;
pub mod money;
pub mod text;

pub use money::Money;
