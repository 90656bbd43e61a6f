use super::crm::{CrmProvider, DEFAULT_HUBSPOT_API_BASE};
use super::database::DEFAULT_DATABASE_URL;
use super::server::LogFormat;
use super::stripe::StripeMode;
use super::*;
use std::collections::HashMap;
use std::time::Duration;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(&move |k| map.get(k).cloned())
}

#[test]
fn defaults_give_a_working_local_setup() {
    let c = config(&[]).unwrap();
    assert_eq!(c.app_env, AppEnv::Development);
    assert_eq!(c.database.url.as_str(), DEFAULT_DATABASE_URL);
    assert_eq!(c.server.site_addr.to_string(), "127.0.0.1:3000");
    assert_eq!(c.server.public_url, "http://127.0.0.1:3000");
    assert!(!c.server.serves_https());
    assert_eq!(c.server.log_format, LogFormat::Text);
    assert_eq!(c.stripe.webhook_tolerance, Duration::from_secs(300));
    assert!(c.stripe.api_key.is_none());
    assert_eq!(c.crm.provider, CrmProvider::None);
}

#[test]
fn crm_settings_are_checked_together() {
    let c = config(&[]).unwrap();
    assert_eq!(c.crm.hubspot_api_base, DEFAULT_HUBSPOT_API_BASE);
    assert_eq!(c.crm.stripe_user_id_key, "user_id");
    let stage = |c: &Config, s: crate::domain::AccountState| {
        c.crm
            .lifecycle
            .iter()
            .find(|(x, _)| *x == s)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        stage(&c, crate::domain::AccountState::Active).as_deref(),
        Some("customer")
    );
    let err = config(&[("CRM_PROVIDER", "hubspot")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("HUBSPOT_TOKEN: required when CRM_PROVIDER=hubspot"),
        "{err}"
    );
    let err = config(&[("CRM_LIFECYCLE_MAP", "active=customer")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no stage for"), "{err}");
    let err = config(&[("CRM_LIFECYCLE_MAP", "active=vip")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown lifecycle stage \"vip\""), "{err}");
    let custom = config(&[(
        "CRM_LIFECYCLE_MAP",
        "none=subscriber, trialing=lead, active=customer, past_due=customer, unpaid=other, canceled=other",
    )])
    .unwrap();
    assert_eq!(
        stage(&custom, crate::domain::AccountState::None).as_deref(),
        Some("subscriber")
    );
}

#[test]
fn each_bad_value_is_one_line_naming_the_variable() {
    let err = config(&[
        ("APP_ENV", "prod"),
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("LOG_FORMAT", "yaml"),
    ])
    .unwrap_err();
    let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("APP_ENV: expected one of development"));
    assert!(lines[0].ends_with("got \"prod\""));
    assert!(lines[1].starts_with("LEPTOS_SITE_ADDR: expected IP:PORT"));
    assert!(lines[2].starts_with("LOG_FORMAT: expected text or json"));
}

#[test]
fn bad_secrets_are_named_but_never_echoed() {
    let err = config(&[
        ("STRIPE_API_KEY", "pk_live_publishable_not_secret_9999"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_goodgoodgood,notasecret7777"),
        ("HUBSPOT_TOKEN", "x y"),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("STRIPE_API_KEY: expected"));
    assert!(err.contains("STRIPE_WEBHOOK_SECRET: expected"));
    assert!(err.contains("HUBSPOT_TOKEN: expected"));
    for leaked in ["9999", "7777", "goodgood", "x y"] {
        assert!(!err.contains(leaked), "{leaked} leaked in {err}");
    }
}

#[test]
fn database_url_picks_the_backend_and_hides_passwords() {
    let c = config(&[("DATABASE_URL", "postgres://app:hunter2@db:5432/ledgerline")]).unwrap();
    assert_eq!(c.database.url.backend_name(), "postgres");
    assert_eq!(
        c.database.url.redacted(),
        "postgres://app:***@db:5432/ledgerline"
    );
    assert!(!format!("{c:?}").contains("hunter2"));
    let err = config(&[("DATABASE_URL", "mysql://root:pw@x/db")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("DATABASE_URL: expected sqlite://"), "{err}");
    assert!(!err.contains(":pw@"), "{err}");
}

#[test]
fn stripe_settings_parse_mode_and_rotation_list() {
    let c = config(&[
        ("STRIPE_API_KEY", "sk_live_abcdefghijklmnop1234"),
        (
            "STRIPE_WEBHOOK_SECRET",
            " whsec_aaaaaaaaaaaa , whsec_bbbbbbbbbbbb ",
        ),
        ("STRIPE_WEBHOOK_TOLERANCE_SECS", "120"),
        ("PUBLIC_URL", "https://ops.example.com/"),
    ])
    .unwrap();
    assert_eq!(c.stripe.api_key.as_ref().unwrap().mode(), StripeMode::Live);
    assert_eq!(c.stripe.webhook_secrets.len(), 2);
    assert_eq!(c.stripe.webhook_tolerance, Duration::from_secs(120));
    assert_eq!(c.server.public_url, "https://ops.example.com");
    assert!(c.server.serves_https());
    assert!(!format!("{c:?}").contains("abcdefghijklmnop"));
    let err = config(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "0")]).unwrap_err();
    assert_eq!(err.0[0].var, "STRIPE_WEBHOOK_TOLERANCE_SECS");
}

#[test]
fn blank_values_fall_back_to_defaults() {
    let c = config(&[("APP_ENV", "  "), ("STRIPE_API_KEY", "")]).unwrap();
    assert_eq!(c.app_env, AppEnv::Development);
    assert!(c.stripe.api_key.is_none());
}

#[test]
fn demo_mode_refuses_real_credentials_without_showing_them() {
    let c = config(&[
        ("DEMO_MODE", "true"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_demo_secret_1"),
    ])
    .unwrap();
    assert!(c.demo_mode && c.stripe.available());
    assert!(!config(&[]).unwrap().stripe.available());
    let err = config(&[
        ("DEMO_MODE", "true"),
        ("STRIPE_API_KEY", "sk_live_abcdefghijklmnop"),
        ("CRM_PROVIDER", "hubspot"),
        ("HUBSPOT_TOKEN", "pat-secret-token"),
    ])
    .unwrap_err();
    let demo = err
        .0
        .iter()
        .find(|e| e.var == "DEMO_MODE")
        .expect("demo refused");
    assert!(
        demo.expected.contains("STRIPE_API_KEY, HUBSPOT_TOKEN"),
        "{}",
        demo.expected
    );
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("abcdefghijklmnop") && !shown.contains("pat-secret"));
    let prod = config(&[("DEMO_MODE", "1"), ("APP_ENV", "production")]).unwrap_err();
    assert!(prod
        .0
        .iter()
        .any(|e| e.var == "DEMO_MODE" && e.expected.contains("APP_ENV=production")));
    assert_eq!(
        config(&[("DEMO_MODE", "maybe")]).unwrap_err().0[0].var,
        "DEMO_MODE"
    );
}
