//! Value types parsed once at the edge: money, contacts, names.

pub mod contact;
pub mod money;
pub mod text;

pub use money::Money;
