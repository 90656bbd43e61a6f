use crate::domain::CurrentUser;
use leptos::prelude::*;

/// The signed-in staff member, or None.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, ServerFnError> {
    let c = crate::api::ctx::public().await?;
    Ok(c.auth.user.map(|u| CurrentUser {
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
    use crate::server::{auth::start_session, services::auth::login};
    let mut c = crate::api::ctx::public().await?;
    let now = chrono::Utc::now().timestamp_millis();
    let (db, refusals, device) = (&c.state.db, &c.state.refusals, c.device.as_deref());
    let signed_in =
        match login::attempt(db, refusals, &c.meta, &email, &password, device, now).await {
            Ok(signed_in) => signed_in,
            Err(e) => return Err(crate::api::ctx::fail(e)),
        };
    crate::api::ctx::set_device_cookie(&c.state, &signed_in.device_token);
    // The session id rotates here, so an id planted before sign-in is worthless after it.
    start_session(&mut c.auth, signed_in.staff)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::domain::Outcome;
    use crate::server::{auth::end_session, services::audit};
    let mut c = crate::api::ctx::signed_in().await?;
    let ended = end_session(&mut c.auth)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    if let Some(staff) = ended {
        audit::append_now(
            &c.state.db,
            audit::NewEntry::new(&staff.actor(), &c.meta, "auth.logout", Outcome::Ok)
                .target("staff", &staff.id),
        )
        .await
        .map_err(|e| crate::api::ctx::internal("logout audit", e))?;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// Only a path on this site: an open redirect would let a phishing link bounce through our
/// sign-in. Browsers drop tabs and line breaks from a URL and read `\` as `/`, so
/// `/<tab>/evil.example` or `/\evil.example` would become `//evil.example`, another host: any
/// control character, whitespace or backslash makes the whole value unsafe.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(p: &str) -> bool {
    p.len() <= 2048
        && p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/login")
        && !p
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_always_a_local_path() {
        assert_eq!(safe_next(Some("/audit?x=1")), "/audit?x=1");
        assert_eq!(
            safe_next(Some("/customers/cus_1?q=a%20b")),
            "/customers/cus_1?q=a%20b"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/login",
            "audit",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "/a\\b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
