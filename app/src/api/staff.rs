//! Staff administration (staff.manage) and each person's own password.

use crate::domain::{OneTimeLink, StaffView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ctx {
    pub use crate::api::ctx::{bad_input, fail, public, require, signed_in};
    use crate::server::AppState;

    pub fn link(
        state: &AppState,
        email: &str,
        token: &str,
        expires_at_ms: i64,
    ) -> crate::domain::OneTimeLink {
        crate::domain::OneTimeLink {
            email: email.to_string(),
            url: format!("{}/welcome?token={token}", state.config.server.public_url),
            expires_at_ms,
        }
    }
}

#[server(prefix = "/api/fn", endpoint = "staff_list")]
pub async fn list_staff() -> Result<Vec<StaffView>, ServerFnError> {
    use crate::server::services::staff;
    let c = ctx::require(crate::domain::Permission::StaffManage).await?;
    let all = staff::list(&c.state.db, &c.actor)
        .await
        .map_err(crate::api::ctx::fail)?;
    Ok(all
        .into_iter()
        .map(|s| StaffView {
            awaiting_password: s.password_hash.is_none(),
            id: s.id,
            email: s.email,
            name: s.name,
            role: s.role,
            active: s.active,
        })
        .collect())
}

#[server(prefix = "/api/fn", endpoint = "staff_invite")]
pub async fn invite_staff(
    email: String,
    name: String,
    role: String,
) -> Result<OneTimeLink, ServerFnError> {
    use crate::domain::{Email, Permission, Role};
    use crate::server::services::staff;
    let c = ctx::require(Permission::StaffManage).await?;
    let email = Email::parse(&email).map_err(|e| ctx::bad_input(e.to_string()))?;
    let role: Role = role
        .parse()
        .map_err(|_| ctx::bad_input("Pick a role: viewer, support, billing or admin.".into()))?;
    let (s, token) = staff::invite(&c.state.db, &c.actor, &c.meta, &email, &name, role)
        .await
        .map_err(ctx::fail)?;
    Ok(ctx::link(
        &c.state,
        &s.email,
        &token.token,
        token.expires_at_ms,
    ))
}

#[server(prefix = "/api/fn", endpoint = "staff_role")]
pub async fn change_staff_role(id: String, role: String) -> Result<(), ServerFnError> {
    use crate::domain::{Permission, Role};
    use crate::server::services::staff;
    let c = ctx::require(Permission::StaffManage).await?;
    let role: Role = role
        .parse()
        .map_err(|_| ctx::bad_input("Pick a role: viewer, support, billing or admin.".into()))?;
    staff::change_role(&c.state.db, &c.actor, &c.meta, &id, role)
        .await
        .map_err(ctx::fail)?;
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "staff_active")]
pub async fn set_staff_active(id: String, active: bool) -> Result<(), ServerFnError> {
    use crate::server::services::staff;
    let c = ctx::require(crate::domain::Permission::StaffManage).await?;
    if !active && c.actor.id() == Some(id.as_str()) {
        return Err(ctx::bad_input("You cannot deactivate yourself.".into()));
    }
    staff::set_active(&c.state.db, &c.actor, &c.meta, &id, active)
        .await
        .map_err(ctx::fail)?;
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "staff_reset")]
pub async fn force_staff_reset(id: String) -> Result<OneTimeLink, ServerFnError> {
    use crate::server::services::staff;
    let c = ctx::require(crate::domain::Permission::StaffManage).await?;
    let target = staff::get(&c.state.db, &id)
        .await
        .map_err(ctx::fail)?
        .ok_or_else(|| ServerFnError::new("No such staff member."))?;
    let token = staff::force_password_reset(&c.state.db, &c.actor, &c.meta, &id)
        .await
        .map_err(ctx::fail)?;
    Ok(ctx::link(
        &c.state,
        &target.email,
        &token.token,
        token.expires_at_ms,
    ))
}

/// Sets a password from an invite or reset link, then signs the person in.
#[server(prefix = "/api/fn", endpoint = "welcome")]
pub async fn redeem_link(token: String, password: String) -> Result<(), ServerFnError> {
    use crate::server::{auth::start_session, services::staff};
    let mut c = ctx::public().await?;
    let s = staff::redeem_link(&c.state.db, &c.state.refusals, &c.meta, &token, &password)
        .await
        .map_err(ctx::fail)?;
    let now = chrono::Utc::now().timestamp_millis();
    match crate::server::services::auth::devices::signed_in(&c.state.db, &s.id, None, now).await {
        Ok(device) => crate::api::ctx::set_device_cookie(&c.state, &device),
        // The password is set and the person signed in; only the throttle exemption is missing.
        Err(e) => tracing::warn!(error = %e, "could not remember the device"),
    }
    start_session(&mut c.auth, s)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), ServerFnError> {
    use crate::server::{auth::start_session, services::staff};
    let mut c = ctx::signed_in().await?;
    let Some(id) = c.actor.id().map(str::to_string) else {
        return Err(ServerFnError::new("Sign in first."));
    };
    let (state, device) = (&c.state, c.device.as_deref());
    let s = staff::change_own_password(
        &state.db,
        &state.refusals,
        &c.meta,
        device,
        &id,
        &current,
        &new_password,
    )
    .await
    .map_err(ctx::fail)?;
    // The change ended every session, this one included; start a fresh one here.
    start_session(&mut c.auth, s)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(())
}
