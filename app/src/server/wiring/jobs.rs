//! The one list of what the queue can run: each feature's job kinds with their handlers,
//! handed the connectors built once. The queue itself knows no feature.

use super::Connectors;
use crate::server::crm::{import, sync, sync_queue};
use crate::server::jobs::Registry;
use crate::server::maintenance::cleanup;
use crate::server::stripe::{self, backfill, mirror, refunds};
use crate::server::tickets::{helpdesk, intake};
use crate::server::Config;

pub fn registry(config: &Config, connectors: &Connectors) -> Registry {
    let api = &connectors.stripe;
    let options = || mirror::Options::from_config(config);
    let registry = Registry::new()
        .register(
            stripe::PROCESS_EVENT,
            stripe::ProcessEvent::new(api.clone(), options()),
        )
        .register(
            backfill::BACKFILL_JOB,
            backfill::BackfillJob::new(api.clone(), options()),
        )
        .register(
            refunds::REFUND_JOB,
            refunds::RefundJob::new(api.clone(), options()),
        )
        .register(cleanup::CLEANUP_JOB, cleanup::Cleanup);
    let registry = match &connectors.helpdesk {
        Some(h) => registry.register(
            intake::HELPDESK_COPY_JOB,
            helpdesk::HelpdeskCopy::new(h.clone()),
        ),
        None => registry,
    };
    // Without a CRM no sync is ever enqueued; a stray one dies as "no handler" and says so.
    match &connectors.crm {
        Some(crm) => registry
            .register(
                sync_queue::CRM_SYNC_JOB,
                sync::CrmSync::new(crm.clone(), config),
            )
            .register(
                import::CRM_IMPORT_JOB,
                import::CrmImport::new(crm.clone(), config),
            ),
        None => registry,
    }
}
