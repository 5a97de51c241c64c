//! Looking a user up, for the doors: by id, by email, or as an operator typed it (an email or an id).

use uuid::Uuid;

use crate::model::error::Result;
pub use crate::model::user::{Email, UserRow, UserView};
use crate::store::{users, Db};

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>> {
    users::by_id(db, id).await
}

pub async fn by_email(db: &Db, email: &Email) -> Result<Option<UserRow>> {
    users::by_email(db, email).await
}

/// Finds a user by email or id, as typed by an operator; `user_not_found` when there is none.
pub async fn find(db: &Db, ident: &str) -> Result<UserRow> {
    users::find(db, ident).await
}
