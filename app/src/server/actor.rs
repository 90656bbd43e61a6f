//! Who is acting, and from where. Every service that changes something takes an `Actor` so the
//! audit entry names them; webhooks and the worker act as `System`/`Webhook`.

use crate::domain::Role;

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
}

/// Where a request came from, for the audit log. Empty for the CLI and the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
