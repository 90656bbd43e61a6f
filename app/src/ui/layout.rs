use crate::api::get_instance_info;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

struct NavItem {
    href: &'static str,
    label: &'static str,
}

/// Sections appear here as they ship; each later one is gated by the viewer's permissions.
const NAV: &[NavItem] = &[NavItem {
    href: "/",
    label: "Overview",
}];

/// Page chrome: skip link, navigation, environment badge and the main landmark.
#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let info = Resource::new(|| (), |_| get_instance_info());
    let location = use_location();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"L"</span>
                    <span class="brand-name">"Ledgerline"</span>
                </a>
                <Suspense fallback=|| ()>
                    {move || {
                        info.get()
                            .and_then(|r| r.ok())
                            .map(|i| {
                                let class = format!("badge env-{}", i.env.as_str());
                                view! {
                                    <span class=class title=format!("Version {} · {} database", i.version, i.database)>
                                        {i.env.as_str()}
                                    </span>
                                }
                            })
                    }}
                </Suspense>
            </header>
            <nav class="sidenav" aria-label="Main">
                <ul>
                    {NAV
                        .iter()
                        .map(|item| {
                            let href = item.href;
                            let current = move || {
                                let path = location.pathname.get();
                                let active = if href == "/" { path == "/" } else { path.starts_with(href) };
                                active.then_some("page")
                            };
                            view! {
                                <li>
                                    <a href=href aria-current=current>{item.label}</a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main id="main" class="content" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}
