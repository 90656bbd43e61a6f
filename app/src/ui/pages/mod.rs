mod account;
mod audit;
mod job_detail;
mod jobs;
mod login;
mod not_found;
mod overview;
mod staff;
mod welcome;

pub use account::AccountPage;
pub use audit::AuditPage;
pub use job_detail::JobDetailPage;
pub use jobs::JobsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use overview::Overview;
pub use staff::StaffPage;
pub use welcome::WelcomePage;
