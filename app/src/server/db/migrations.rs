use super::{Backend, Db, DbError};
use sqlx::migrate::{Migrate, Migrator};
use std::collections::HashMap;

/// The migrations folder, embedded at compile time: one portable set for both backends.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// How the database's schema compares with what this binary expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Current {
        applied: usize,
    },
    /// Migrations this binary has and the database has not run yet.
    Pending {
        versions: Vec<i64>,
    },
    /// The database ran migrations this binary does not know, or ones whose content changed:
    /// a newer binary touched it, or a file was edited after release.
    Diverged {
        detail: String,
    },
}

pub(super) async fn run(db: &Db) -> Result<(), DbError> {
    MIGRATOR.run(db.pool()).await?;
    append_only_triggers(db).await?;
    Ok(())
}

/// Makes the database itself refuse UPDATE and DELETE on `audit_log`. Trigger syntax differs
/// per backend, so this is the one place outside the migrations folder that creates schema;
/// it is idempotent and runs after every migration.
async fn append_only_triggers(db: &Db) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let sql = match db.backend() {
        Backend::Sqlite => {
            "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
             CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
        }
        Backend::Postgres => {
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
             $fn$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $fn$; \
             DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log; \
             CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_append_only(); \
             DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log; \
             CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();"
        }
    };
    db.pool().execute(sql).await?;
    Ok(())
}

pub(super) async fn state(db: &Db) -> Result<MigrationState, DbError> {
    let mut conn = db.pool().acquire().await?;
    conn.ensure_migrations_table().await?;
    let applied = conn.list_applied_migrations().await?;
    let known: HashMap<i64, _> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, m))
        .collect();
    for a in &applied {
        match known.get(&a.version) {
            None => {
                return Ok(MigrationState::Diverged {
                    detail: format!(
                        "the database has migration {} that this build does not know",
                        a.version
                    ),
                })
            }
            Some(m) if m.checksum != a.checksum => {
                return Ok(MigrationState::Diverged {
                    detail: format!("migration {} was changed after it was applied", a.version),
                })
            }
            Some(_) => {}
        }
    }
    let mut pending: Vec<i64> = known
        .keys()
        .filter(|v| !applied.iter().any(|a| a.version == **v))
        .copied()
        .collect();
    pending.sort_unstable();
    Ok(if pending.is_empty() {
        MigrationState::Current {
            applied: applied.len(),
        }
    } else {
        MigrationState::Pending { versions: pending }
    })
}
