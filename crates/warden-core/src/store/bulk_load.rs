//! Rows written in bulk: many rows of one table per multi-row statement, for the demo generator (which
//! writes millions of them).

use uuid::Uuid;

use crate::model::error::Result;
use crate::store::{Backend, Db, Tx};
use crate::with_tx;

/// One value of a generated row. Bound straight into the statement: the demo writes millions of rows,
/// and going through a query builder's boxed values spent most of the time in the allocator.
pub enum Cell {
    I(Option<i64>),
    S(Option<String>),
    B(bool),
    U(Option<Uuid>),
    Bytes(Option<Vec<u8>>),
}

/// Rows to insert into one table, flushed in multi-row statements.
pub struct Batch {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
    /// Rows written so far.
    pub written: u64,
}

impl Batch {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Batch {
            table,
            columns,
            rows: Vec::new(),
            written: 0,
        }
    }

    /// Rows waiting to be written.
    pub fn pending(&self) -> usize {
        self.rows.len()
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        // Stay under SQLite's 32766 bound parameters per statement (PostgreSQL allows 65535).
        let width = self.columns.len();
        let per_stmt = (30_000 / width).max(1);
        let written = self.rows.len() as u64;
        // Plain `?` on SQLite: it looks each named parameter (`$N`) up in a list, which is quadratic in a
        // statement with thousands of them.
        let numbered = tx.backend() == Backend::Postgres;
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_stmt).collect();
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.table, self.columns.join(", "));
            for r in 0..chunk.len() {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..width {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    if numbered {
                        sql.push_str(&format!("${}", r * width + c + 1));
                    } else {
                        sql.push('?');
                    }
                }
                sql.push(')');
            }
            with_tx!(tx, |c| {
                let mut q = sqlx::query(&sql);
                for cell in chunk.into_iter().flatten() {
                    q = match cell {
                        Cell::I(v) => q.bind(v),
                        Cell::S(v) => q.bind(v),
                        Cell::B(v) => q.bind(v),
                        Cell::U(v) => q.bind(v),
                        Cell::Bytes(v) => q.bind(v),
                    };
                }
                q.execute(c).await?.rows_affected()
            });
        }
        self.written += written;
        Ok(())
    }
}

pub fn v_uuid(u: Uuid) -> Cell {
    Cell::U(Some(u))
}
pub fn v_opt_uuid(u: Option<Uuid>) -> Cell {
    Cell::U(u)
}
pub fn v_i(i: i64) -> Cell {
    Cell::I(Some(i))
}
pub fn v_oi(i: Option<i64>) -> Cell {
    Cell::I(i)
}
pub fn v_s(s: &str) -> Cell {
    Cell::S(Some(s.to_owned()))
}
pub fn v_os(s: Option<&str>) -> Cell {
    Cell::S(s.map(str::to_owned))
}
pub fn v_b(b: bool) -> Cell {
    Cell::B(b)
}
pub fn v_bytes(b: Option<Vec<u8>>) -> Cell {
    Cell::Bytes(b)
}

/// Refreshes the planner's statistics after a bulk load (PostgreSQL; SQLite needs none here).
pub async fn analyze(db: &Db) -> Result<()> {
    if let crate::store::Pool::Postgres(p) = &db.pool {
        sqlx::query("ANALYZE").execute(p).await?;
    }
    Ok(())
}
