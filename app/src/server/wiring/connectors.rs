//! Every third-party client, built once: the real ones from configuration, or DEMO_MODE's
//! simulated ones (kept in the database). Routes, server functions, job handlers and the CLI
//! are handed these; nothing below the wiring builds a client of its own.

use crate::server::config::crm::CrmProvider;
use crate::server::crm::{hubspot::HubSpot, Crm};
use crate::server::demo::{SimCrm, SimStripe};
use crate::server::stripe::api::StripeApi;
use crate::server::tickets::helpdesk::{Helpdesk, Zendesk};
use crate::server::{db::Db, Config};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Connectors {
    /// Stripe's API, or None without STRIPE_API_KEY (events are then applied as they came).
    pub stripe: Option<StripeApi>,
    /// The CRM (CRM_PROVIDER), or None: no sync is then ever enqueued.
    pub crm: Option<Arc<dyn Crm>>,
    /// The help desk tickets are copied to (Zendesk), or None.
    pub helpdesk: Option<Arc<dyn Helpdesk>>,
}

impl Connectors {
    /// A client that cannot be built is logged and left out, as if it were not configured:
    /// the process still serves, and `doctor` names the setting.
    pub fn build(config: &Config, db: &Db) -> Connectors {
        if config.demo_mode {
            return Connectors {
                stripe: Some(StripeApi::simulated(Arc::new(SimStripe::new(db.clone())))),
                crm: Some(Arc::new(SimCrm::new(db.clone()))),
                helpdesk: helpdesk(config),
            };
        }
        Connectors {
            stripe: stripe(config),
            crm: crm(config),
            helpdesk: helpdesk(config),
        }
    }
}

fn stripe(config: &Config) -> Option<StripeApi> {
    let key = config.stripe.api_key.as_ref()?;
    StripeApi::new(key.secret(), &config.stripe.api_base)
        .map_err(|e| tracing::error!(error = %e, "Stripe API client not available"))
        .ok()
}

fn crm(config: &Config) -> Option<Arc<dyn Crm>> {
    match config.crm.provider {
        CrmProvider::None => None,
        CrmProvider::Hubspot => {
            let token = config.crm.hubspot_token.clone()?;
            match HubSpot::new(
                token,
                &config.crm.hubspot_api_base,
                config.crm.hubspot_timeout,
            ) {
                Ok(h) => Some(Arc::new(h)),
                Err(e) => {
                    tracing::error!(error = %e, "HubSpot client not available");
                    None
                }
            }
        }
    }
}

fn helpdesk(config: &Config) -> Option<Arc<dyn Helpdesk>> {
    let z = config.tickets.zendesk.clone()?;
    match Zendesk::new(z) {
        Ok(z) => Some(Arc::new(z)),
        Err(e) => {
            tracing::error!(error = %e, "could not build the Zendesk client");
            None
        }
    }
}
