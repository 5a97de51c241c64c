//! Configuration: command-line flags, then environment variables, then a TOML file (`--config`), then
//! defaults — the first that sets a value wins. [`Args::resolve`] turns them into a checked
//! [`ServerConfig`] or a message that says what to change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::http::HeaderName;
use clap::Parser;
use ipnet::IpNet;
use serde::Deserialize;
use warden_core::ops::rate_limits::Limit;
use warden_core::store::HashLimits;

use crate::RateLimits;

pub const DEFAULT_BIND: &str = "127.0.0.1:8787";
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

const AFTER_HELP: &str = "\
Configuration file (--config, TOML): the same settings under their snake_case names, e.g.

    db = \"postgres://warden@127.0.0.1/warden\"
    bind = \"127.0.0.1:8787\"
    origins = [\"https://app.example.com\"]
    trusted_proxies = [\"127.0.0.1/32\"]
    clients = [\"web\", \"ios\", \"android\"] # what x-warden-client may name
    country_header = \"CF-IPCountry\"
    smtp_url = \"smtp://mail.example.com:587?tls=required\"
    mail_from = \"Example <no-reply@example.com>\"
    public_url = \"https://app.example.com\"
    hash_concurrency = 2               # password checks at once [default: the cores]
    hash_memory_mib = 1024             # their argon2 memory together
    hash_wait_ms = 2000                # then 503 with Retry-After
    header_timeout_ms = 10000          # slow clients: headers, then the body (408)
    body_timeout_ms = 10000
    max_connections = 1024             # then 503 with Retry-After

    [rate_limits]                      # N/DURATION, shared by every server on the database
    sign_in_per_ip = \"30/1m\"
    sign_in_per_account = \"10/1m\"
    sign_up_per_ip = \"10/1m\"
    sign_up_per_account = \"5/1h\"
    verification_per_ip = \"10/1m\"
    verification_per_account = \"3/15m\"
    second_factor_per_account = \"10/15m\"
    revocations_per_account = \"60/1m\"

A flag wins over its environment variable, which wins over the file.
The data key that seals two-factor secrets is read from WARDEN_DATA_KEY or the file named by
WARDEN_DATA_KEY_FILE (as for the CLI); without it the two-factor endpoints answer 503.
The database must be migrated first: `warden migrate --db <url>`.";

/// warden-server: the HTTP API of Warden for an application's end users and admins.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "warden-server", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// A TOML configuration file (see below).
    #[arg(long, env = "WARDEN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The database URL: sqlite://path/to/warden.db or postgres://user@host/db.
    #[arg(long, env = "WARDEN_DB", value_name = "URL")]
    pub db: Option<String>,
    /// The address to listen on [default: 127.0.0.1:8787].
    #[arg(long, env = "WARDEN_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// An origin allowed to send state-changing requests, as scheme://host[:port]. Repeat the flag, or
    /// separate with commas in WARDEN_ORIGINS. Must be https unless --dev.
    #[arg(
        long = "origin",
        env = "WARDEN_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub origins: Vec<String>,
    /// Development mode: allows http origins and leaves the Secure flag off the cookies.
    #[arg(long, env = "WARDEN_DEV")]
    pub dev: bool,
    /// A reverse proxy (IP or CIDR) whose forwarded client IP and location headers are believed.
    /// Repeat, or separate with commas in WARDEN_TRUSTED_PROXIES.
    #[arg(
        long = "trusted-proxy",
        env = "WARDEN_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<String>,
    /// An application allowed to name itself in the `x-warden-client` header of a sign-in (web, ios,
    /// android, cli, …), so an admin can tell its sessions apart. Repeat, or separate with commas in
    /// WARDEN_CLIENTS. A sign-in that names no client is the first one [default: web].
    #[arg(long = "client", env = "WARDEN_CLIENTS", value_delimiter = ',', value_name = "NAME")]
    pub clients: Vec<String>,
    /// The header in which a trusted proxy passes the client IP [default: x-forwarded-for].
    #[arg(long, env = "WARDEN_FORWARDED_HEADER", value_name = "HEADER")]
    pub forwarded_header: Option<String>,
    /// The header in which a trusted proxy passes the client's country code (e.g. CF-IPCountry).
    #[arg(long, env = "WARDEN_COUNTRY_HEADER", value_name = "HEADER")]
    pub country_header: Option<String>,
    /// The header in which a trusted proxy passes the client's city (e.g. CF-IPCity).
    #[arg(long, env = "WARDEN_CITY_HEADER", value_name = "HEADER")]
    pub city_header: Option<String>,
    /// The Domain attribute of the cookies (none by default: host-only cookies).
    #[arg(long, env = "WARDEN_COOKIE_DOMAIN", value_name = "DOMAIN")]
    pub cookie_domain: Option<String>,
    /// The Path attribute of the cookies [default: /].
    #[arg(long, env = "WARDEN_COOKIE_PATH", value_name = "PATH")]
    pub cookie_path: Option<String>,
    /// The SMTP server for verification emails: smtp://host:port (plain), smtp://host:587?tls=required
    /// (STARTTLS) or smtps://user:password@host (TLS). Without it no email is sent.
    #[arg(long, env = "WARDEN_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// The From address of verification emails, e.g. "Example <no-reply@example.com>".
    #[arg(long, env = "WARDEN_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// The public base URL that verification links start with [default: the first origin].
    #[arg(long, env = "WARDEN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// The issuer name shown in authenticator apps [default: Warden].
    #[arg(long, env = "WARDEN_TOTP_ISSUER", value_name = "NAME")]
    pub totp_issuer: Option<String>,
    /// The largest request body accepted, in bytes [default: 65536].
    #[arg(long, env = "WARDEN_MAX_BODY", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// The log filter, in tracing's EnvFilter syntax [default: info].
    #[arg(long, env = "WARDEN_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// The log format: text or json [default: text].
    #[arg(long, env = "WARDEN_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Password checks (argon2id) that may run at once [default: the number of cores].
    #[arg(long, env = "WARDEN_HASH_CONCURRENCY", value_name = "N")]
    pub hash_concurrency: Option<usize>,
    /// Argon2 memory that running password checks may hold together, in MiB [default: 1024].
    #[arg(long, env = "WARDEN_HASH_MEMORY_MIB", value_name = "MIB")]
    pub hash_memory_mib: Option<u32>,
    /// How long a sign-in waits for a free password check before it is answered 503 with Retry-After,
    /// in milliseconds [default: 2000].
    #[arg(long, env = "WARDEN_HASH_WAIT_MS", value_name = "MS")]
    pub hash_wait_ms: Option<u64>,
    /// How long a client may take to send a request's headers before its connection is closed, in
    /// milliseconds [default: 10000].
    #[arg(long, env = "WARDEN_HEADER_TIMEOUT_MS", value_name = "MS")]
    pub header_timeout_ms: Option<u64>,
    /// How long a client may take to send a request's body before it is answered 408, in milliseconds
    /// [default: 10000].
    #[arg(long, env = "WARDEN_BODY_TIMEOUT_MS", value_name = "MS")]
    pub body_timeout_ms: Option<u64>,
    /// How often the outbox's undelivered emails are looked at, in milliseconds [default: 30000]. Each
    /// is tried again after a growing delay (1, 5, 15, 30 minutes, then hourly) and given up after a day.
    #[arg(long, env = "WARDEN_MAIL_RETRY_MS", value_name = "MS")]
    pub mail_retry_ms: Option<u64>,
    /// Connections open at once; one more is answered 503 with Retry-After and closed [default: 1024].
    #[arg(long, env = "WARDEN_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
}

/// The TOML file: every setting optional, unknown keys refused (a typo must not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<String>,
    pub bind: Option<String>,
    #[serde(default)]
    pub origins: Vec<String>,
    pub dev: Option<bool>,
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    #[serde(default)]
    pub clients: Vec<String>,
    pub forwarded_header: Option<String>,
    pub country_header: Option<String>,
    pub city_header: Option<String>,
    pub cookie_domain: Option<String>,
    pub cookie_path: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub public_url: Option<String>,
    pub totp_issuer: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub log: Option<String>,
    pub log_format: Option<String>,
    pub hash_concurrency: Option<usize>,
    pub hash_memory_mib: Option<u32>,
    pub hash_wait_ms: Option<u64>,
    pub header_timeout_ms: Option<u64>,
    pub body_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub mail_retry_ms: Option<u64>,
    /// `[rate_limits]`: each limit as `N/DURATION`, e.g. `sign_in_per_ip = "30/1m"`.
    pub rate_limits: Option<RateLimitsFile>,
}

/// The `[rate_limits]` table; an unset limit keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFile {
    pub sign_in_per_ip: Option<String>,
    pub sign_in_per_account: Option<String>,
    pub sign_up_per_ip: Option<String>,
    pub sign_up_per_account: Option<String>,
    pub verification_per_ip: Option<String>,
    pub verification_per_account: Option<String>,
    pub second_factor_per_account: Option<String>,
    pub revocations_per_account: Option<String>,
}

impl RateLimitsFile {
    fn resolve(&self) -> Result<RateLimits, String> {
        let mut l = RateLimits::default();
        for (name, text, slot) in [
            ("sign_in_per_ip", &self.sign_in_per_ip, &mut l.sign_in_per_ip),
            (
                "sign_in_per_account",
                &self.sign_in_per_account,
                &mut l.sign_in_per_account,
            ),
            ("sign_up_per_ip", &self.sign_up_per_ip, &mut l.sign_up_per_ip),
            (
                "sign_up_per_account",
                &self.sign_up_per_account,
                &mut l.sign_up_per_account,
            ),
            (
                "verification_per_ip",
                &self.verification_per_ip,
                &mut l.verification_per_ip,
            ),
            (
                "verification_per_account",
                &self.verification_per_account,
                &mut l.verification_per_account,
            ),
            (
                "second_factor_per_account",
                &self.second_factor_per_account,
                &mut l.second_factor_per_account,
            ),
            (
                "revocations_per_account",
                &self.revocations_per_account,
                &mut l.revocations_per_account,
            ),
        ] {
            if let Some(text) = text {
                let field = format!("rate_limits.{name}");
                *slot = parse_limit(&field, text).map_err(|e| e.to_string())?;
            }
        }
        Ok(l)
    }
}

/// Parses a rate limit written `N/DURATION`, e.g. `10/1m`, `100/1h` (durations as in the policy: `30s`,
/// `15m`, `1h`); a malformed one is an error naming `field`.
pub fn parse_limit(field: &str, text: &str) -> warden_core::Result<Limit> {
    use warden_core::Error;
    let rule = "must be N/DURATION such as 10/1m (at most N requests per duration), N ≥ 1";
    let (n, d) = text.trim().split_once('/').ok_or_else(|| Error::invalid(field, rule))?;
    let max: u32 = n.trim().parse().map_err(|_| Error::invalid(field, rule))?;
    let window = warden_core::model::policy::Duration::parse(d.trim())
        .map(|d| d.as_millis())
        .ok_or_else(|| Error::invalid(field, rule))?;
    if max == 0 || window <= 0 {
        return Err(Error::invalid(field, rule));
    }
    Ok(Limit { max, window })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where verification emails go out.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: String,
    pub from: String,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: String,
    pub bind: SocketAddr,
    /// Normalized `scheme://host[:port]`, lower case.
    pub origins: Vec<String>,
    pub dev: bool,
    pub trusted_proxies: Vec<IpNet>,
    /// The applications a sign-in may name (`x-warden-client`); the first is the default.
    pub clients: Vec<String>,
    pub forwarded_header: HeaderName,
    pub country_header: Option<HeaderName>,
    pub city_header: Option<HeaderName>,
    pub cookie_domain: Option<String>,
    pub cookie_path: String,
    pub mail: Option<MailConfig>,
    pub public_url: String,
    pub totp_issuer: String,
    pub max_body_bytes: usize,
    pub log: String,
    pub log_format: LogFormat,
    pub limits: RateLimits,
    /// How much argon2 work runs at once ([`warden_core::store::HashGate`]).
    pub hashes: HashLimits,
    /// What slow or many clients may hold.
    pub connections: ConnectionLimits,
    /// How often the outbox is looked at.
    pub mail_retry_every: std::time::Duration,
}

/// What slow or many clients may hold of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this, or the connection is closed.
    pub header_timeout: std::time::Duration,
    /// A request's body must arrive within this, or the request is answered 408.
    pub body_timeout: std::time::Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

impl Args {
    /// Merges the file (when given) under the flags and environment, and checks the result.
    pub fn resolve(self) -> Result<ServerConfig, String> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let pick = |a: Option<String>, f: Option<String>| a.or(f).filter(|s| !s.trim().is_empty());
        let db = pick(self.db, file.db).ok_or(
            "no database: pass --db <url> (or set WARDEN_DB, or `db` in the config file), e.g. --db sqlite:///var/lib/warden/warden.db",
        )?;
        let bind_text = pick(self.bind, file.bind).unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_text
            .trim()
            .parse()
            .map_err(|_| format!("bind: `{bind_text}` is not an address such as 127.0.0.1:8787"))?;
        let dev = self.dev || file.dev.unwrap_or(false);
        let origin_texts = if self.origins.iter().any(|o| !o.trim().is_empty()) {
            self.origins
        } else {
            file.origins
        };
        let mut origins = Vec::new();
        for o in origin_texts.iter().filter(|o| !o.trim().is_empty()) {
            origins.push(parse_origin(o, dev)?);
        }
        if origins.is_empty() {
            return Err("no allowed origin: pass --origin https://app.example.com (or WARDEN_ORIGINS, or `origins` in the config file); every state-changing request must come from one".into());
        }
        let proxy_texts = if self.trusted_proxies.is_empty() {
            file.trusted_proxies
        } else {
            self.trusted_proxies
        };
        let mut trusted_proxies = Vec::new();
        for p in proxy_texts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let net = p
                .parse::<IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted proxy: `{p}` is not an IP address or CIDR such as 10.0.0.0/8"))?;
            trusted_proxies.push(net);
        }
        let client_texts = if self.clients.iter().any(|c| !c.trim().is_empty()) {
            self.clients
        } else {
            file.clients
        };
        let mut clients: Vec<String> = Vec::new();
        for c in client_texts.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            let ok = c.len() <= 32
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
            if !ok {
                return Err(format!(
                    "client: `{c}` is not a client name: use 1 to 32 lower-case letters, digits, - or _ (e.g. web, ios)"
                ));
            }
            if !clients.iter().any(|x| x == c) {
                clients.push(c.to_owned());
            }
        }
        if clients.is_empty() {
            clients.push("web".to_owned());
        }
        let header = |what: &str, v: Option<String>| -> Result<Option<HeaderName>, String> {
            v.filter(|s| !s.trim().is_empty())
                .map(|s| {
                    HeaderName::from_bytes(s.trim().to_ascii_lowercase().as_bytes())
                        .map_err(|_| format!("{what}: `{s}` is not a header name"))
                })
                .transpose()
        };
        let forwarded_header = header("forwarded header", pick(self.forwarded_header, file.forwarded_header))?
            .unwrap_or(HeaderName::from_static("x-forwarded-for"));
        let country_header = header("country header", pick(self.country_header, file.country_header))?;
        let city_header = header("city header", pick(self.city_header, file.city_header))?;
        let cookie_domain = pick(self.cookie_domain, file.cookie_domain).map(|d| d.trim().to_owned());
        if let Some(d) = &cookie_domain {
            if d.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
                return Err(format!("cookie domain: `{d}` is not a domain name"));
            }
        }
        let cookie_path = pick(self.cookie_path, file.cookie_path).unwrap_or_else(|| "/".into());
        if !cookie_path.starts_with('/') || cookie_path.chars().any(|c| c == ';' || !c.is_ascii_graphic()) {
            return Err(format!(
                "cookie path: `{cookie_path}` must start with / and hold only visible ASCII, no spaces or `;`"
            ));
        }
        let smtp_url = pick(self.smtp_url, file.smtp_url);
        let mail_from = pick(self.mail_from, file.mail_from);
        let mail = match (smtp_url, mail_from) {
            (Some(smtp_url), Some(from)) => {
                from.parse::<lettre::message::Mailbox>().map_err(|_| {
                    format!("mail from: `{from}` is not an address such as \"Example <no-reply@example.com>\"")
                })?;
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&smtp_url)
                    .map_err(|e| format!("smtp url: {} ({e})", warden_core::store::redact(&smtp_url)))?;
                Some(MailConfig { smtp_url, from })
            }
            (Some(_), None) => {
                return Err(
                    "smtp url is set but mail from is not: pass --mail-from \"Example <no-reply@example.com>\"".into(),
                )
            }
            (None, Some(_)) => {
                return Err("mail from is set but smtp url is not: pass --smtp-url smtp://host:port".into())
            }
            (None, None) => None,
        };
        let public_url = pick(self.public_url, file.public_url)
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| origins[0].clone());
        if !(public_url.starts_with("https://") || (dev && public_url.starts_with("http://"))) {
            return Err(format!(
                "public url: `{public_url}` must be an https URL (http only with --dev)"
            ));
        }
        let totp_issuer = pick(self.totp_issuer, file.totp_issuer).unwrap_or_else(|| "Warden".into());
        if totp_issuer.contains(':') {
            return Err("totp issuer: must not contain `:`".into());
        }
        let max_body_bytes = self.max_body_bytes.or(file.max_body_bytes).unwrap_or(DEFAULT_MAX_BODY);
        if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
            return Err("max body bytes: must be between 1024 and 16777216".into());
        }
        let log = pick(self.log, file.log).unwrap_or_else(|| "info".into());
        let log_format = match pick(self.log_format, file.log_format).as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(format!("log format: `{other}` must be text or json")),
        };
        let defaults = HashLimits::default();
        let concurrency = self
            .hash_concurrency
            .or(file.hash_concurrency)
            .unwrap_or(defaults.concurrency);
        if !(1..=1024).contains(&concurrency) {
            return Err("hash concurrency: must be between 1 and 1024".into());
        }
        let memory_mib = self
            .hash_memory_mib
            .or(file.hash_memory_mib)
            .unwrap_or(defaults.memory_mib);
        if !(1..=1_048_576).contains(&memory_mib) {
            return Err("hash memory mib: must be between 1 and 1048576".into());
        }
        let wait_ms = self
            .hash_wait_ms
            .or(file.hash_wait_ms)
            .unwrap_or(defaults.max_wait.as_millis() as u64);
        if wait_ms > 60_000 {
            return Err("hash wait ms: must be at most 60000".into());
        }
        let hashes = HashLimits {
            concurrency,
            memory_mib,
            max_wait: std::time::Duration::from_millis(wait_ms),
        };
        let conn_defaults = ConnectionLimits::default();
        let timeout = |what: &str, v: Option<u64>, default: std::time::Duration| {
            let ms = v.unwrap_or(default.as_millis() as u64);
            if !(100..=300_000).contains(&ms) {
                return Err(format!("{what}: must be between 100 and 300000 milliseconds"));
            }
            Ok(std::time::Duration::from_millis(ms))
        };
        let max_connections = self
            .max_connections
            .or(file.max_connections)
            .unwrap_or(conn_defaults.max_connections);
        if !(16..=1_000_000).contains(&max_connections) {
            return Err("max connections: must be between 16 and 1000000".into());
        }
        let connections = ConnectionLimits {
            header_timeout: timeout(
                "header timeout ms",
                self.header_timeout_ms.or(file.header_timeout_ms),
                conn_defaults.header_timeout,
            )?,
            body_timeout: timeout(
                "body timeout ms",
                self.body_timeout_ms.or(file.body_timeout_ms),
                conn_defaults.body_timeout,
            )?,
            max_connections,
        };
        let mail_retry_ms = self.mail_retry_ms.or(file.mail_retry_ms).unwrap_or(30_000);
        if !(100..=3_600_000).contains(&mail_retry_ms) {
            return Err("mail retry ms: must be between 100 and 3600000".into());
        }
        let limits = file
            .rate_limits
            .as_ref()
            .map(RateLimitsFile::resolve)
            .transpose()?
            .unwrap_or_default();
        Ok(ServerConfig {
            db,
            bind,
            origins,
            dev,
            trusted_proxies,
            clients,
            forwarded_header,
            country_header,
            city_header,
            cookie_domain,
            cookie_path,
            mail,
            public_url,
            totp_issuer,
            max_body_bytes,
            log,
            log_format,
            limits,
            hashes,
            connections,
            mail_retry_every: std::time::Duration::from_millis(mail_retry_ms),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the config file `{}`: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file `{}`: {e}", path.display()))
}

/// `scheme://host[:port]`, lower case, without a trailing slash; https unless `dev`.
pub fn parse_origin(text: &str, dev: bool) -> Result<String, String> {
    let o = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = o
        .split_once("://")
        .ok_or_else(|| format!("origin `{text}` must look like https://app.example.com"))?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') || rest.contains('@') {
        return Err(format!(
            "origin `{text}` must be scheme://host[:port], without a path, e.g. https://app.example.com"
        ));
    }
    match scheme {
        "https" => Ok(o),
        "http" if dev => Ok(o),
        "http" => Err(format!(
            "refusing to start in production mode: the origin `{text}` is not https. Serve the application over \
             TLS (e.g. behind a TLS-terminating proxy) and allow its https origin, or pass --dev for local HTTP"
        )),
        _ => Err(format!("origin `{text}` must start with https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/server.toml");
        std::fs::read_to_string(path).expect("the packaged sample configuration")
    }

    fn resolve_text(text: &str) -> Result<ServerConfig, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(&path, text).expect("write");
        Args {
            config: Some(path),
            ..Args::default()
        }
        .resolve()
    }

    #[test]
    fn the_packaged_sample_configuration_starts_a_production_server() {
        let cfg = resolve_text(&sample()).unwrap_or_else(|e| panic!("packaging/server.toml: {e}"));
        assert!(!cfg.dev, "the sample is production: Secure cookies, https origins only");
        assert_eq!(cfg.origins, vec!["https://app.example.com".to_owned()]);
        assert_eq!(cfg.bind.to_string(), DEFAULT_BIND);
        assert!(cfg.mail.is_none());
    }

    #[test]
    fn every_setting_the_sample_offers_commented_out_is_a_known_one() {
        // Uncomment the `# key = value` lines (but keep the second `db`, an alternative to the first).
        let text: String = sample()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") && !rest.starts_with("db ") => rest.to_owned(),
                Some(rest) if rest.starts_with('[') => rest.to_owned(),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let cfg = resolve_text(&text).unwrap_or_else(|e| panic!("the sample's optional settings: {e}"));
        assert_eq!(cfg.trusted_proxies.len(), 1);
        assert_eq!(cfg.country_header.as_ref().map(|h| h.as_str()), Some("cf-ipcountry"));
        assert!(cfg.mail.is_some(), "SMTP and From together turn mail on");
        assert_eq!(cfg.log_format, LogFormat::Text);
        assert_eq!(cfg.limits, RateLimits::default(), "the sample shows the defaults");
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "db = \"sqlite://a.db\"\norigins = [\"https://a.example\"]\nbind = \"127.0.0.1:1\"\n",
        )
        .expect("write");
        let cfg = Args {
            config: Some(path),
            db: Some("sqlite://b.db".into()),
            bind: Some("127.0.0.1:2".into()),
            ..Args::default()
        }
        .resolve()
        .expect("valid");
        assert_eq!((cfg.db.as_str(), cfg.bind.port()), ("sqlite://b.db", 2));
        assert_eq!(
            cfg.origins,
            vec!["https://a.example".to_owned()],
            "unset flags fall back to the file"
        );
    }

    #[test]
    fn limits_parse_with_policy_durations() {
        const MIN: i64 = 60_000;
        assert_eq!(parse_limit("x", "10/1m").unwrap(), Limit { max: 10, window: MIN });
        for bad in ["", "10", "0/1m", "x/1m", "10/forever"] {
            assert_eq!(parse_limit("x", bad).unwrap_err().field(), Some("x"), "{bad:?}");
        }
    }

    #[test]
    fn rate_limits_come_from_the_file_and_keep_their_defaults_otherwise() {
        let cfg = resolve_text(
            "db = \"sqlite://a.db\"\norigins = [\"https://a.example\"]\n[rate_limits]\nsign_in_per_ip = \"100/1m\"\n",
        )
        .expect("valid");
        assert_eq!(
            cfg.limits.sign_in_per_ip,
            Limit {
                max: 100,
                window: 60_000
            }
        );
        assert_eq!(
            cfg.limits.sign_up_per_account,
            RateLimits::default().sign_up_per_account
        );
        let e = resolve_text(
            "db = \"sqlite://a.db\"\norigins = [\"https://a.example\"]\n[rate_limits]\nsign_in_per_ip = \"lots\"\n",
        )
        .expect_err("bad limit");
        assert!(
            e.contains("rate_limits.sign_in_per_ip") && e.contains("N/DURATION"),
            "{e}"
        );
        let e = resolve_text(
            "db = \"sqlite://a.db\"\norigins = [\"https://a.example\"]\n[rate_limits]\nsign_in = \"1/1m\"\n",
        )
        .expect_err("unknown limit");
        assert!(e.contains("unknown field `sign_in`"), "{e}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let base = |extra: &str| format!("db = \"sqlite://a.db\"\norigins = [\"https://a.example\"]\n{extra}");
        for (extra, named) in [
            ("bind = \"everywhere\"", "bind"),
            ("trusted_proxies = [\"10.0.0.0/33\"]", "trusted proxy"),
            ("cookie_path = \"no-slash\"", "cookie path"),
            ("cookie_path = \"/café\"", "cookie path"),
            ("max_body_bytes = 10", "max body bytes"),
            ("log_format = \"xml\"", "log format"),
            ("smtp_url = \"smtp://mail.example.com\"", "mail from"),
            ("public_url = \"http://a.example\"", "public url"),
        ] {
            let e = resolve_text(&base(extra)).expect_err(extra);
            assert!(e.contains(named), "`{extra}` → {e}");
        }
        let e = resolve_text("db = \"sqlite://a.db\"\norigins = [\"https://a.example/path\"]\n").expect_err("path");
        assert!(e.contains("without a path"), "{e}");
    }
}
