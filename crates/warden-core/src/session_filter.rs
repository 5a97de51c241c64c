//! Which sessions an admin means: the filters of the console's sessions screen, of `warden sessions list`
//! and of bulk termination, turned into one SQL condition. The same filter pages the list, counts "all N
//! matching" and drives a bulk termination, so what the operator sees is what gets ended.

use std::net::IpAddr;

use sea_query::{Alias, Cond, Expr, LikeExpr};
use serde::{Deserialize, Serialize};

use crate::policy::{Duration, Policy};
use crate::sessions;
use crate::store::Db;
use crate::{users, Error, Millis, Result};

/// Which sessions by state. Live means exactly "would validate now".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionState {
    #[default]
    Active,
    /// Revoked, expired, idle or past their maximum lifetime.
    Ended,
    All,
}

impl SessionState {
    pub fn parse(s: &str) -> Result<SessionState> {
        match s {
            "active" => Ok(SessionState::Active),
            "ended" => Ok(SessionState::Ended),
            "all" => Ok(SessionState::All),
            _ => Err(Error::invalid("status", "must be active, ended or all")),
        }
    }
}

/// Filters over all users' sessions. Every field is optional and they combine with AND; text fields
/// match exactly, case-insensitively where the stored value is a name (country, browser, OS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct SessionFilter {
    /// The user's email or id.
    pub user: Option<String>,
    /// One address (`203.0.113.7`, `2001:db8::1`) or a CIDR range of either family (`203.0.113.0/24`,
    /// `2001:db8::/32`).
    pub ip: Option<String>,
    /// Two-letter country code.
    pub country: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    /// `password`, `password+totp`, `password+backup_code`, …
    pub auth_method: Option<String>,
    /// The door or application that created the session (`web`, `console`, `cli`, …).
    pub client: Option<String>,
    /// Created at or after this time (unix ms).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_from: Option<Millis>,
    /// Created before this time (unix ms).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_to: Option<Millis>,
    /// Not seen for longer than this duration (`30m`, `2h`, `7d`).
    pub idle_for: Option<String>,
    pub status: SessionState,
    /// Only admin (privileged) sessions.
    pub privileged_only: bool,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl SessionFilter {
    /// No criterion at all (the state aside): the filter matches every session.
    pub fn is_empty(&self) -> bool {
        [
            &self.user,
            &self.ip,
            &self.country,
            &self.device,
            &self.browser,
            &self.os,
            &self.auth_method,
            &self.client,
            &self.idle_for,
        ]
        .into_iter()
        .all(|v| text(v).is_none())
            && self.created_from.is_none()
            && self.created_to.is_none()
            && !self.privileged_only
    }

    /// The filter as a condition on `sessions`. Looks the user up (an unknown user is `user_not_found`);
    /// every malformed field is `invalid_input` naming the field.
    pub async fn cond(&self, db: &Db, policy: &Policy, now: Millis) -> Result<Cond> {
        let col = |c: &str| Expr::col(Alias::new(c));
        let mut cond = Cond::all();
        if let Some(u) = text(&self.user) {
            cond = cond.add(col("user_id").eq(users::find(db, u).await?.id));
        }
        if let Some(ip) = text(&self.ip) {
            cond = cond.add(ip_cond(ip)?);
        }
        if let Some(c) = text(&self.country) {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(Error::invalid(
                    "country",
                    "must be a two-letter country code such as DE",
                ));
            }
            cond = cond.add(col("country").eq(c.to_ascii_uppercase()));
        }
        if let Some(d) = text(&self.device) {
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
            ("browser", "browser", &self.browser),
            ("os", "os", &self.os),
            ("auth_method", "auth_method", &self.auth_method),
            ("client", "client", &self.client),
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
        if let (Some(from), Some(to)) = (self.created_from, self.created_to) {
            if from >= to {
                return Err(Error::invalid("created_to", "must be later than created_from"));
            }
        }
        if let Some(from) = self.created_from {
            cond = cond.add(col("created_at").gte(from));
        }
        if let Some(to) = self.created_to {
            cond = cond.add(col("created_at").lt(to));
        }
        if let Some(idle) = text(&self.idle_for) {
            let d = Duration::parse(idle)
                .ok_or_else(|| Error::invalid("idle_for", "must be a duration such as 30m, 12h or 7d"))?;
            cond = cond.add(col("last_seen_at").lt(now.saturating_sub(d.as_millis())));
        }
        if self.privileged_only {
            cond = cond.add(col("privileged").eq(true));
        }
        match self.status {
            SessionState::Active => cond = cond.add(sessions::live_cond(policy, now)),
            SessionState::Ended => cond = cond.add(sessions::live_cond(policy, now).not()),
            SessionState::All => {}
        }
        Ok(cond)
    }

    /// The filter's set fields as `{name: value}` strings, for audit metadata and summaries.
    pub fn describe(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("user", &self.user),
            ("ip", &self.ip),
            ("country", &self.country),
            ("device", &self.device),
            ("browser", &self.browser),
            ("os", &self.os),
            ("auth_method", &self.auth_method),
            ("client", &self.client),
            ("idle_for", &self.idle_for),
        ] {
            if let Some(v) = text(v) {
                m.insert(k.into(), v.into());
            }
        }
        if let Some(t) = self.created_from {
            m.insert("created_from".into(), crate::clock::format_ms(t).into());
        }
        if let Some(t) = self.created_to {
            m.insert("created_to".into(), crate::clock::format_ms(t).into());
        }
        if self.privileged_only {
            m.insert("privileged_only".into(), true.into());
        }
        let status = match self.status {
            SessionState::Active => "active",
            SessionState::Ended => "ended",
            SessionState::All => "all",
        };
        m.insert("status".into(), status.into());
        m
    }
}

/// One address, or a CIDR range of either family, as the inclusive range of `sessions.ip_key` it covers
/// (one key for one address). IPv4 is compared as IPv4 mapped into IPv6, so `10.0.0.0/8` and
/// `::ffff:10.0.0.0/104` are the same range.
fn ip_range(ip: &str) -> Result<([u8; 16], [u8; 16])> {
    if !ip.contains('/') {
        let a: IpAddr = ip.parse().map_err(|_| {
            Error::invalid(
                "ip",
                "must be an IP address (203.0.113.7, 2001:db8::1) or a CIDR range (203.0.113.0/24, 2001:db8::/32)",
            )
        })?;
        let k = sessions::addr_key(a);
        return Ok((k, k));
    }
    let net: ipnet::IpNet = ip.parse().map_err(|_| {
        Error::invalid(
            "ip",
            "must be a CIDR range such as 203.0.113.0/24 (prefix 0 to 32) or 2001:db8::/32 (prefix 0 to 128)",
        )
    })?;
    Ok((sessions::addr_key(net.network()), sessions::addr_key(net.broadcast())))
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

    fn key(a: &str) -> [u8; 16] {
        sessions::addr_key(a.parse().unwrap())
    }

    fn within(range: &str, a: &str) -> bool {
        let (lo, hi) = ip_range(range).unwrap();
        (lo..=hi).contains(&key(a))
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

    #[test]
    fn one_address_is_one_key_in_canonical_form() {
        assert_eq!(
            ip_range("2001:DB8:0::1").unwrap(),
            (key("2001:db8::1"), key("2001:db8::1"))
        );
        assert_eq!(
            ip_range("203.0.113.7").unwrap().0,
            key("::ffff:203.0.113.7"),
            "IPv4 is mapped"
        );
    }

    #[test]
    fn ipv4_ranges_hold_exactly_their_addresses() {
        for (range, inside, outside) in [
            (
                "10.1.0.0/16",
                &["10.1.0.0", "10.1.255.255", "10.1.9.1"][..],
                &["10.10.0.1", "10.0.255.255", "10.2.0.0", "110.1.0.1"][..],
            ),
            (
                "10.0.0.0/15",
                &["10.0.0.1", "10.1.255.255"],
                &["10.2.0.0", "9.255.255.255"],
            ),
            (
                "192.168.1.77/30",
                &["192.168.1.76", "192.168.1.79"],
                &["192.168.1.75", "192.168.1.80"],
            ),
            ("1.2.3.4/20", &["1.2.0.0", "1.2.15.255"], &["1.2.16.0", "1.1.255.255"]),
            ("0.0.0.0/0", &["0.0.0.0", "255.255.255.255"], &["2001:db8::1", "::1"]),
        ] {
            for a in inside {
                assert!(within(range, a), "{a} in {range}");
            }
            for a in outside {
                assert!(!within(range, a), "{a} not in {range}");
            }
        }
    }

    #[test]
    fn ipv6_ranges_hold_exactly_their_addresses() {
        for (range, inside, outside) in [
            (
                "2001:db8::/32",
                &["2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:DB8:1::5"][..],
                &["2001:db9::", "2001:db7:ffff::1", "10.0.0.1"][..],
            ),
            (
                "2001:db8:abcd:12::/64",
                &["2001:db8:abcd:12::1", "2001:db8:abcd:12:ffff::"],
                &["2001:db8:abcd:13::", "2001:db8:abcd:11::1"],
            ),
            ("fe80::1/128", &["fe80::1"], &["fe80::2"]),
            ("::ffff:10.0.0.0/104", &["10.200.1.1"], &["11.0.0.0"]),
        ] {
            for a in inside {
                assert!(within(range, a), "{a} in {range}");
            }
            for a in outside {
                assert!(!within(range, a), "{a} not in {range}");
            }
        }
    }

    #[test]
    fn malformed_addresses_and_ranges_name_the_field() {
        for bad in [
            "1.2.3",
            "1.2.3.4/33",
            "1.2.3.4/x",
            "nonsense",
            "2001:db8::/129",
            "2001:db8::g/32",
            "/24",
        ] {
            let e = ip_range(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{bad}");
            assert!(e.to_string().contains("ip"), "{bad}: {e}");
        }
    }
}
