//! The event types Ledgerline mirrors. Anything else is stored and marked ignored.

pub const HANDLED: &[&str] = &[
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "refund.created",
    "refund.updated",
    "checkout.session.completed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
];

pub fn is_handled(kind: &str) -> bool {
    HANDLED.contains(&kind)
}
