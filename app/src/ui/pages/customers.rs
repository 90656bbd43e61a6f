use crate::api::{error_text, get_customer_list};
use crate::domain::url::{enc, with_query};
use crate::domain::{time_fmt, AccountState, CustomerSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Every customer, most recently changed first; search and state filter live in the URL.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || (param("q"), param("state"), param("cursor")),
        |(q, s, c)| get_customer_list(q, s, c),
    );
    // Results as you type: the URL follows the box 250 ms after the last keystroke, so the list,
    // the back button and a shared link all agree.
    let navigate = leptos_router::hooks::use_navigate();
    let typed = StoredValue::new(0u64);
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let n = typed.get_value() + 1;
        typed.set_value(n);
        let (navigate, state) = (navigate.clone(), param("state"));
        set_timeout(
            move || {
                if typed.get_value() == n {
                    let q = Some(value).filter(|v| !v.trim().is_empty());
                    let href = with_query("/customers", [("q", q), ("state", state)]);
                    let replace = leptos_router::NavigateOptions {
                        replace: true,
                        ..Default::default()
                    };
                    navigate(&href, replace);
                }
            },
            std::time::Duration::from_millis(250),
        );
    };
    view! {
        <Title text="Customers" />
        <div class="page-header">
            <h1>"Customers"</h1>
            <p class="muted">"One record per customer, linking everything billing knows about them. Search by email, name, any id or a ticket number."</p>
        </div>
        <form class="filters card" method="get" action="/customers" role="search" aria-label="Find customers">
            <div class="field">
                <label for="c-q">"Search"</label>
                <input id="c-q" name="q" type="search" autocomplete="off"
                    placeholder="Email or name (start), an exact id (cust_…, cus_…, user, CRM) or #ticket"
                    aria-describedby="c-q-help" on:input=on_input
                    prop:value=move || param("q").unwrap_or_default() />
                <p id="c-q-help" class="muted small">"Results update as you type. Press / anywhere to search."</p>
            </div>
            <div class="field">
                <label for="c-state">"Account state"</label>
                <select id="c-state" name="state">
                    <option value="">"Any"</option>
                    {AccountState::ALL.iter().map(|s| {
                        let v = s.as_str();
                        view! { <option value=v selected=move || param("state").as_deref() == Some(v)>{s.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="filter-actions">
                <button class="button" type="submit">"Search"</button>
                <a class="button secondary" href="/customers">"Clear"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading customers…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(p) if p.items.is_empty() => {
                    let filtered = param("q").is_some() || param("state").is_some();
                    view! {
                        <section class="card empty-state">
                            {if filtered {
                                view! { <h2>"No customer matches"</h2><p>"Try the start of their email, or clear the filters."</p> }.into_any()
                            } else {
                                view! { <h2>"No customers yet"</h2><p>"Customers appear when Stripe tells us about them (webhooks) or when an admin runs the Stripe backfill on the Webhooks page."</p> }.into_any()
                            }}
                        </section>
                    }.into_any()
                }
                Ok(p) => {
                    let more = p.next_cursor.map(|c| with_query("/customers", [
                        ("q", param("q")), ("state", param("state")), ("cursor", Some(c)),
                    ]));
                    let close = p.close_matches.then(|| view! {
                        <p class="notice" role="status">{format!("No customer starts with “{}”. Close matches:", param("q").unwrap_or_default())}</p>
                    });
                    view! {
                        {close}
                        <div class="table-wrap card">
                            <table>
                                <caption class="visually-hidden">"Customers, most recently changed first"</caption>
                                <thead><tr>
                                    <th scope="col">"Customer"</th><th scope="col">"State"</th>
                                    <th scope="col">"Product user id"</th><th scope="col">"Last change (UTC)"</th>
                                </tr></thead>
                                <tbody>{p.items.into_iter().map(|c| view! { <CustomerRow c /> }).collect_view()}</tbody>
                            </table>
                        </div>
                        {more.map(|href| view! { <a class="button secondary load-more" href=href>"More customers"</a> })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn CustomerRow(c: CustomerSummary) -> impl IntoView {
    let href = format!("/customers/{}", enc(&c.id));
    let secondary = c.email.clone().filter(|e| Some(e) != c.name.as_ref());
    view! {
        <tr>
            <td>
                <a href=href>{c.title()}</a>
                {secondary.map(|e| view! { <div class="muted small">{e}</div> })}
            </td>
            <td><span class=format!("badge status-{}", c.state.tone())>{c.state.label()}</span></td>
            <td>{c.product_user_id.map(|u| view! { <code>{u}</code> })}</td>
            <td class="nowrap">{time_fmt::utc(c.updated_at_ms)}</td>
        </tr>
    }
}
