//! Client addresses as the store keys them: 16 bytes, IPv4 mapped into IPv6, so that both families
//! order as their numbers do and a CIDR range is one byte range.

use std::net::IpAddr;

/// An address as the 16 bytes stored in `sessions.ip_key`: IPv6 as is, IPv4 mapped into IPv6
/// (`::ffff:a.b.c.d`), so both families order as their numbers do and a CIDR range is one byte range.
pub fn addr_key(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The `ip_key` of a stored address text; `None` when the text is no address.
pub fn ip_key(ip: Option<&str>) -> Option<Vec<u8>> {
    ip.and_then(|s| s.trim().parse::<IpAddr>().ok())
        .map(|a| addr_key(a).to_vec())
}
