//! Integration tests: each spawns the real server on a random port with a fresh database.
//! Tests listed in `both_backends!` run once on SQLite and once on PostgreSQL.

mod helpers;

mod access;
mod api_keys;
mod audit;
mod authz;
mod bad_input;
mod child_server;
mod cli;
mod crash_recovery;
mod crm_admin;
mod crm_sync;
mod customer_compare;
mod customers;
mod demo_mode;
mod demo_seed;
mod health;
mod http_basics;
mod hubspot_fake;
mod jobs;
mod jobs_admin;
mod localstripe;
mod login;
mod overview;
mod pages;
mod pg_restart;
mod refunds;
mod sessions;
mod staff_admin;
mod stripe_backfill;
mod stripe_fake;
mod stripe_mirror;
mod stripe_webhooks;
mod stripe_webhooks_page;
mod tickets_inbox;
mod tickets_intake;
mod zendesk_fake;
