use super::{checkpoint, Backend, Db};
use crate::server::config::database::DatabaseUrl;
use sqlx::{any::AnyPoolOptions, Executor};
use std::{path::Path, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// Settings every SQLite connection needs: WAL so readers never block the writer, foreign keys
/// enforced (SQLite leaves them off by default), and a busy timeout so a second writer waits
/// rather than failing at once. Temporary storage in memory: a multi-row insert's statement
/// journal (webhook batches) otherwise spills past 64 KiB into a file that is created, written
/// and deleted in every commit.
pub(super) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;";

pub(super) async fn connect(url: &DatabaseUrl) -> Result<Db, DbError> {
    sqlx::any::install_default_drivers();
    let (backend, conn_url) = match url {
        DatabaseUrl::Sqlite { url } => (Backend::Sqlite, sqlite_url(url)?),
        DatabaseUrl::Postgres { url } => (Backend::Postgres, url.clone()),
    };
    let connect_error = |source| DbError::Connect {
        url: url.redacted(),
        source,
    };
    let options = match backend {
        Backend::Sqlite => sqlite_pool_options("").max_connections(8),
        Backend::Postgres => pool_options().max_connections(16),
    };
    let pool = options.connect(&conn_url).await.map_err(connect_error)?;
    let write_lock = match backend {
        Backend::Sqlite => Some(Default::default()),
        Backend::Postgres => None,
    };
    // SQLite writers take turns anyway (the write lock), so they share one connection of
    // their own, whose page and statement caches stay warm. From the pool each write
    // transaction got the connection idle longest, whose page cache the last commit (made on
    // another connection) had invalidated, and the webhook committer prepared its batch
    // statements once per connection. An in-memory database exists once per connection, so it
    // keeps the single pool.
    let writer = match backend {
        Backend::Sqlite if !conn_url.contains(":memory:") && !conn_url.contains("mode=memory") => {
            let writer = sqlite_pool_options(checkpoint::WRITER_PRAGMAS)
                .max_connections(1)
                .connect(&conn_url)
                .await
                .map_err(connect_error)?;
            // Copies committed pages into the database off the writer (checkpoint.rs).
            checkpoint::spawn(pool.clone());
            Some(writer)
        }
        _ => None,
    };
    let sqlite_file = writer.as_ref().map(|_| sqlite_path(&conn_url).into());
    Ok(Db {
        pool,
        writer,
        backend,
        write_lock,
        sqlite_file,
    })
}

fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5))
}

/// `extra`: pragmas for this pool's connections after the common ones.
fn sqlite_pool_options(extra: &'static str) -> AnyPoolOptions {
    pool_options().after_connect(move |conn, _meta| {
        Box::pin(async move {
            conn.execute(SQLITE_PRAGMAS).await?;
            if !extra.is_empty() {
                conn.execute(extra).await?;
            }
            Ok(())
        })
    })
}

/// The file path in a SQLite URL (`sqlite://path?options`).
fn sqlite_path(url: &str) -> &str {
    let path_part = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    path_part
        .split_once('?')
        .map_or(path_part, |(path, _)| path)
}

/// Adds `mode=rwc` (create if missing) and creates the parent folder, so the default
/// `sqlite://data/ledgerline.db` works on a fresh clone.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let path = sqlite_path(url);
    let query = url.split_once('?').map_or("", |(_, query)| query);
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
                path: parent.display().to_string(),
                source,
            })?;
        }
    }
    if query.contains("mode=") {
        Ok(url.to_string())
    } else if query.is_empty() {
        Ok(format!("sqlite://{path}?mode=rwc"))
    } else {
        Ok(format!("sqlite://{path}?{query}&mode=rwc"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("ll-url-{}", std::process::id()));
        let path = dir.join("x.db");
        let url = format!("sqlite://{}", path.display());
        assert_eq!(sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.exists(), "parent folder is created");
        assert_eq!(
            sqlite_url(&format!("{url}?mode=ro")).unwrap(),
            format!("{url}?mode=ro")
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
