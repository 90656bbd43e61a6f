//! The pages that render nothing of the app: 403 and 404. They are static HTML with the app's
//! stylesheet, so a refused or unknown path never runs a component or a server function.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

fn page(status: StatusCode, title: &str, heading: &str, text: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · Ledgerline</title><link rel="stylesheet" href="/pkg/ledgerline.css"></head><body><main class="content" id="main"><section class="empty-state not-found"><p class="eyebrow">{code}</p><h1>{heading}</h1><p>{text}</p><a class="button" href="/">Back to the overview</a></section></main></body></html>"#,
        code = status.as_u16(),
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

pub fn forbidden() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "You do not have access to this page",
        "Your role does not include this. Ask an admin if you need it.",
    )
}

pub fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "Page not found",
        "There is no page at this address. Check the link, or start from the overview.",
    )
}
