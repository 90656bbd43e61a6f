mod backfill_panel;
mod confirm_button;
mod status_panel;

pub use backfill_panel::BackfillPanel;
pub use confirm_button::ConfirmButton;
pub use status_panel::StatusPanel;
