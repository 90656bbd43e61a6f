//! Filtered lists paged newest first by keyset ("time:id" cursors), the way every list page in
//! the app pages: stable under inserts, and as fast on page 500 as on page 1.

use sqlx::{any::AnyRow, Any};

/// A value to bind; lists only filter on text and integers.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

impl From<&str> for Bind {
    fn from(s: &str) -> Bind {
        Bind::Text(s.to_string())
    }
}

impl From<String> for Bind {
    fn from(s: String) -> Bind {
        Bind::Text(s)
    }
}

impl From<i64> for Bind {
    fn from(n: i64) -> Bind {
        Bind::Int(n)
    }
}

/// Where the previous page stopped: its last row's time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    /// None for anything that is not "time:id" (a stale or hand-edited link starts over).
    pub fn parse(s: &str) -> Option<Cursor> {
        let (t, id) = s.split_once(':')?;
        Some(Cursor {
            at: t.parse().ok()?,
            id: id.to_string(),
        })
    }

    pub fn encode(at: i64, id: &str) -> String {
        format!("{at}:{id}")
    }
}

/// `SELECT … WHERE 1 = 1` plus filters, each `?` in a clause becoming the next `$n`.
pub struct ListQuery {
    sql: String,
    binds: Vec<Bind>,
}

impl ListQuery {
    /// `select` must end in a WHERE clause that filters can extend with ` AND …`.
    pub fn new(select: impl Into<String>) -> ListQuery {
        ListQuery {
            sql: select.into(),
            binds: Vec::new(),
        }
    }

    /// Appends `clause`, binding `values` in order to its `?` marks.
    pub fn and(&mut self, clause: &str, values: impl IntoIterator<Item = Bind>) -> &mut Self {
        let mut values = values.into_iter();
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                let value = values.next().expect("a value for every ? in the clause");
                self.binds.push(value);
                self.sql += &format!("${}", self.binds.len());
            }
            self.sql += part;
        }
        self
    }

    /// Adds the keyset condition and order over (`at_col`, `id_col`) and fetches `limit` rows
    /// plus one, which tells whether there is a next page.
    pub async fn fetch_page(
        mut self,
        db: &super::Db,
        at_col: &str,
        id_col: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        if let Some(c) = cursor.and_then(Cursor::parse) {
            self.and(
                &format!(" AND ({at_col} < ? OR ({at_col} = ? AND {id_col} < ?))"),
                [c.at.into(), c.at.into(), c.id.into()],
            );
        }
        self.and(
            &format!(" ORDER BY {at_col} DESC, {id_col} DESC LIMIT ?"),
            [(limit + 1).into()],
        );
        let mut q = sqlx::query::<Any>(&self.sql);
        for b in self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(n) => q.bind(n),
            };
        }
        q.fetch_all(db.pool()).await
    }
}

/// Cuts the extra row `fetch_page` asked for; returns the cursor of the next page, if any.
pub fn next_cursor<T>(
    items: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (i64, &str),
) -> Option<String> {
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|t| {
            let (at, id) = key(t);
            Cursor::encode(at, id)
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor::parse(&Cursor::encode(1_700_000, "job_ab:c")).unwrap();
        assert_eq!(
            c,
            Cursor {
                at: 1_700_000,
                id: "job_ab:c".into()
            }
        );
        assert_eq!(Cursor::parse("nope"), None);
        assert_eq!(Cursor::parse("x:job_1"), None);
    }

    #[test]
    fn each_mark_gets_the_next_placeholder() {
        let mut q = ListQuery::new("SELECT id FROM t WHERE 1 = 1");
        q.and(" AND a = ?", ["x".into()]);
        q.and(" AND (b = ? OR c LIKE ?)", ["y".into(), "z%".into()]);
        assert_eq!(
            q.sql,
            "SELECT id FROM t WHERE 1 = 1 AND a = $1 AND (b = $2 OR c LIKE $3)"
        );
        assert_eq!(q.binds.len(), 3);
    }
}
