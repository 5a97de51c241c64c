//! `sqlx::migrate!` embeds the migration folders at compile time; a migration file added there must
//! rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
