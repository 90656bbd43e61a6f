//! Password hashing (argon2id with OWASP's minimum cost) and the password policy.

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier},
    Algorithm, Argon2, Params, Version,
};
use std::sync::OnceLock;

/// OWASP: argon2id, 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 256;

/// The most common passwords of 12+ characters in public breach lists, lower-cased. A short
/// list catches the worst choices without shipping a large file.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "qwertyuiopas",
    "qwertyuiop123",
    "password1234",
    "password12345",
    "password123!",
    "passwordpassword",
    "iloveyou1234",
    "111111111111",
    "000000000000",
    "123123123123",
    "abcdefghijkl",
    "abc123abc123",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "letmein12345",
    "welcome12345",
    "administrator",
    "adminadmin123",
    "changeme1234",
    "football1234",
    "baseball1234",
    "monkey123456",
    "sunshine1234",
    "princess1234",
    "trustno1trustno1",
    "superman1234",
    "starwars1234",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "zxcvbnm12345",
    "passw0rd1234",
    "p@ssw0rd1234",
    "ledgerline123",
    "ledgerline1234",
    "correcthorsebatterystaple",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("Use at least {MIN_LENGTH} characters.")]
    TooShort,
    #[error("Use at most {MAX_LENGTH} characters.")]
    TooLong,
    #[error("This password is too common. Pick something less guessable.")]
    Common,
}

pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LENGTH {
        return Err(PolicyError::TooLong);
    }
    let lower = password.to_lowercase();
    let all_same = lower.chars().all(|c| lower.starts_with(c));
    if all_same || COMMON.contains(&lower.as_str()) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most one argon2 computation per core at a time. Each costs 19 MiB and tens of
/// milliseconds of CPU by design; unbounded, a burst of sign-ins (or of invite-link guesses)
/// would fill tokio's blocking pool with them and starve everything else of memory and CPU.
/// The rest wait their turn here, without a thread.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(cores()))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Hashes on a blocking thread, one per core at most (`slots`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = slots().acquire().await?;
    tokio::task::spawn_blocking(move || {
        argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await?
}

/// A real hash of a random password, verified against when the account does not exist, so
/// unknown emails cost the same time as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2()
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes())
            .expect("hashing a fixed input")
            .to_string()
    })
}

/// Who is waiting for a password check. Known callers (a signed-in person, a browser that
/// signed in to the account before, a real invite link) always wait their turn; strangers are
/// turned away once `STRANGERS_WAITING` of them already wait, so a flood of guesses from many
/// networks cannot queue up minutes of argon2 work in front of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Known,
    Stranger,
}

/// Strangers allowed to wait for a core, per core.
const STRANGERS_WAITING_PER_CORE: usize = 8;

/// Too many strangers are already waiting for a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Signing in is busy. Try again in a moment.")]
pub struct Busy;

fn strangers_waiting() -> &'static std::sync::atomic::AtomicUsize {
    static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    &WAITING
}

/// Verifies `password` against `stored` (or the dummy hash when there is no account), one per
/// core at most (`slots`), known callers first in line (`Lane`).
pub async fn verify_in(lane: Lane, password: String, stored: Option<String>) -> Result<bool, Busy> {
    use std::sync::atomic::Ordering;
    let slot = match lane {
        Lane::Known => slots().acquire().await,
        Lane::Stranger => {
            let waiting = strangers_waiting();
            if waiting.fetch_add(1, Ordering::SeqCst) >= STRANGERS_WAITING_PER_CORE * cores() {
                waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(Busy);
            }
            let slot = slots().acquire().await;
            waiting.fetch_sub(1, Ordering::SeqCst);
            slot
        }
    };
    let Ok(_held) = slot else {
        return Ok(false);
    };
    Ok(check(password, stored).await)
}

/// `verify_in` for a known caller, who always gets an answer.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    verify_in(Lane::Known, password, stored)
        .await
        .unwrap_or(false)
}

async fn check(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        exists && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_common_and_repeated() {
        assert_eq!(check_policy("short"), Err(PolicyError::TooShort));
        assert_eq!(check_policy("Password1234"), Err(PolicyError::Common));
        assert_eq!(check_policy("aaaaaaaaaaaaaaa"), Err(PolicyError::Common));
        assert_eq!(check_policy(&"x".repeat(300)), Err(PolicyError::TooLong));
        assert!(check_policy("plum-harbor-gravel-42").is_ok());
    }

    #[tokio::test]
    async fn argon2_waits_for_a_free_core() {
        let h = hash("plum-harbor-gravel-42".into()).await.unwrap();
        let held = slots().acquire_many(cores() as u32).await.unwrap();
        let waiting = tokio::spawn(verify("plum-harbor-gravel-42".into(), Some(h)));
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "no verification runs while every core is taken"
        );
        drop(held);
        assert!(waiting.await.unwrap(), "it runs once a core is free");
    }

    #[tokio::test]
    async fn strangers_are_turned_away_when_too_many_wait_but_known_callers_queue() {
        let h = hash("plum-harbor-gravel-42".into()).await.unwrap();
        let held = slots().acquire_many(cores() as u32).await.unwrap();
        let full = STRANGERS_WAITING_PER_CORE * cores();
        let queued: Vec<_> = (0..full)
            .map(|_| tokio::spawn(verify_in(Lane::Stranger, "x".into(), Some(h.clone()))))
            .collect();
        while strangers_waiting().load(std::sync::atomic::Ordering::SeqCst) < full {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            verify_in(Lane::Stranger, "x".into(), Some(h.clone())).await,
            Err(Busy),
            "the queue of strangers is full"
        );
        let known = tokio::spawn(verify_in(
            Lane::Known,
            "plum-harbor-gravel-42".into(),
            Some(h),
        ));
        drop(held);
        assert_eq!(
            known.await.unwrap(),
            Ok(true),
            "a known caller still waits its turn"
        );
        for q in queued {
            assert_eq!(q.await.unwrap(), Ok(false));
        }
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_cost_and_verify() {
        let h = hash("plum-harbor-gravel-42".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("plum-harbor-gravel-42".into(), Some(h.clone())).await);
        assert!(!verify("plum-harbor-gravel-43".into(), Some(h)).await);
        assert!(
            !verify("anything".into(), None).await,
            "no account never verifies"
        );
    }
}
