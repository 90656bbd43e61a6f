use crate::domain::CurrentUser;
use leptos::prelude::*;

/// The signed-in staff member, or None.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, ServerFnError> {
    use crate::server::auth::AuthSession;
    let auth: AuthSession = leptos_axum::extract().await?;
    Ok(auth.user.map(|u| CurrentUser {
        email: u.staff.email,
        name: u.staff.name,
        role: u.staff.role,
    }))
}

/// Signs in and redirects to `next` (a local path) or the overview.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::server::{
        auth::{start_session, AuthSession},
        http::request_meta,
        services::auth::login,
        AppState,
    };
    let state = crate::api::server_context::<AppState>()?;
    let parts = crate::api::server_context::<http::request::Parts>()?;
    let meta = request_meta::from_parts(&parts);
    let mut auth: AuthSession = leptos_axum::extract().await?;
    let now = chrono::Utc::now().timestamp_millis();
    let staff = match login::attempt(&state.db, &meta, &email, &password, now).await {
        Ok(staff) => staff,
        Err(login::LoginError::Db(e)) => {
            tracing::error!(error = %e, "login failed");
            return Err(ServerFnError::new(
                "Something went wrong. Try again in a moment.",
            ));
        }
        Err(e) => return Err(ServerFnError::new(e.to_string())),
    };
    // The session id rotates here, so an id planted before sign-in is worthless after it.
    start_session(&mut auth, staff).await.map_err(|e| {
        tracing::error!(error = %e, "session start failed");
        ServerFnError::new("Something went wrong. Try again in a moment.")
    })?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::domain::Outcome;
    use crate::server::{auth::AuthSession, http::request_meta, services::audit, AppState};
    let state = crate::api::server_context::<AppState>()?;
    let parts = crate::api::server_context::<http::request::Parts>()?;
    let meta = request_meta::from_parts(&parts);
    let mut auth: AuthSession = leptos_axum::extract().await?;
    if let Some(user) = auth
        .logout()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?
    {
        let actor = user.staff.actor();
        audit::append_now(
            &state.db,
            audit::NewEntry::new(&actor, &meta, "auth.logout", Outcome::Ok)
                .target("staff", &user.staff.id),
        )
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// Only local paths: an open redirect would let a phishing link bounce through our login.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/login") =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_always_a_local_path() {
        assert_eq!(safe_next(Some("/audit?x=1")), "/audit?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/login",
            "audit",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
