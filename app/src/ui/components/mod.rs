mod status_panel;

pub use status_panel::StatusPanel;
