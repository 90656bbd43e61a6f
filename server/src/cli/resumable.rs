//! The Stripe backfill and the CRM import save a cursor as they go, so a rate limit or an
//! outage need not end them: wait, then resume from the cursor. Only a service that keeps
//! refusing stops the run, and the next run starts where this one stopped.

use indicatif::ProgressBar;
use std::future::Future;
use std::time::Duration;

/// With the pause doubling up to `LONGEST_PAUSE`, about three minutes of refusals in all.
const ATTEMPTS: usize = 8;
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// A refusal worth waiting out.
pub(super) struct Pause {
    /// Shown to the operator, followed by "; resuming in N s".
    pub message: String,
    /// How long the service asked us to wait, if it said; a shorter wait than ours is ignored.
    pub retry_after: Option<Duration>,
}

pub(super) enum Stopped<E> {
    /// An error waiting would not fix.
    Failed(E),
    /// Every attempt was refused; the saved cursor is where the next run resumes.
    GaveUp,
}

/// Runs `attempt` until it succeeds or fails for good, waiting out each error `pause` turns
/// into a `Pause`, at most `ATTEMPTS` times.
pub(super) async fn run<T, E, Fut>(
    bar: &ProgressBar,
    mut attempt: impl FnMut() -> Fut,
    pause: impl Fn(&E) -> Option<Pause>,
) -> Result<T, Stopped<E>>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut shortest_wait = FIRST_PAUSE;
    for _ in 0..ATTEMPTS {
        let e = match attempt().await {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        let Some(Pause {
            message,
            retry_after,
        }) = pause(&e)
        else {
            return Err(Stopped::Failed(e));
        };
        let wait = retry_after.unwrap_or(shortest_wait).max(shortest_wait);
        bar.println(format!("{message}; resuming in {} s", wait.as_secs()));
        tokio::time::sleep(wait).await;
        shortest_wait = (shortest_wait * 2).min(LONGEST_PAUSE);
    }
    Err(Stopped::GaveUp)
}

/// A progress line for long runs (backfills, imports).
pub(super) fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .expect("static template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
