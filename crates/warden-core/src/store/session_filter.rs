//! A [`SessionFilter`] as one condition on `sessions`.

use sea_query::{Alias, Cond, Expr, LikeExpr};

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::{Duration, Policy};
use crate::model::session_filter::{ip_range, text, SessionFilter, SessionState};
use crate::model::vocab::AuthMethod;
use crate::store::{sessions, users, Db};

/// The filter as a condition on `sessions`. Looks the user up (an unknown user is `user_not_found`);
/// every malformed field is `invalid_input` naming the field.
pub async fn cond(f: &SessionFilter, db: &Db, policy: &Policy, now: Millis) -> Result<Cond> {
    let col = |c: &str| Expr::col(Alias::new(c));
    let mut cond = Cond::all();
    if let Some(u) = text(&f.user) {
        cond = cond.add(col("user_id").eq(users::find(db, u).await?.id));
    }
    if let Some(ip) = text(&f.ip) {
        cond = cond.add(ip_cond(ip)?);
    }
    if let Some(c) = text(&f.country) {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(Error::invalid(
                "country",
                "must be a two-letter country code such as DE",
            ));
        }
        cond = cond.add(col("country").eq(c.to_ascii_uppercase()));
    }
    if let Some(d) = text(&f.device) {
        const DEVICES: [&str; 5] = ["desktop", "mobile", "tablet", "bot", "unknown"];
        let d = d.to_ascii_lowercase();
        if !DEVICES.contains(&d.as_str()) {
            return Err(Error::invalid(
                "device",
                "must be desktop, mobile, tablet, bot or unknown",
            ));
        }
        cond = cond.add(col("device").eq(d));
    }
    for (field, column, value) in [
        ("browser", "browser", &f.browser),
        ("os", "os", &f.os),
        ("client", "client", &f.client),
    ] {
        if let Some(v) = text(value) {
            if v.chars().count() > 100 {
                return Err(Error::invalid(field, "must be at most 100 characters"));
            }
            let lower = || Expr::expr(sea_query::Func::lower(Expr::col(Alias::new(column))));
            let v = v.to_lowercase();
            if column == "os" {
                // "iOS" finds "iOS 17.5" too: an OS is named by its family, then its version.
                let family = format!("{} %", v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                cond = cond.add(
                    Cond::any()
                        .add(lower().eq(v))
                        .add(lower().like(LikeExpr::new(family).escape('\\'))),
                );
            } else {
                cond = cond.add(lower().eq(v));
            }
        }
    }
    if let Some(m) = text(&f.auth_method) {
        let method = AuthMethod::parse(&m.to_ascii_lowercase())
            .ok_or_else(|| Error::invalid("auth_method", format!("must be one of {}", AuthMethod::list())))?;
        cond = cond.add(Expr::col(Alias::new("auth_method")).eq(method.as_str()));
    }
    if let (Some(from), Some(to)) = (f.created_from, f.created_to) {
        if from >= to {
            return Err(Error::invalid("created_to", "must be later than created_from"));
        }
    }
    if let Some(from) = f.created_from {
        cond = cond.add(col("created_at").gte(from));
    }
    if let Some(to) = f.created_to {
        cond = cond.add(col("created_at").lt(to));
    }
    if let Some(idle) = text(&f.idle_for) {
        let d = Duration::parse(idle)
            .ok_or_else(|| Error::invalid("idle_for", "must be a duration such as 30m, 12h or 7d"))?;
        cond = cond.add(col("last_seen_at").lt(now.saturating_sub(d.as_millis())));
    }
    if f.privileged_only {
        cond = cond.add(col("privileged").eq(true));
    }
    match f.status {
        SessionState::Active => cond = cond.add(sessions::live_cond(policy, now)),
        SessionState::Ended => cond = cond.add(sessions::live_cond(policy, now).not()),
        SessionState::All => {}
    }
    Ok(cond)
}

/// `ip_key` within the address or range: one index range on `sessions_unrevoked_by_ip_key`.
fn ip_cond(ip: &str) -> Result<Cond> {
    let (lo, hi) = ip_range(ip)?;
    let col = || Expr::col(Alias::new("ip_key"));
    Ok(if lo == hi {
        Cond::all().add(col().eq(lo.to_vec()))
    } else {
        Cond::all().add(col().gte(lo.to_vec())).add(col().lte(hi.to_vec()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(c: Cond) -> String {
        let mut q = sea_query::Query::select();
        q.column(Alias::new("id")).from(Alias::new("sessions")).cond_where(c);
        q.to_string(sea_query::SqliteQueryBuilder)
    }

    #[test]
    fn a_range_is_one_index_range_on_ip_key() {
        let s = sql(ip_cond("10.0.0.0/8").unwrap());
        assert!(s.contains("\"ip_key\" >= ") && s.contains("\"ip_key\" <= "), "{s}");
        let s = sql(ip_cond("2001:db8::1").unwrap());
        assert!(
            s.contains("\"ip_key\" = ") && !s.contains("<="),
            "one address, one key: {s}"
        );
    }
}
