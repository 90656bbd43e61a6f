//! The intake API's body, parsed into a `TicketRequest` or refused with one message per field.
//! Text is kept as the user typed it (minus control characters); pages render it as text, never
//! as HTML, so markup in a message stays inert.

use crate::domain::tickets::{AppContext, Category, ClientError};
use crate::domain::Email;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const SUBJECT_MAX: usize = 200;
pub const MESSAGE_MAX: usize = 10_000;
pub const USER_ID_MAX: usize = 128;
pub const NAME_MAX: usize = 120;
pub const PAGE_MAX: usize = 500;
pub const VERSION_MAX: usize = 50;
pub const ERRORS_MAX: usize = 20;
pub const ERROR_MESSAGE_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    pub user_id: Option<String>,
    pub email: Option<Email>,
    pub name: Option<String>,
    pub subject: String,
    pub message: String,
    pub category: Option<Category>,
    pub context: AppContext,
}

/// Field (dotted path) → what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }
}

/// Drops control characters other than newline and tab, folds CRLF, trims the ends.
fn clean(text: &str, multiline: bool) -> String {
    let text = text.replace("\r\n", "\n");
    let kept: String = text
        .chars()
        .map(|c| {
            if !multiline && (c == '\n' || c == '\t') {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    kept.trim().to_string()
}

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: &'a str,
    errors: &'a mut FieldErrors,
}

impl Fields<'_> {
    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A string field: absent or null is None; blank after cleaning is None unless `required`.
    fn text(&mut self, name: &str, max: usize, multiline: bool, required: bool) -> Option<String> {
        let path = self.path(name);
        let value = match self.obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(clean(s, multiline)).filter(|s| !s.is_empty()),
            Some(_) => {
                self.errors.add(path, "must be a string");
                return None;
            }
        };
        match value {
            None if required => {
                self.errors.add(path, "is required");
                None
            }
            Some(v) if v.chars().count() > max => {
                self.errors
                    .add(path, format!("must be at most {max} characters"));
                None
            }
            v => v,
        }
    }

    fn unknown(&mut self, known: &[&str]) {
        for key in self.obj.keys().filter(|k| !known.contains(&k.as_str())) {
            let path = self.path(key);
            self.errors.add(path, "is not a known field");
        }
    }
}

impl TicketRequest {
    pub fn parse(body: &[u8]) -> Result<TicketRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => {
                errors.add("body", "must be a JSON object");
                return Err(errors);
            }
        };
        let Value::Object(obj) = value else {
            errors.add("body", "must be a JSON object");
            return Err(errors);
        };
        let mut f = Fields {
            obj: &obj,
            prefix: "",
            errors: &mut errors,
        };
        f.unknown(&[
            "user_id", "email", "name", "subject", "message", "category", "context",
        ]);
        let user_id = f.text("user_id", USER_ID_MAX, false, false);
        let email = f
            .text("email", 254, false, false)
            .and_then(|e| match Email::parse(&e) {
                Ok(e) => Some(e),
                Err(_) => {
                    f.errors.add("email", "must be an email address");
                    None
                }
            });
        let name = f.text("name", NAME_MAX, false, false);
        let subject = f.text("subject", SUBJECT_MAX, false, true);
        let message = f.text("message", MESSAGE_MAX, true, true);
        let category =
            f.text("category", 40, false, false)
                .and_then(|c| match Category::parse(&c) {
                    Some(c) => Some(c),
                    None => {
                        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                        f.errors
                            .add("category", format!("must be one of {}", names.join(", ")));
                        None
                    }
                });
        if user_id.is_none() && email.is_none() && !f.errors.0.contains_key("email") {
            f.errors.add("user_id", "send user_id, email or both");
        }
        let context = match obj.get("context") {
            None | Some(Value::Null) => AppContext::default(),
            Some(Value::Object(ctx)) => parse_context(ctx, &mut errors),
            Some(_) => {
                errors.add("context", "must be an object");
                AppContext::default()
            }
        };
        if !errors.0.is_empty() {
            return Err(errors);
        }
        Ok(TicketRequest {
            user_id,
            email,
            name,
            subject: subject.expect("checked"),
            message: message.expect("checked"),
            category,
            context,
        })
    }

    /// A stable digest of the parsed request: the same request retried has the same one.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::json!([
            self.user_id,
            self.email.as_ref().map(|e| e.as_str()),
            self.name,
            self.subject,
            self.message,
            self.category.map(|c| c.as_str()),
            self.context,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn parse_context(obj: &Map<String, Value>, errors: &mut FieldErrors) -> AppContext {
    let mut f = Fields {
        obj,
        prefix: "context.",
        errors: &mut *errors,
    };
    f.unknown(&["page", "app_version", "errors"]);
    let page = f.text("page", PAGE_MAX, false, false);
    let app_version = f.text("app_version", VERSION_MAX, false, false);
    let mut out = Vec::new();
    match obj.get("errors") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.len() > ERRORS_MAX => {
            errors.add(
                "context.errors",
                format!("send at most {ERRORS_MAX} errors"),
            );
        }
        Some(Value::Array(list)) => {
            for (i, item) in list.iter().enumerate() {
                let prefix = format!("context.errors[{i}].");
                let Value::Object(e) = item else {
                    errors.add(format!("context.errors[{i}]"), "must be an object");
                    continue;
                };
                let mut f = Fields {
                    obj: e,
                    prefix: &prefix,
                    errors: &mut *errors,
                };
                f.unknown(&["message", "code", "at"]);
                let message = f.text("message", ERROR_MESSAGE_MAX, false, true);
                let code = f.text("code", 100, false, false);
                let at_ms = f.text("at", 40, false, false).and_then(|at| {
                    match chrono::DateTime::parse_from_rfc3339(&at) {
                        Ok(t) => Some(t.timestamp_millis()),
                        Err(_) => {
                            f.errors.add(
                                format!("{prefix}at"),
                                "must be an RFC 3339 time, e.g. 2026-11-27T10:00:00Z",
                            );
                            None
                        }
                    }
                });
                if let Some(message) = message {
                    out.push(ClientError {
                        message,
                        code,
                        at_ms,
                    });
                }
            }
        }
        Some(_) => errors.add("context.errors", "must be an array"),
    }
    AppContext {
        page,
        app_version,
        errors: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<TicketRequest, FieldErrors> {
        TicketRequest::parse(v.to_string().as_bytes())
    }

    #[test]
    fn a_full_request_parses_and_is_cleaned() {
        let r = parse(json!({
            "user_id": " u_42 ", "email": " Ann@Example.COM ", "subject": "Line\none\u{7}",
            "message": "Hello\r\nthere <b>bold</b>", "category": "billing",
            "context": {"page": "/settings", "app_version": "3.2.1",
                        "errors": [{"message": "TypeError: x", "code": "E1", "at": "2026-11-27T10:00:00Z"}]}
        }))
        .unwrap();
        assert_eq!(r.user_id.as_deref(), Some("u_42"));
        assert_eq!(r.email.unwrap().as_str(), "ann@example.com");
        assert_eq!(r.subject, "Line one");
        assert_eq!(
            r.message, "Hello\nthere <b>bold</b>",
            "markup is kept as text"
        );
        assert_eq!(r.category, Some(Category::Billing));
        assert_eq!(r.context.errors[0].at_ms, Some(1_795_773_600_000));
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = parse(json!({
            "email": "not-an-email", "subject": "", "message": 5, "category": "sales",
            "colour": "red", "context": {"errors": [{"at": "yesterday"}], "page": "x".repeat(501)}
        }))
        .unwrap_err();
        let fields: Vec<&str> = e.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "category",
                "colour",
                "context.errors[0].at",
                "context.errors[0].message",
                "context.page",
                "email",
                "message",
                "subject"
            ]
        );
        assert!(e.0["category"].contains("billing, bug"));
    }

    #[test]
    fn someone_must_be_named_and_limits_hold() {
        let e = parse(json!({"subject": "s", "message": "m"})).unwrap_err();
        assert_eq!(e.0["user_id"], "send user_id, email or both");
        let e = parse(
            json!({"user_id": "u", "subject": "s".repeat(201), "message": "m".repeat(10_001)}),
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
        let e = parse(json!({"user_id": "u", "subject": "s", "message": "m",
                             "context": {"errors": vec![json!({"message": "x"}); 21]}}))
        .unwrap_err();
        assert!(e.0.contains_key("context.errors"));
        assert!(TicketRequest::parse(b"[1]").is_err());
        assert!(TicketRequest::parse(b"{oops").is_err());
    }

    #[test]
    fn the_digest_ignores_formatting_but_not_content() {
        let a = parse(json!({"user_id": "u", "subject": "s", "message": "m"})).unwrap();
        let b = parse(json!({"message": "m ", "subject": " s", "user_id": "u"})).unwrap();
        let c = parse(json!({"user_id": "u", "subject": "s", "message": "m2"})).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }
}
