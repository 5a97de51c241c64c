//! Tells a Better Auth or an Auth.js database from its catalog (tables, columns and their declared
//! types), including the variants those libraries produce: plural table names (`usePlural`), snake_case
//! columns (Drizzle, Prisma casing), the Drizzle and Kysely adapters' names of Auth.js's tables, and
//! custom table names given by the user where the names cannot tell. Pure: the store reads the catalog.

use std::collections::BTreeMap;

use crate::model::policy_version::FieldScope;

use crate::model::library::{
    Capability, Columns, DateStyle, FoundTable, Library, LibrarySchema, Plugins, TableNames, TableRole,
};

/// One table of a database's catalog: its name and its columns with their declared types (lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    pub name: String,
    pub columns: Vec<(String, String)>,
}

/// What one role's table must and may hold, by the library's logical field names.
struct Shape {
    role: TableRole,
    /// Names the library gives this table, in order of preference.
    names: &'static [&'static str],
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const BETTER_AUTH: &[Shape] = &[
    Shape {
        role: TableRole::User,
        names: &["user", "users"],
        required: &["id", "name", "email", "emailVerified", "createdAt", "updatedAt"],
        optional: &["image", "role", "banned", "banReason", "banExpires", "twoFactorEnabled"],
    },
    Shape {
        role: TableRole::Session,
        names: &["session", "sessions"],
        required: &["id", "token", "expiresAt", "userId"],
        optional: &["createdAt", "updatedAt", "ipAddress", "userAgent", "impersonatedBy"],
    },
    Shape {
        role: TableRole::Account,
        names: &["account", "accounts"],
        required: &["id", "accountId", "providerId", "userId"],
        optional: &["password", "createdAt", "updatedAt"],
    },
    Shape {
        role: TableRole::Verification,
        names: &["verification", "verifications"],
        required: &["id", "identifier", "value", "expiresAt"],
        optional: &["createdAt", "updatedAt"],
    },
    Shape {
        role: TableRole::TwoFactor,
        names: &["twoFactor", "twoFactors", "two_factor", "two_factors"],
        required: &["id", "secret", "backupCodes", "userId"],
        optional: &["verified"],
    },
];

const AUTH_JS: &[Shape] = &[
    Shape {
        role: TableRole::User,
        names: &["users", "user", "User"],
        required: &["id", "email"],
        optional: &["name", "emailVerified", "image"],
    },
    Shape {
        role: TableRole::Session,
        names: &["sessions", "session", "Session"],
        required: &["sessionToken", "userId", "expires"],
        optional: &["id"],
    },
    Shape {
        role: TableRole::Account,
        names: &["accounts", "account", "Account"],
        required: &["userId", "provider", "providerAccountId"],
        optional: &["id", "type"],
    },
    Shape {
        role: TableRole::Verification,
        names: &[
            "verification_token",
            "verificationToken",
            "VerificationToken",
            "verification_tokens",
        ],
        required: &["identifier", "token", "expires"],
        optional: &[],
    },
];

fn shapes(library: Library) -> &'static [Shape] {
    match library {
        Library::BetterAuth => BETTER_AUTH,
        Library::AuthJs => AUTH_JS,
    }
}

/// `emailVerified` → `email_verified`.
fn snake(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The column of `table` that holds `field`: its own name or its snake_case form.
fn column_of<'a>(table: &'a CatalogTable, field: &str) -> Option<&'a (String, String)> {
    let snake = snake(field);
    table.columns.iter().find(|(c, _)| c == field).or_else(|| {
        table
            .columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(field) || c.eq_ignore_ascii_case(&snake))
    })
}

/// The fields of `shape` that `table` lacks.
fn missing(table: &CatalogTable, shape: &Shape) -> Vec<&'static str> {
    shape
        .required
        .iter()
        .copied()
        .filter(|f| column_of(table, f).is_none())
        .collect()
}

fn columns(table: &CatalogTable, shape: &Shape) -> Columns {
    let mut out = BTreeMap::new();
    for f in shape.required.iter().chain(shape.optional) {
        if let Some((c, _)) = column_of(table, f) {
            out.insert(*f, c.clone());
        }
    }
    Columns(out)
}

/// The table that plays `shape`'s role: the one the user named, else the first of the library's own
/// names that fits, else the one table of any name that fits. `Ok(None)` when no table fits.
fn pick<'a>(
    catalog: &'a [CatalogTable],
    shape: &Shape,
    named: Option<&str>,
) -> Result<Option<&'a CatalogTable>, String> {
    if let Some(name) = named {
        let Some(t) = catalog.iter().find(|t| t.name == name) else {
            return Err(format!("there is no table `{name}` (given for {})", shape.role.key()));
        };
        let lacks = missing(t, shape);
        if !lacks.is_empty() {
            return Err(format!(
                "table `{name}` (given for {}) has no column for {}",
                shape.role.key(),
                lacks.join(", ")
            ));
        }
        return Ok(Some(t));
    }
    let fits = |t: &&CatalogTable| missing(t, shape).is_empty();
    for name in shape.names {
        if let Some(t) = catalog.iter().filter(fits).find(|t| t.name == *name) {
            return Ok(Some(t));
        }
    }
    let any: Vec<&CatalogTable> = catalog.iter().filter(fits).collect();
    match any.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(format!(
            "several tables could be the {} table ({}): name it with --tables {}=<table>",
            shape.role.key(),
            many.iter()
                .map(|t| format!("`{}`", t.name))
                .collect::<Vec<_>>()
                .join(", "),
            shape.role.key()
        )),
    }
}

/// Whether some table has the shape of `library`'s sessions.
fn sessions_fit(catalog: &[CatalogTable], library: Library) -> bool {
    shapes(library)
        .iter()
        .filter(|s| s.role == TableRole::Session)
        .any(|s| catalog.iter().any(|t| missing(t, s).is_empty()))
}

/// Finds `library`'s schema in `catalog`. `Ok(None)` when its user and session tables are not there;
/// `Err` (in words) when they are but something is off: an ambiguous or wrong table given or found.
pub fn detect_as(
    catalog: &[CatalogTable],
    library: Library,
    named: &TableNames,
) -> Result<Option<LibrarySchema>, String> {
    let mut tables = BTreeMap::new();
    for shape in shapes(library) {
        let named = named.get(&shape.role).map(String::as_str);
        let found = match pick(catalog, shape, named) {
            Ok(found) => found,
            // Several tables fit: that matters only in this library's schema (its sessions are here).
            Err(e) if named.is_some() || tables.contains_key(&TableRole::User) || sessions_fit(catalog, library) => {
                return Err(e)
            }
            Err(_) => None,
        };
        match found {
            Some(t) => {
                tables.insert(
                    shape.role,
                    FoundTable {
                        name: t.name.clone(),
                        columns: columns(t, shape),
                    },
                );
            }
            None if matches!(shape.role, TableRole::User | TableRole::Session) => return Ok(None),
            None => {}
        }
    }
    let user = &tables[&TableRole::User];
    let plugins = match library {
        Library::BetterAuth => Plugins {
            admin: user.columns.has("role") && user.columns.has("banned"),
            two_factor: user.columns.has("twoFactorEnabled") && tables.contains_key(&TableRole::TwoFactor),
        },
        Library::AuthJs => Plugins::default(),
    };
    let snake_case = user
        .columns
        .get("createdAt")
        .or(user.columns.get("emailVerified"))
        .is_some_and(|c| c.contains('_'));
    let session = &tables[&TableRole::Session];
    let declared = catalog
        .iter()
        .find(|t| t.name == session.name)
        .and_then(|t| column_of(t, library.expiry_field()))
        .map(|(_, ty)| ty.clone())
        .unwrap_or_default();
    let user_id_type = catalog
        .iter()
        .find(|t| t.name == user.name)
        .and_then(|t| column_of(t, "id"))
        .map(|(_, ty)| ty.clone())
        .unwrap_or_default();
    Ok(Some(LibrarySchema {
        library,
        tables,
        plugins,
        dates: date_style(false, &declared, None),
        expiry_type: declared,
        snake_case,
        user_id_type,
        namespace: None,
    }))
}

/// Finds Better Auth's or Auth.js's schema in `catalog` (or only `library`'s, when the user said which).
/// `Ok(None)`: neither is there.
pub fn detect(
    catalog: &[CatalogTable],
    library: Option<Library>,
    named: &TableNames,
) -> Result<Option<LibrarySchema>, String> {
    match library {
        Some(l) => detect_as(catalog, l, named),
        None => match detect_as(catalog, Library::BetterAuth, named)? {
            Some(s) => Ok(Some(s)),
            None => detect_as(catalog, Library::AuthJs, named),
        },
    }
}

/// A stored expiry as read back: text, or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    Text,
    Integer(i64),
}

/// How instants are stored: on PostgreSQL from the expiry column's type; on SQLite, whose declared types
/// bind nothing (Auth.js's Kysely schema declares `timestamptz` and stores text), from one stored value,
/// else from the declared type.
pub fn date_style(sqlite: bool, declared: &str, sample: Option<Sample>) -> DateStyle {
    match declared {
        "timestamp with time zone" | "timestamptz" if !sqlite => DateStyle::Timestamptz,
        "timestamp without time zone" | "timestamp" if !sqlite => DateStyle::TimestampUtc,
        _ => {
            let integer = |n: i64| {
                if n.abs() < 100_000_000_000 {
                    DateStyle::EpochSeconds
                } else {
                    DateStyle::EpochMillis
                }
            };
            match sample {
                Some(Sample::Integer(n)) => integer(n),
                Some(Sample::Text) => DateStyle::IsoText,
                // Nothing stored yet: the declared type says it (Drizzle declares integer, Kysely date).
                None if declared.contains("int") => DateStyle::EpochMillis,
                None => DateStyle::IsoText,
            }
        }
    }
}

/// What the schema carries that the console shows and acts on, each with why not when it does not.
pub fn capabilities(schema: &LibrarySchema) -> Vec<Capability> {
    let session = schema.table(TableRole::Session).map(|t| &t.columns);
    let has = |f: &str| session.is_some_and(|c| c.has(f));
    let lib = schema.library.name();
    let cap = |key, what, available: bool, note: Option<String>| Capability {
        key,
        what,
        available,
        note,
    };
    let ba = schema.library == Library::BetterAuth;
    vec![
        cap(
            "session_place",
            "each session's IP address and device",
            has("ipAddress") && has("userAgent"),
            (!(has("ipAddress") && has("userAgent"))).then(|| format!("{lib} sessions record no IP address or user agent")),
        ),
        cap(
            "session_start",
            "when each session began",
            has("createdAt"),
            (!has("createdAt")).then(|| format!("{lib} sessions record no creation time")),
        ),
        cap(
            "session_activity",
            "when each session was last used",
            has("updatedAt"),
            Some(if has("updatedAt") {
                "approximate: Better Auth writes it only when it extends a session, once per updateAge (a day by default)".into()
            } else {
                format!("{lib} sessions record no activity time")
            }),
        ),
        cap(
            "ban",
            "banning a user, with a reason and an expiry",
            schema.plugins.admin,
            (!schema.plugins.admin).then(|| {
                if ba {
                    "needs Better Auth's admin plugin (user.banned, banReason, banExpires)".into()
                } else {
                    format!("{lib} has no ban")
                }
            }),
        ),
        cap(
            "two_factor",
            "two-factor enrolment, and resetting it",
            schema.plugins.two_factor,
            (!schema.plugins.two_factor).then(|| {
                if ba {
                    "needs Better Auth's twoFactor plugin (the twoFactor table and user.twoFactorEnabled)".into()
                } else {
                    format!("{lib} has no two-factor")
                }
            }),
        ),
        cap(
            "lockout",
            "locking an account after failed sign-ins",
            false,
            Some(format!(
                "sign-ins go through {lib}, not through warden-server: Warden's lockout applies to its own sign-ins only"
            )),
        ),
    ]
}

/// What to know before relying on ending a session in this database, in the library's own terms.
pub fn notes(schema: &LibrarySchema, users: i64, sessions: i64) -> Vec<String> {
    match schema.library {
        Library::BetterAuth => vec![
            "If the application turns on Better Auth's session.cookieCache, a session deleted here stays valid in \
             the browser for up to cookieCache.maxAge (5 minutes by default)."
                .into(),
            "If the application uses Better Auth's secondaryStorage (Redis, say), its sessions live there, not in \
             this database: ending them here has no effect."
                .into(),
        ],
        Library::AuthJs => {
            let mut n = Vec::new();
            if sessions == 0 && users > 0 {
                n.push(
                    "The sessions table is empty while there are users: the application probably uses Auth.js's \
                     JWT session strategy, whose sessions live only in cookies. Warden can neither list nor end those."
                        .into(),
                );
            } else {
                n.push(
                    "Only sessions of Auth.js's database strategy are in this database; JWT sessions live only in \
                     cookies."
                        .into(),
                );
            }
            n
        }
    }
}

/// Where the policy key `key` applies on a database of `schema` that Warden adopted: the application's
/// sign-ins and sessions are the library's, so only the lifetime caps reach them (applied in place by
/// `warden enforce`); every other key governs what goes through Warden's own engine, the console's
/// staff accounts and their sign-ins.
pub fn policy_scope(schema: &LibrarySchema, key: &str) -> FieldScope {
    let lib = schema.library.name();
    let ba = schema.library == Library::BetterAuth;
    let started = schema
        .table(TableRole::Session)
        .is_some_and(|t| t.columns.has("createdAt"));
    let console = "it governs this console's own staff accounts, whose sign-ins go through Warden";
    let (applies, note) = match key {
        "session.max_lifetime" if started => (
            true,
            format!(
                "Applied in place by `warden enforce`: {lib} sessions begun longer ago are ended, and expiries \
                 beyond it are brought forward to it."
            ),
        ),
        "session.max_lifetime" => (
            false,
            format!("Not applied to the application's sessions: {lib} records no session creation time, so a cap cannot be told from them."),
        ),
        "privileged.max_lifetime" if started && schema.plugins.admin => (
            true,
            format!(
                "Applied in place by `warden enforce` to the sessions of the application's admins (the admin \
                 plugin's admin role); {console} too."
            ),
        ),
        k if k.starts_with("session.") => {
            let settings = if ba {
                "its session.expiresIn and session.updateAge settings"
            } else {
                "its session.maxAge and session.updateAge settings"
            };
            (
                false,
                format!(
                    "Not applied to the application's sessions: {lib} sets their length and renewal itself ({settings}), \
                     and Warden does not see their sign-ins; only the lifetime cap is applied in place."
                ),
            )
        }
        k if k.starts_with("privileged.") => (false, format!("Not applied to the application's sessions; {console}.")),
        k if k.starts_with("password.") => (
            false,
            format!("Not applied to the application's passwords, which {lib} checks itself; {console}."),
        ),
        k if k.starts_with("email_verification.") => (
            false,
            format!("Not applied to the application's users, whose emails {lib} verifies itself; {console}."),
        ),
        _ => (
            false,
            format!("Not applied to the application's users: their sign-ins go through {lib}, not Warden; {console}."),
        ),
    };
    FieldScope { applies, note }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, cols: &[&str]) -> CatalogTable {
        CatalogTable {
            name: name.into(),
            columns: cols.iter().map(|c| (c.to_string(), "text".to_string())).collect(),
        }
    }

    fn better_auth(user: &str, session: &str, snake_case: bool) -> Vec<CatalogTable> {
        let c = |f: &str| if snake_case { snake(f) } else { f.to_owned() };
        let cols = |fs: &[&str]| fs.iter().map(|f| c(f)).collect::<Vec<_>>();
        let user_cols = cols(&[
            "id",
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
            "role",
            "banned",
            "banReason",
            "banExpires",
        ]);
        let session_cols = cols(&[
            "id",
            "expiresAt",
            "token",
            "createdAt",
            "updatedAt",
            "ipAddress",
            "userAgent",
            "userId",
        ]);
        vec![
            table(user, &user_cols.iter().map(String::as_str).collect::<Vec<_>>()),
            table(session, &session_cols.iter().map(String::as_str).collect::<Vec<_>>()),
        ]
    }

    #[test]
    fn better_auth_is_found_in_its_variants() {
        let none = TableNames::new();
        for (user, session, snake_case) in [
            ("user", "session", false),
            ("users", "sessions", false),
            ("user", "session", true),
        ] {
            let s = detect(&better_auth(user, session, snake_case), None, &none)
                .unwrap()
                .expect("found");
            assert_eq!(s.library, Library::BetterAuth);
            assert_eq!(s.tables[&TableRole::User].name, user);
            assert_eq!(s.tables[&TableRole::Session].name, session);
            assert_eq!(s.snake_case, snake_case);
            assert!(s.plugins.admin && !s.plugins.two_factor);
            let expected = if snake_case { "email_verified" } else { "emailVerified" };
            assert_eq!(s.tables[&TableRole::User].columns.get("emailVerified"), Some(expected));
        }
    }

    #[test]
    fn custom_names_are_found_by_shape_or_given() {
        let none = TableNames::new();
        let s = detect(&better_auth("app_users", "app_sessions", false), None, &none)
            .unwrap()
            .unwrap();
        assert_eq!(s.tables[&TableRole::User].name, "app_users");
        // Two tables of the same shape: detection cannot tell, and says how to name it.
        let mut two = better_auth("app_users", "app_sessions", false);
        two.push(table("old_sessions", &["id", "expiresAt", "token", "userId"]));
        let e = detect(&two, None, &none).unwrap_err();
        assert!(
            e.contains("--tables session=<table>") && e.contains("`old_sessions`"),
            "{e}"
        );
        let named = crate::model::library::parse_table_names("session=app_sessions").unwrap();
        let s = detect(&two, None, &named).unwrap().unwrap();
        assert_eq!(s.tables[&TableRole::Session].name, "app_sessions");
        // A name given for a table that does not fit is refused, naming what it lacks.
        let wrong = crate::model::library::parse_table_names("session=app_users").unwrap();
        let e = detect(&two, Some(Library::BetterAuth), &wrong).unwrap_err();
        assert!(e.contains("has no column for token, expiresAt, userId"), "{e}");
    }

    #[test]
    fn authjs_is_found_by_its_adapters_names() {
        let none = TableNames::new();
        let pg = vec![
            table("users", &["id", "name", "email", "emailVerified", "image"]),
            table("sessions", &["id", "userId", "expires", "sessionToken"]),
            table("accounts", &["id", "userId", "type", "provider", "providerAccountId"]),
            table("verification_token", &["identifier", "expires", "token"]),
        ];
        let s = detect(&pg, None, &none).unwrap().unwrap();
        assert_eq!(s.library, Library::AuthJs);
        assert_eq!(s.tables.len(), 4);
        let drizzle = vec![
            table("user", &["id", "name", "email", "emailVerified", "image"]),
            table("session", &["sessionToken", "userId", "expires"]),
        ];
        let s = detect(&drizzle, None, &none).unwrap().unwrap();
        assert_eq!(s.library, Library::AuthJs);
        assert_eq!(
            s.tables[&TableRole::Session].columns.get("id"),
            None,
            "Drizzle's sessions have no id"
        );
    }

    #[test]
    fn other_schemas_are_neither() {
        let none = TableNames::new();
        let shop = vec![
            table("users", &["id", "email", "password"]),
            table("orders", &["id", "user_id"]),
        ];
        assert_eq!(detect(&shop, None, &none).unwrap(), None);
        assert_eq!(detect(&[], None, &none).unwrap(), None);
    }

    #[test]
    fn dates_are_read_from_the_declared_type_and_a_sample() {
        assert_eq!(
            date_style(false, "timestamp with time zone", None),
            DateStyle::Timestamptz
        );
        assert_eq!(
            date_style(false, "timestamp without time zone", None),
            DateStyle::TimestampUtc
        );
        assert_eq!(date_style(true, "date", Some(Sample::Text)), DateStyle::IsoText);
        assert_eq!(date_style(true, "date", None), DateStyle::IsoText);
        assert_eq!(
            date_style(true, "timestamptz", None),
            DateStyle::IsoText,
            "SQLite binds no declared type"
        );
        assert_eq!(
            date_style(true, "timestamptz", Some(Sample::Integer(1_765_000_000_000))),
            DateStyle::EpochMillis
        );
        assert_eq!(
            date_style(true, "integer", Some(Sample::Integer(1_765_000_000_000))),
            DateStyle::EpochMillis
        );
        assert_eq!(
            date_style(true, "integer", Some(Sample::Integer(1_765_000_000))),
            DateStyle::EpochSeconds
        );
        assert_eq!(date_style(true, "integer", None), DateStyle::EpochMillis);
    }

    #[test]
    fn only_the_lifetime_caps_reach_a_librarys_sessions_and_only_where_they_can_be_told() {
        let none = TableNames::new();
        let ba = detect(&better_auth("user", "session", false), None, &none)
            .unwrap()
            .unwrap();
        let applies = |s: &LibrarySchema, k: &str| policy_scope(s, k).applies;
        assert!(applies(&ba, "session.max_lifetime"));
        assert!(
            applies(&ba, "privileged.max_lifetime"),
            "the admin plugin's role tells the admins"
        );
        for k in [
            "session.ttl",
            "session.idle_timeout",
            "privileged.ttl",
            "lockout.threshold",
            "password.min_length",
        ] {
            assert!(!applies(&ba, k), "{k}");
        }
        assert!(policy_scope(&ba, "session.ttl").note.contains("session.expiresIn"));
        let authjs = detect(
            &[
                table("users", &["id", "name", "email", "emailVerified", "image"]),
                table("sessions", &["id", "userId", "expires", "sessionToken"]),
            ],
            None,
            &none,
        )
        .unwrap()
        .unwrap();
        assert!(
            !applies(&authjs, "session.max_lifetime"),
            "Auth.js records no creation time"
        );
        assert!(!applies(&authjs, "privileged.max_lifetime"));
        assert!(policy_scope(&authjs, "session.max_lifetime")
            .note
            .contains("no session creation time"));
        assert!(policy_scope(&authjs, "session.ttl").note.contains("session.maxAge"));
    }
}
