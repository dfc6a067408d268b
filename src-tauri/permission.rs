//! Permissions are data (rows in `permissions`), but the code names each one it checks, so a
//! typo is a compile error rather than a silently denied (or granted) operation.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::db::Db;
use crate::domain::id::UserId;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Permission {
    #[serde(rename = "stats.view")]
    StatsView,
    #[serde(rename = "services.view")]
    ServicesView,
    #[serde(rename = "services.edit")]
    ServicesEdit,
    #[serde(rename = "campaigns.view")]
    CampaignsView,
    #[serde(rename = "campaigns.edit")]
    CampaignsEdit,
    #[serde(rename = "channels.edit")]
    ChannelsEdit,
    #[serde(rename = "leads.view")]
    LeadsView,
    #[serde(rename = "leads.edit")]
    LeadsEdit,
    #[serde(rename = "leads.convert")]
    LeadsConvert,
    #[serde(rename = "clients.view")]
    ClientsView,
    #[serde(rename = "clients.edit")]
    ClientsEdit,
    #[serde(rename = "contracts.view")]
    ContractsView,
    #[serde(rename = "contracts.edit")]
    ContractsEdit,
    #[serde(rename = "users.manage")]
    UsersManage,
    #[serde(rename = "reasons.edit")]
    ReasonsEdit,
    #[serde(rename = "notes.add")]
    NotesAdd,
    #[serde(rename = "owners.assign")]
    OwnersAssign,
    #[serde(rename = "tasks.all")]
    TasksAll,
    #[serde(rename = "history.view")]
    HistoryView,
    #[serde(rename = "leads.merge")]
    LeadsMerge,
    #[serde(rename = "data.export")]
    DataExport,
    #[serde(rename = "data.import")]
    DataImport,
}

impl Permission {
    pub const ALL: [Permission; 22] = [
        Self::StatsView,
        Self::ServicesView,
        Self::ServicesEdit,
        Self::CampaignsView,
        Self::CampaignsEdit,
        Self::ChannelsEdit,
        Self::LeadsView,
        Self::LeadsEdit,
        Self::LeadsConvert,
        Self::ClientsView,
        Self::ClientsEdit,
        Self::ContractsView,
        Self::ContractsEdit,
        Self::UsersManage,
        Self::ReasonsEdit,
        Self::NotesAdd,
        Self::OwnersAssign,
        Self::TasksAll,
        Self::HistoryView,
        Self::LeadsMerge,
        Self::DataExport,
        Self::DataImport,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::StatsView => "stats.view",
            Self::ServicesView => "services.view",
            Self::ServicesEdit => "services.edit",
            Self::CampaignsView => "campaigns.view",
            Self::CampaignsEdit => "campaigns.edit",
            Self::ChannelsEdit => "channels.edit",
            Self::LeadsView => "leads.view",
            Self::LeadsEdit => "leads.edit",
            Self::LeadsConvert => "leads.convert",
            Self::ClientsView => "clients.view",
            Self::ClientsEdit => "clients.edit",
            Self::ContractsView => "contracts.view",
            Self::ContractsEdit => "contracts.edit",
            Self::UsersManage => "users.manage",
            Self::ReasonsEdit => "reasons.edit",
            Self::NotesAdd => "notes.add",
            Self::OwnersAssign => "owners.assign",
            Self::TasksAll => "tasks.all",
            Self::HistoryView => "history.view",
            Self::LeadsMerge => "leads.merge",
            Self::DataExport => "data.export",
            Self::DataImport => "data.import",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// The signed-in user as the core sees them, with the connection their use cases run on: on an
/// office PostgreSQL that is the user's own login role, so the server enforces their role too.
///
/// An `Actor` exists only through sign-in ([`crate::Crm::sign_in`]) or a refresh of one
/// ([`crate::Crm::refresh`], which the window calls on every command so that a deactivation or a
/// revoked permission takes effect at once): the private connection keeps adapters and tests from
/// building one for an arbitrary user id.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: UserId,
    pub username: String,
    pub full_name: String,
    pub roles: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    /// Signed in with a one-time password (an administrator's reset, an office's upgrade): until
    /// they choose their own, every use case refuses them.
    pub must_change_password: bool,
    #[serde(skip)]
    pub(crate) db: Db,
}

impl Actor {
    #[must_use]
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Fails with `Forbidden` unless the actor holds `permission` (and has chosen their own
    /// password: see [`Actor::must_change_password`]).
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.must_change_password {
            return Err(Error::PasswordChangeRequired);
        }
        if self.can(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(permission.code()))
        }
    }

    /// Fails only for a one-time password: what every signed-in user may do (their own tasks,
    /// colleagues' names for pickers).
    pub fn require_signed_in(&self) -> Result<()> {
        if self.must_change_password {
            return Err(Error::PasswordChangeRequired);
        }
        Ok(())
    }

    /// Fails unless the actor holds at least one of `permissions` (look-up lists that several
    /// roles need, such as campaign names in the lead form).
    pub fn require_any(&self, permissions: &[Permission]) -> Result<()> {
        if self.must_change_password {
            return Err(Error::PasswordChangeRequired);
        }
        if permissions.iter().any(|p| self.can(*p)) {
            Ok(())
        } else {
            Err(Error::Forbidden(permissions[0].code()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_code_round_trips() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_code(p.code()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.code());
        }
        assert_eq!(Permission::from_code("nonsense"), None);
    }
}
