use crate::api::{error_text, get_customer_timeline};
use crate::domain::url::{enc, with_query};
use crate::domain::{time_fmt, TimelineEntry, TimelinePage, TIMELINE_SOURCES};
use leptos::prelude::*;

/// A customer's history, newest first: source filter (links, so they work before the WASM
/// loads), entries with relative times (exact UTC on hover), and "load more" by cursor.
#[component]
pub fn CustomerTimeline(customer_id: String, first: TimelinePage) -> impl IntoView {
    let source = first.source.clone();
    let now = first.now_ms;
    let more = RwSignal::new(Vec::<TimelineEntry>::new());
    let cursor = RwSignal::new(first.next_cursor.clone());
    let load = {
        let (id, source) = (customer_id.clone(), source.clone());
        Action::new(move |after: &String| {
            get_customer_timeline(id.clone(), source.clone(), Some(after.clone()))
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(page)) = load.value().get() {
            more.update(|m| m.extend(page.entries));
            cursor.set(page.next_cursor);
        }
    });
    let base = format!("/customers/{}", enc(&customer_id));
    let tabs = std::iter::once((None, "All"))
        .chain(TIMELINE_SOURCES.iter().map(|(v, l)| (Some(*v), *l)))
        .map(|(value, label)| {
            let href = with_query(&base, [("tl", value.map(str::to_string))]);
            let here = value == source.as_deref();
            view! { <a href=href aria-current=here.then_some("page")>{label}</a> }
        })
        .collect_view();
    let empty = first.entries.is_empty();
    view! {
        <nav class="tabs" aria-label="Timeline sources">{tabs}</nav>
        {empty.then(|| view! { <p class="muted">{match first.source.as_deref() {
            None => "Nothing has happened to this customer yet.",
            Some(_) => "Nothing from this source yet.",
        }}</p> })}
        <ol class="timeline" aria-live="polite">
            {first.entries.into_iter().map(|e| view! { <Entry e now /> }).collect_view()}
            <For each=move || more.get() key=|e| e.id.clone() let(e)>
                <Entry e now />
            </For>
        </ol>
        {move || load.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{error_text(&e)}</p> })}
        {move || cursor.get().map(|c| view! {
            <button class="button secondary load-more" type="button" disabled=move || load.pending().get()
                on:click=move |_| { load.dispatch(c.clone()); }>
                {move || if load.pending().get() { "Loading…" } else { "Load more" }}
            </button>
        })}
    }
}

#[component]
fn Entry(e: TimelineEntry, now: i64) -> impl IntoView {
    let summary = format!(
        "{}{}",
        e.summary,
        e.amount
            .as_ref()
            .map(|a| format!(" · {}", a.display()))
            .unwrap_or_default()
    );
    let text = match e.href() {
        Some(href) => view! { <a href=href>{summary}</a> }.into_any(),
        None => view! { <span>{summary}</span> }.into_any(),
    };
    view! {
        <li class=format!("timeline-item source-{}", e.source)>
            <span class="badge">{e.source.clone()}</span>
            <div>
                <p class="timeline-summary">{text}</p>
                <p class="muted small">
                    <time datetime=time_fmt::iso(e.at_ms) title=time_fmt::utc(e.at_ms)>{time_fmt::relative(e.at_ms, now)}</time>
                    " · " <code>{e.kind}</code>
                </p>
            </div>
        </li>
    }
}
