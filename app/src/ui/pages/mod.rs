mod audit;
mod login;
mod not_found;
mod overview;

pub use audit::AuditPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use overview::Overview;
