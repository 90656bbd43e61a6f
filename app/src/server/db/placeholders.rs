//! Bind placeholders for SQL built at run time, such as multi-row inserts.

use super::Backend;
use std::fmt::Write;

/// Writes one placeholder per bound value, in bind order. PostgreSQL needs `$n`. SQLite reads
/// `$n` as a *named* parameter, and sqlx resolves every name with SQLite's lookup, a scan over
/// all of them: a batch of webhook events binds over a thousand values, and that quadratic scan
/// was 5–7 % of ingest's CPU. Anonymous `?` are bound in order without any lookup. Fixed,
/// hand-written queries keep `$n`, which both backends accept.
#[derive(Debug)]
pub struct Placeholders {
    backend: Backend,
    bound: usize,
}

impl Placeholders {
    pub fn new(backend: Backend) -> Placeholders {
        Placeholders { backend, bound: 0 }
    }

    /// Appends the placeholder for the next value to be bound.
    pub fn push(&mut self, sql: &mut String) {
        self.bound += 1;
        match self.backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                let _ = write!(sql, "${}", self.bound);
            }
        }
    }

    /// Appends `p, p, …` for the next `n` values.
    pub fn push_list(&mut self, sql: &mut String, n: usize) {
        for i in 0..n {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push(sql);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_in_bind_order_and_sqlite_binds_anonymously() {
        let mut pg = Placeholders::new(Backend::Postgres);
        let mut sql = String::new();
        pg.push_list(&mut sql, 3);
        sql.push_str(", 0, ");
        pg.push(&mut sql);
        assert_eq!(sql, "$1, $2, $3, 0, $4");

        let mut lite = Placeholders::new(Backend::Sqlite);
        let mut sql = String::new();
        lite.push_list(&mut sql, 2);
        sql.push_str(", 0, ");
        lite.push(&mut sql);
        assert_eq!(sql, "?, ?, 0, ?");
    }
}
