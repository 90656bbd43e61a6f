use crate::api::{get_current_user, get_instance_info, Logout};
use crate::domain::{Access, CurrentUser, Permission};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

struct NavItem {
    href: &'static str,
    label: &'static str,
    access: Access,
}

/// Sections, each shown only to roles that may open it (the server checks again).
const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Overview",
        access: Access::SignedIn,
    },
    NavItem {
        href: "/customers",
        label: "Customers",
        access: Access::Requires(Permission::CustomerRead),
    },
    NavItem {
        href: "/tickets",
        label: "Tickets",
        access: Access::Requires(Permission::TicketRead),
    },
    NavItem {
        href: "/refunds",
        label: "Refunds",
        access: Access::Requires(Permission::CustomerRead),
    },
    NavItem {
        href: "/crm",
        label: "CRM",
        access: Access::Requires(Permission::CustomerRead),
    },
    NavItem {
        href: "/jobs",
        label: "Jobs",
        access: Access::Requires(Permission::CustomerRead),
    },
    NavItem {
        href: "/webhooks",
        label: "Webhooks",
        access: Access::Requires(Permission::CustomerRead),
    },
    NavItem {
        href: "/audit",
        label: "Audit log",
        access: Access::Requires(Permission::AuditRead),
    },
    NavItem {
        href: "/staff",
        label: "Staff",
        access: Access::Requires(Permission::StaffManage),
    },
    NavItem {
        href: "/api-keys",
        label: "API keys",
        access: Access::Requires(Permission::ApikeysManage),
    },
    NavItem {
        href: "/account",
        label: "Your account",
        access: Access::SignedIn,
    },
];

/// Page chrome: skip link, navigation for the signed-in role, environment badge, the user menu
/// and the main landmark.
#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let info = Resource::new(|| (), |_| get_instance_info());
    let location = use_location();
    // Keyed on the path so signing in or out (a navigation) refreshes the chrome.
    let user = Resource::new(move || location.pathname.get(), |_| get_current_user());
    let logout = ServerAction::<Logout>::new();
    // "/" jumps to search (the page's own search box if it has one), unless typing somewhere.
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            use leptos::wasm_bindgen::JsCast;
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.has_attribute("contenteditable")
                });
            if typing {
                return;
            }
            let doc = document();
            let target = doc
                .get_element_by_id("c-q")
                .or_else(|| doc.get_element_by_id("global-q"))
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(input) = target {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Suspense fallback=|| ()>
            {move || info.get().and_then(|r| r.ok()).filter(|i| i.demo).map(|_| view! {
                <p class="demo-banner" role="note">
                    <strong>"Demo mode — simulated Stripe and CRM"</strong>
                    <span class="demo-banner-detail">" · refunds, re-syncs and pushes act on made-up data only"</span>
                </p>
            })}
        </Suspense>
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"L"</span>
                    <span class="brand-name">"Ledgerline"</span>
                </a>
                <Suspense fallback=|| ()>
                    {move || user.get().and_then(|r| r.ok()).flatten().map(|_| view! {
                        <form class="global-search" role="search" method="get" action="/customers">
                            <label class="visually-hidden" for="global-q">"Search customers"</label>
                            <input id="global-q" name="q" type="search" autocomplete="off" aria-keyshortcuts="/"
                                placeholder="Search email, name, any id, #ticket  ( / )" />
                        </form>
                    })}
                </Suspense>
                <div class="topbar-right">
                    <Suspense fallback=|| ()>
                        {move || info.get().and_then(|r| r.ok()).map(|i| {
                            let class = format!("badge env-{}", i.env.as_str());
                            let title = match (&i.version, &i.database) {
                                (Some(v), Some(d)) => format!("Version {v} · {d} database"),
                                _ => String::new(),
                            };
                            view! { <span class=class title=title>{i.env.as_str()}</span> }
                        })}
                        {move || user.get().and_then(|r| r.ok()).flatten().map(|u| view! {
                            <span class="user" title=u.email.clone()>
                                <span class="user-name">{u.name.clone()}</span>
                                <span class="badge">{u.role.label()}</span>
                            </span>
                            <ActionForm action=logout>
                                <button class="button secondary small-button" type="submit">"Sign out"</button>
                            </ActionForm>
                        })}
                    </Suspense>
                </div>
            </header>
            <nav class="sidenav" aria-label="Main">
                <Suspense fallback=|| ()>
                    {move || {
                        let current: Option<CurrentUser> = user.get().and_then(|r| r.ok()).flatten();
                        let role = current.map(|u| u.role);
                        view! {
                            <ul>
                                {NAV.iter().filter(|item| role.is_some() && item.access.allows(role)).map(|item| {
                                    let href = item.href;
                                    let current = move || {
                                        let path = location.pathname.get();
                                        let active = if href == "/" { path == "/" } else { path.starts_with(href) };
                                        active.then_some("page")
                                    };
                                    view! { <li><a href=href aria-current=current>{item.label}</a></li> }
                                }).collect_view()}
                            </ul>
                        }
                    }}
                </Suspense>
            </nav>
            <main id="main" class="content" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}
