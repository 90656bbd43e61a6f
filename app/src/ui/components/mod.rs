mod backfill_panel;
mod charts;
mod confirm_button;
mod crm_panel;
mod drift_panel;
mod refund_form;
mod refund_requests;
mod status_panel;
mod timeline;

pub use backfill_panel::BackfillPanel;
pub use charts::{BarChart, LineChart};
pub use confirm_button::ConfirmButton;
pub use crm_panel::CrmPanelCard;
pub use drift_panel::DriftPanel;
pub use refund_form::RefundForm;
pub use refund_requests::RefundRequests;
pub use status_panel::StatusPanel;
pub use timeline::CustomerTimeline;
