//! Small SVG charts drawn on the server (no chart library, no CDN). Each is an image with a
//! text description for screen readers; the figures behind it are on the linked pages.

use crate::domain::{time_fmt, Point};
use leptos::prelude::*;

const W: f64 = 600.0;
const H: f64 = 150.0;
const PAD_TOP: f64 = 18.0;
const PAD_BOTTOM: f64 = 20.0;

fn scale(points: &[Point]) -> (i64, f64) {
    let max = points.iter().map(|p| p.value).max().unwrap_or(0).max(1);
    (max, (H - PAD_TOP - PAD_BOTTOM) / max as f64)
}

fn day(ms: i64) -> String {
    time_fmt::utc(ms)[5..10].to_string()
}

/// A line over time; `fmt` writes a value the way the KPI does.
#[component]
pub fn LineChart(
    title: &'static str,
    points: Vec<Point>,
    fmt: fn(i64) -> String,
    #[prop(optional)] hourly: bool,
) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="muted">"No data yet."</p> }.into_any();
    }
    let (max, k) = scale(&points);
    let step = if points.len() > 1 {
        W / (points.len() - 1) as f64
    } else {
        0.0
    };
    let y = |v: i64| H - PAD_BOTTOM - v as f64 * k;
    let path = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                i as f64 * step,
                y(p.value)
            )
        })
        .collect::<String>();
    let label = |ms: i64| {
        if hourly {
            time_fmt::utc(ms)[11..16].to_string()
        } else {
            day(ms)
        }
    };
    let (first, last) = (points[0], points[points.len() - 1]);
    let desc = format!(
        "From {} to {}: starts at {}, ends at {}, highest {}.",
        label(first.at_ms),
        label(last.at_ms),
        fmt(first.value),
        fmt(last.value),
        fmt(max)
    );
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=title>
            <title>{title}</title>
            <desc>{desc}</desc>
            <line class="chart-axis" x1="0" x2=W y1=H - PAD_BOTTOM y2=H - PAD_BOTTOM />
            <path class="chart-line" d=path />
            {(points.len() == 1).then(|| view! { <circle class="chart-dot" cx=format!("{:.1}", W / 2.0) cy=format!("{:.1}", y(points[0].value)) r="4" /> })}
            <text class="chart-label" x="2" y="12">{fmt(max)}</text>
            <text class="chart-label" x="2" y=H - 4.0>{label(first.at_ms)}</text>
            <text class="chart-label" x=W - 2.0 y=H - 4.0 text-anchor="end">{label(last.at_ms)}</text>
        </svg>
    }
    .into_any()
}

/// One bar per bucket (counts per day).
#[component]
pub fn BarChart(title: &'static str, points: Vec<Point>) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="muted">"No data yet."</p> }.into_any();
    }
    if points.iter().all(|p| p.value == 0) {
        return view! { <p class="muted">{format!("None in the last {} days.", points.len())}</p> }
            .into_any();
    }
    let (max, k) = scale(&points);
    let slot = W / points.len() as f64;
    let total: i64 = points.iter().map(|p| p.value).sum();
    let desc = format!(
        "{total} in {} days from {} to {}; most in a day: {max}.",
        points.len(),
        day(points[0].at_ms),
        day(points[points.len() - 1].at_ms)
    );
    let bars = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.value > 0)
        .map(|(i, p)| {
            let h = p.value as f64 * k;
            view! {
                <rect class="chart-bar" x=format!("{:.1}", i as f64 * slot + 1.0) y=format!("{:.1}", H - PAD_BOTTOM - h)
                    width=format!("{:.1}", (slot - 2.0).max(1.0)) height=format!("{h:.1}")>
                    <title>{format!("{}: {}", day(p.at_ms), p.value)}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=title>
            <title>{title}</title>
            <desc>{desc}</desc>
            <line class="chart-axis" x1="0" x2=W y1=H - PAD_BOTTOM y2=H - PAD_BOTTOM />
            {bars}
            <text class="chart-label" x="2" y="12">{max.to_string()}</text>
            <text class="chart-label" x="2" y=H - 4.0>{day(points[0].at_ms)}</text>
            <text class="chart-label" x=W - 2.0 y=H - 4.0 text-anchor="end">{day(points[points.len() - 1].at_ms)}</text>
        </svg>
    }
    .into_any()
}
