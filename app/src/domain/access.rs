//! Roles, permissions and the one table that maps them. Shared with the UI (to hide what a
//! role cannot do) and enforced on the server by the single guard.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Staff roles, from least to most trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Support,
    Billing,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Support, Role::Billing, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Support => "support",
            Role::Billing => "billing",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Support => "Support",
            Role::Billing => "Billing",
            Role::Admin => "Admin",
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        permission.roles().contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName(s.chars().take(40).collect()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

macro_rules! permissions {
    ($($variant:ident = $name:literal => [$($role:ident),*];)*) => {
        /// Everything a staff member can be allowed to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The dotted name used in audit entries and error messages.
            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// THE role table: which roles hold this permission.
            pub fn roles(self) -> &'static [Role] {
                match self { $(Permission::$variant => &[$(Role::$role),*],)* }
            }
        }
    };
}

permissions! {
    CustomerRead = "customer.read" => [Viewer, Support, Billing, Admin];
    TicketRead = "ticket.read" => [Viewer, Support, Billing, Admin];
    TicketWrite = "ticket.write" => [Support, Billing, Admin];
    CrmSync = "crm.sync" => [Support, Billing, Admin];
    CrmMerge = "crm.merge" => [Admin];
    BillingSync = "billing.sync" => [Billing, Admin];
    BillingRefund = "billing.refund" => [Billing, Admin];
    BillingRefundApprove = "billing.refund.approve" => [Admin];
    JobsRetry = "jobs.retry" => [Admin];
    WebhooksReplay = "webhooks.replay" => [Admin];
    AuditRead = "audit.read" => [Admin];
    AuditExport = "audit.export" => [Admin];
    StaffManage = "staff.manage" => [Admin];
    ApikeysManage = "apikeys.manage" => [Admin];
    SettingsManage = "settings.manage" => [Admin];
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route or server function requires. Every one declares exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: login, health, signed webhooks.
    Public,
    /// Any signed-in staff member (their own account, logout).
    SignedIn,
    Requires(Permission),
}

impl Access {
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::Requires(p), Some(role)) => role.can(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_agreed_matrix() {
        use Permission::*;
        let expect = |p: Permission, roles: &[Role]| assert_eq!(p.roles(), roles, "{p}");
        expect(CustomerRead, &Role::ALL);
        expect(TicketRead, &Role::ALL);
        for p in [TicketWrite, CrmSync] {
            expect(p, &[Role::Support, Role::Billing, Role::Admin]);
        }
        for p in [BillingSync, BillingRefund] {
            expect(p, &[Role::Billing, Role::Admin]);
        }
        for p in [
            BillingRefundApprove,
            JobsRetry,
            WebhooksReplay,
            AuditRead,
            AuditExport,
            StaffManage,
            ApikeysManage,
            SettingsManage,
            CrmMerge,
        ] {
            expect(p, &[Role::Admin]);
        }
    }

    #[test]
    fn admin_holds_every_permission_and_names_are_unique() {
        assert!(Permission::ALL.iter().all(|p| Role::Admin.can(*p)));
        let mut names: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
    }

    #[test]
    fn roles_parse_only_known_names() {
        assert_eq!("billing".parse(), Ok(Role::Billing));
        assert!("root".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err(), "names are exact");
    }

    #[test]
    fn access_rules() {
        assert!(Access::Public.allows(None));
        assert!(!Access::SignedIn.allows(None));
        assert!(Access::SignedIn.allows(Some(Role::Viewer)));
        assert!(!Access::Requires(Permission::AuditRead).allows(Some(Role::Billing)));
        assert!(Access::Requires(Permission::AuditRead).allows(Some(Role::Admin)));
    }
}

/// The signed-in staff member, as the UI sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A staff account as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Invited or reset, and no password set yet.
    pub awaiting_password: bool,
}

/// A one-time link to hand to someone; shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeLink {
    pub email: String,
    pub url: String,
    pub expires_at_ms: i64,
}
