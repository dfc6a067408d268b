//! Ids of each kind of record, and the version a row had when it was read.
//!
//! Each is its own type, so a client's id cannot be passed where a lead's is expected, nor a
//! version where an id is: the mistake is a compile error, not a wrong row. They are plain `i64`s
//! in SQL and JSON (`#[sqlx(transparent)]`, `#[serde(transparent)]`), so the window and the
//! database see no difference.

use std::fmt;

use crate::db::Value;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id (or version) a row holds. Only rows read from the database, and ids the
            /// window or the command line name, are turned into one; a wrong number is NotFound.
            pub const fn new(value: i64) -> Self {
                Self(value)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        /// An id typed on the command line, or carried in an error's parameters.
        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// For the helpers that serve every table alike (history, archiving, versions).
        impl From<$name> for i64 {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl From<$name> for Value {
            fn from(v: $name) -> Self {
                Value::I64(Some(v.0))
            }
        }

        impl From<Option<$name>> for Value {
            fn from(v: Option<$name>) -> Self {
                Value::I64(v.map(|v| v.0))
            }
        }
    )*};
}

ids! {
    /// A person who signs in.
    UserId;
    /// A role (administrator, operator, ...) and the permissions it grants.
    RoleId;
    /// A potential client.
    LeadId;
    /// An active client (made from a lead).
    ClientId;
    /// A client's contract.
    ContractId;
    /// A service the company sells.
    ServiceId;
    /// An advertising campaign.
    CampaignId;
    /// A promotion channel of campaigns.
    ChannelId;
    /// A reason a lead was lost.
    LostReasonId;
    /// A task (a call, a meeting) about a lead or a client.
    TaskId;
    /// A filter someone saved on a list.
    SavedFilterId;
    /// One import of a file, which can be undone.
    ImportId;
    /// The version of a row as it was read: a save made on an older one is a conflict. It is one
    /// more than the number of audited writes of the row.
    Version;
}

impl Version {
    /// The version a row has after one more write.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_plain_number_in_json() {
        assert_eq!(serde_json::to_string(&LeadId::new(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<ClientId>("7").unwrap(), ClientId::new(7));
        assert!(serde_json::from_str::<Version>("\"7\"").is_err());
    }

    #[test]
    fn an_id_binds_as_an_integer() {
        assert!(matches!(Value::from(ContractId::new(3)), Value::I64(Some(3))));
        assert!(matches!(Value::from(None::<TaskId>), Value::I64(None)));
    }
}
