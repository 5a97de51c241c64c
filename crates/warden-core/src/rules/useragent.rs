//! Device, browser and OS from a User-Agent header, for the sessions table and the timeline.
//! Parsing is woothee's (a maintained, table-driven parser); this module only maps its categories to
//! Warden's device types and tells tablets from phones, which woothee groups together.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParsedAgent {
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
}

pub fn parse(user_agent: Option<&str>) -> ParsedAgent {
    let Some(ua) = user_agent.map(str::trim).filter(|s| !s.is_empty()) else {
        return ParsedAgent {
            device: "unknown".into(),
            ..Default::default()
        };
    };
    if let Some(agent) = warden_door(ua) {
        return agent;
    }
    let known = |s: &str| (!s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN).then(|| s.to_owned());
    match woothee::parser::Parser::new().parse(ua) {
        Some(r) => {
            let device = match r.category {
                "pc" => "desktop",
                "smartphone" | "mobilephone" => {
                    if ua.contains("iPad")
                        || ua.contains("Tablet")
                        || (ua.contains("Android") && !ua.contains("Mobile"))
                    {
                        "tablet"
                    } else {
                        "mobile"
                    }
                }
                "crawler" => "bot",
                _ => "unknown",
            };
            let os = known(r.os).map(|os| os_name(&os, known(&r.os_version)));
            ParsedAgent {
                device: device.into(),
                browser: known(r.name),
                browser_version: known(r.version),
                os,
            }
        }
        None => ParsedAgent {
            device: "unknown".into(),
            ..Default::default()
        },
    }
}

/// The OS as people name it: the family (the first word, which the sessions filter matches on its
/// own), then the version where it tells users something. woothee's "iPhone 17.5" is "iOS 17.5"; the
/// NT kernel number of "Windows 10" and the frozen "10.15.7" of every recent Mac are dropped.
fn os_name(os: &str, version: Option<String>) -> String {
    let (family, versioned) = match os {
        "iPhone" | "iPod" => ("iOS", true),
        "iPad" => ("iPadOS", true),
        "Mac OSX" | "Mac OS" => ("macOS", false),
        "Android" => ("Android", true),
        other => (other, false),
    };
    match version.filter(|v| versioned && !family.contains(v.as_str())) {
        Some(v) => format!("{family} {v}"),
        None => family.to_owned(),
    }
}

/// Warden's own doors name themselves `Warden Console/<version> (<os>)` and `Warden CLI/<version> (<os>)`;
/// a browser parser does not know them, and an operator's own session should not read "unknown device".
fn warden_door(ua: &str) -> Option<ParsedAgent> {
    let (name, rest) = ["Warden Console/", "Warden CLI/"]
        .into_iter()
        .find_map(|p| ua.strip_prefix(p).map(|rest| (p.trim_end_matches('/'), rest)))?;
    let (version, os) = match rest.split_once(' ') {
        Some((v, os)) => (v, os.trim().trim_start_matches('(').trim_end_matches(')')),
        None => (rest, ""),
    };
    let os = match os {
        "linux" => "Linux",
        "windows" => "Windows",
        "macos" => "macOS",
        "" => "",
        other => other,
    };
    Some(ParsedAgent {
        device: "desktop".into(),
        browser: Some(name.to_owned()),
        browser_version: (!version.is_empty()).then(|| version.to_owned()),
        os: (!os.is_empty()).then(|| os.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn warden_doors_are_named() {
        let a = super::parse(Some("Warden Console/0.1.0 (linux)"));
        assert_eq!(a.device, "desktop");
        assert_eq!(a.browser.as_deref(), Some("Warden Console"));
        assert_eq!(a.browser_version.as_deref(), Some("0.1.0"));
        assert_eq!(a.os.as_deref(), Some("Linux"));
        assert_eq!(super::parse(Some("Warden CLI/2.0")).os, None);
    }

    use super::parse;

    #[test]
    fn desktop_chrome_on_windows() {
        let p = parse(Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"));
        assert_eq!(p.device, "desktop");
        assert_eq!(p.browser.as_deref(), Some("Chrome"));
        assert_eq!(p.browser_version.as_deref(), Some("120.0.0.0"));
        assert!(p.os.unwrap().starts_with("Windows"));
    }

    #[test]
    fn iphone_is_mobile_and_ipad_is_tablet() {
        let phone = parse(Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"));
        assert_eq!(phone.device, "mobile");
        let pad = parse(Some("Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"));
        assert_eq!(pad.device, "tablet");
        assert_eq!(phone.os.as_deref(), Some("iOS 17.1"));
        assert_eq!(pad.os.as_deref(), Some("iPadOS 17.1"));
    }

    #[test]
    fn os_names_are_the_ones_people_use() {
        let os = |ua: &str| parse(Some(ua)).os.unwrap();
        assert_eq!(
            os("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
            "Windows 10",
            "no NT kernel number"
        );
        assert_eq!(
            os("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
            "macOS"
        );
        assert_eq!(
            os("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"),
            "Android 14"
        );
        assert_eq!(os("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"), "ChromeOS");
        assert_eq!(
            os("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            "Linux"
        );
    }

    #[test]
    fn missing_or_garbage_agent_is_unknown() {
        assert_eq!(parse(None).device, "unknown");
        assert_eq!(parse(Some("")).device, "unknown");
        assert_eq!(parse(Some("\u{0}garbage")).device, "unknown");
    }
}
