//! Which sessions an admin means: the filters of the console's sessions screen, of `warden sessions list`
//! and of bulk termination. The same filter pages the list, counts "all N matching" and drives a bulk
//! termination, so what the operator sees is what gets ended; the store turns it into one condition.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::address::addr_key;
use crate::model::clock::{format_ms, Millis};
use crate::model::error::{Error, Result};

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
    /// How the session was signed in to: `password`, `password+totp` or `backup_code` ([`AuthMethod`](crate::model::vocab::AuthMethod)).
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

pub fn text(v: &Option<String>) -> Option<&str> {
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
            m.insert("created_from".into(), format_ms(t).into());
        }
        if let Some(t) = self.created_to {
            m.insert("created_to".into(), format_ms(t).into());
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
pub fn ip_range(ip: &str) -> Result<([u8; 16], [u8; 16])> {
    if !ip.contains('/') {
        let a: IpAddr = ip.parse().map_err(|_| {
            Error::invalid(
                "ip",
                "must be an IP address (203.0.113.7, 2001:db8::1) or a CIDR range (203.0.113.0/24, 2001:db8::/32)",
            )
        })?;
        let k = addr_key(a);
        return Ok((k, k));
    }
    let net: ipnet::IpNet = ip.parse().map_err(|_| {
        Error::invalid(
            "ip",
            "must be a CIDR range such as 203.0.113.0/24 (prefix 0 to 32) or 2001:db8::/32 (prefix 0 to 128)",
        )
    })?;
    Ok((addr_key(net.network()), addr_key(net.broadcast())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: &str) -> [u8; 16] {
        addr_key(a.parse().unwrap())
    }

    fn within(range: &str, a: &str) -> bool {
        let (lo, hi) = ip_range(range).unwrap();
        (lo..=hi).contains(&key(a))
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
