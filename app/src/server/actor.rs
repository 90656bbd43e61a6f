//! Who is acting, and from where. Every service that reads staff data or changes something
//! takes an `Actor`, checks it with `require` against the one role table, and names it in the
//! audit entry; webhooks and the worker act as `System`/`Webhook`.

use crate::domain::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: String,
        email: String,
        role: Role,
    },
    System,
    Webhook,
    ApiKey {
        id: String,
        name: String,
    },
    /// Someone not signed in (a failed login names the email they typed in the details).
    Anonymous,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Staff { .. } => "staff",
            Actor::System => "system",
            Actor::Webhook => "webhook",
            Actor::ApiKey { .. } => "api_key",
            Actor::Anonymous => "anonymous",
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff { id, .. } | Actor::ApiKey { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::Staff { email, .. } => email.clone(),
            Actor::System => "system".into(),
            Actor::Webhook => "webhook".into(),
            Actor::ApiKey { name, .. } => format!("api-key:{name}"),
            Actor::Anonymous => "anonymous".into(),
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Staff { role, .. } => Some(*role),
            _ => None,
        }
    }

    /// The one permission check every server function and acting service makes, from the
    /// role table in `domain::access`. `System` (the worker, the CLI, start-up) is the
    /// operator's own process and holds every permission; a webhook or an API key holds no
    /// staff permission at all, so a service reached from one of them refuses it.
    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        match self {
            Actor::System => Ok(()),
            Actor::Staff { role, .. } if role.can(permission) => Ok(()),
            Actor::Anonymous => Err(Denied::SignInRequired),
            _ => Err(Denied::Forbidden(permission)),
        }
    }

    /// Any signed-in staff member (their own account, the status panel).
    pub fn require_staff(&self) -> Result<(), Denied> {
        match self {
            Actor::Staff { .. } | Actor::System => Ok(()),
            Actor::Anonymous => Err(Denied::SignInRequired),
            _ => Err(Denied::NotStaff),
        }
    }
}

/// A refused permission check. Carries its own HTTP status and the sentence a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("Sign in to continue.")]
    SignInRequired,
    #[error("Your role does not allow this. Ask an admin if you need it.")]
    Forbidden(Permission),
    #[error("Only staff may do this.")]
    NotStaff,
}

impl Denied {
    pub fn status(self) -> http::StatusCode {
        match self {
            Denied::SignInRequired => http::StatusCode::UNAUTHORIZED,
            Denied::Forbidden(_) | Denied::NotStaff => http::StatusCode::FORBIDDEN,
        }
    }

    /// What the audit entry records as required.
    pub fn required(self) -> &'static str {
        match self {
            Denied::Forbidden(p) => p.as_str(),
            _ => "signed-in",
        }
    }
}

/// Where a request came from, for the audit log. Empty for the CLI and the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role) -> Actor {
        Actor::Staff {
            id: "stf_1".into(),
            email: "a@example.com".into(),
            role,
        }
    }

    #[test]
    fn require_follows_the_role_table_for_every_permission() {
        for &p in Permission::ALL {
            for role in Role::ALL {
                assert_eq!(staff(role).require(p).is_ok(), role.can(p), "{role} {p}");
            }
            assert_eq!(Actor::Anonymous.require(p), Err(Denied::SignInRequired));
            assert_eq!(Actor::Webhook.require(p), Err(Denied::Forbidden(p)));
            let key = Actor::ApiKey {
                id: "key_1".into(),
                name: "product".into(),
            };
            assert_eq!(key.require(p), Err(Denied::Forbidden(p)));
            assert!(Actor::System.require(p).is_ok());
        }
    }

    #[test]
    fn refusals_say_their_status() {
        assert_eq!(Denied::SignInRequired.status(), 401);
        assert_eq!(Denied::Forbidden(Permission::AuditRead).status(), 403);
        assert_eq!(
            Denied::Forbidden(Permission::AuditRead).required(),
            "audit.read"
        );
        assert_eq!(
            Actor::Anonymous.require_staff(),
            Err(Denied::SignInRequired)
        );
        assert!(staff(Role::Viewer).require_staff().is_ok());
    }
}

/// How a service that only reads can fail: the caller may not read it, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
