mod confirm_button;
mod status_panel;

pub use confirm_button::ConfirmButton;
pub use status_panel::StatusPanel;
