//! Two-factor authentication (TOTP and backup codes) and the encryption of secrets at rest.
//!
//! Why this shape:
//! - A TOTP secret must be readable by the server to compute codes, so it cannot be hashed like a password.
//!   It is sealed with XChaCha20-Poly1305 under a data key that lives outside the database
//!   (`WARDEN_DATA_KEY`), with the user id as associated data: a database dump alone reveals nothing, and
//!   a sealed secret copied onto another user's row does not open. The key's [`DataKey::fingerprint`] is
//!   stored in the database so a wrong key is detected at startup, not at the first sign-in.
//! - TOTP is RFC 6238 as every authenticator app implements it: HMAC-SHA1, 6 digits, 30 s steps, one step
//!   of clock skew either way. [`verify_code`] returns the matched step so the caller stores it and a code
//!   cannot be replayed within its validity window.
//! - Time is always passed in as [`Millis`]; nothing here reads the system clock.
//! - Backup codes are random, shown once, and stored as SHA-256 hashes.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::secret::Secret;

/// The environment variable holding the data key (base64 of 32 bytes).
pub const DATA_KEY_ENV: &str = "WARDEN_DATA_KEY";
/// Names a file holding the data key, used when `WARDEN_DATA_KEY` is not set.
pub const DATA_KEY_FILE_ENV: &str = "WARDEN_DATA_KEY_FILE";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

const TOTP_DIGITS: usize = 6;
const TOTP_STEP_SECONDS: u64 = 30;
const TOTP_STEP_MS: Millis = 30_000;
const TOTP_SECRET_LEN: usize = 20;

/// Backup code alphabet: lowercase letters and digits without the look-alikes 0/o and 1/l (32 symbols,
/// so each character carries exactly 5 bits and `xxxx-xxxx` carries 40 bits).
const BACKUP_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

const BAD_KEY: &str = "must be 32 bytes in base64 (generate one with `warden keygen`)";
const KEY_MISMATCH: &str = "the data key does not match the one the secrets were sealed with";

/// The 256-bit key that seals secrets at rest. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; KEY_LEN]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

impl DataKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> DataKey {
        let mut key = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut key);
        DataKey(key)
    }

    /// Parses base64 (standard or URL-safe alphabet, padded or not) that decodes to exactly 32 bytes.
    /// Surrounding whitespace (a trailing newline from a file or `echo`) is ignored.
    pub fn parse(s: &str) -> Result<DataKey> {
        let s = s.trim();
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .filter_map(|engine| engine.decode(s).ok())
            .find_map(|bytes| <[u8; KEY_LEN]>::try_from(bytes.as_slice()).ok())
            .map(DataKey)
            .ok_or_else(|| Error::DataKey(BAD_KEY.to_string()))
    }

    /// The key as padded standard base64, the form `warden keygen` prints.
    pub fn to_base64(&self) -> Secret {
        Secret::new(STANDARD.encode(self.0))
    }

    /// Reads and parses `WARDEN_DATA_KEY`, or else the file named by `WARDEN_DATA_KEY_FILE` (for keys
    /// kept in a configuration file readable only by the service). An empty value counts as not set.
    pub fn from_env() -> Result<DataKey> {
        if let Ok(path) = std::env::var(DATA_KEY_FILE_ENV) {
            if !path.trim().is_empty() && std::env::var(DATA_KEY_ENV).map_or(true, |v| v.trim().is_empty()) {
                return Self::from_file(std::path::Path::new(path.trim()));
            }
        }
        Self::from_env_value(std::env::var(DATA_KEY_ENV))
    }

    /// Reads a key file: the base64 key, alone on its first non-empty line.
    pub fn from_file(path: &std::path::Path) -> Result<DataKey> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::DataKey(format!("cannot read the data key file `{}`: {e}", path.display())))?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        DataKey::parse(line)
    }

    fn from_env_value(value: std::result::Result<String, std::env::VarError>) -> Result<DataKey> {
        match value {
            Ok(v) if !v.trim().is_empty() => DataKey::parse(&v),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(Error::DataKey(format!(
                "{DATA_KEY_ENV} is not set: generate a key with `warden keygen` and set {DATA_KEY_ENV} to it \
                 (keep it safe: without it the stored two-factor secrets cannot be read)"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::DataKey(BAD_KEY.to_string())),
        }
    }

    /// A short, non-secret identifier of the key: the first 16 hex characters of
    /// SHA-256("warden-data-key" ‖ key). Stored in the database to detect a wrong key early; the domain
    /// prefix keeps it from equalling any other hash of the key.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"warden-data-key")
            .chain_update(self.0)
            .finalize();
        let mut hex = hex::encode(digest);
        hex.truncate(16);
        hex
    }
}

fn cipher(key: &DataKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(&key.0))
}

/// Encrypts and authenticates `plaintext`, binding it to `aad` (the owner's user id). Output layout:
/// 24-byte random nonce ‖ ciphertext ‖ 16-byte tag. A 192-bit random nonce never repeats in practice,
/// so no nonce state is kept.
pub fn seal(key: &DataKey, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    // Invariant: XChaCha20-Poly1305 encryption only fails for plaintexts over 256 GiB, far beyond any
    // secret this crate seals (a few dozen bytes).
    let ciphertext = cipher(key)
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .expect("XChaCha20-Poly1305 cannot fail for inputs under 256 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Reverses [`seal`]. Any failure — wrong key, wrong `aad`, truncated or altered bytes — is the same
/// `DataKey` error: an AEAD cannot tell them apart, and a wrong key is by far the likeliest cause.
pub fn open(key: &DataKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(Error::DataKey(KEY_MISMATCH.to_string()));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    cipher(key)
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
        .map_err(|_| Error::DataKey(KEY_MISMATCH.to_string()))
}

/// A fresh 160-bit TOTP secret (the size RFC 4226 recommends).
pub fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0u8; TOTP_SECRET_LEN];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// What the user needs to add the account to an authenticator app. All of it is as secret as the
/// TOTP secret itself; `qr_png_base64` is a standard-base64 PNG of `otpauth_url`.
#[derive(Debug)]
pub struct TotpEnrollment {
    pub secret_base32: Secret,
    pub otpauth_url: Secret,
    pub qr_png_base64: String,
}

/// Builds the enrollment data (base32 secret, `otpauth://` URL, QR code) for `account` at `issuer`.
/// Fails with `Unexpected` when totp-rs rejects the input (a ':' in the account or issuer, a secret under
/// 128 bits) or the QR code cannot be drawn.
pub fn enrollment(secret: &[u8], account: &str, issuer: &str) -> Result<TotpEnrollment> {
    let issuer = (!issuer.is_empty()).then(|| issuer.to_string());
    let totp = TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP_SECONDS,
        secret.to_vec(),
        issuer,
        account.to_string(),
    )
    .map_err(|e| Error::Unexpected(format!("cannot set up two-factor authentication: {e}")))?;
    let qr_png_base64 = totp
        .get_qr_base64()
        .map_err(|e| Error::Unexpected(format!("cannot draw the two-factor QR code: {e}")))?;
    Ok(TotpEnrollment {
        secret_base32: Secret::new(totp.get_secret_base32()),
        otpauth_url: Secret::new(totp.get_url()),
        qr_png_base64,
    })
}

/// The TOTP step (30 s window index) containing `now`. Floors toward −∞ so negative times stay consistent.
fn step_at(now: Millis) -> i64 {
    now.div_euclid(TOTP_STEP_MS)
}

/// The 6-digit code of `step`, or `None` for a step before the unix epoch (RFC 6238 counts from 0).
fn code_of_step(secret: &[u8], step: i64) -> Option<String> {
    let step = u64::try_from(step).ok()?;
    // Unchecked: the generated code is well defined for any key length, and verifying must not fail on
    // a short legacy secret. Skew is unused here; the window is handled by `verify_code`.
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        TOTP_DIGITS,
        0,
        TOTP_STEP_SECONDS,
        secret.to_vec(),
        None,
        String::new(),
    );
    // `step` ≤ i64::MAX / 30_000, so `step * 30` cannot overflow.
    Some(totp.generate(step * TOTP_STEP_SECONDS))
}

/// The current code for `secret` at `now`. Times before 1970 give the code of the first step.
pub fn code_at(secret: &[u8], now: Millis) -> String {
    code_of_step(secret, step_at(now).max(0)).unwrap_or_default()
}

/// Checks a user-entered code against the steps now−1, now and now+1 (one step of clock skew either way).
/// Returns the matched step, but only when it is strictly greater than `last_used_step`, so a code that
/// was already accepted (or an older one) cannot be replayed. Whitespace ("123 456", " 123456 ") is
/// ignored; anything that is not then exactly 6 ASCII digits returns `None`.
pub fn verify_code(secret: &[u8], code: &str, now: Millis, last_used_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut matched = None;
    // All three candidates are always computed and compared, so timing does not reveal which step matched.
    for step in [current - 1, current, current + 1] {
        let Some(expected) = code_of_step(secret, step) else {
            continue;
        };
        let fresh = last_used_step.is_none_or(|last| step > last);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes an RFC 4648 base32 TOTP secret as apps and other systems show it: case, spaces, dashes and
/// `=` padding are ignored. Empty or invalid input is `InvalidInput` on field `totp_secret`.
pub fn secret_from_base32(s: &str) -> Result<Vec<u8>> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match totp_rs::Secret::Encoded(cleaned).to_bytes() {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(Error::invalid(
            "totp_secret",
            "must be a base32 secret (letters A–Z and digits 2–7)",
        )),
    }
}

/// Encodes a TOTP secret as unpadded uppercase RFC 4648 base32, the form authenticator apps expect.
pub fn secret_to_base32(secret: &[u8]) -> String {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        TOTP_DIGITS,
        0,
        TOTP_STEP_SECONDS,
        secret.to_vec(),
        None,
        String::new(),
    )
    .get_secret_base32()
}

/// `n` fresh backup codes of the form `xxxx-xxxx` (40 random bits each) from an alphabet without
/// 0/o/1/l. Shown to the user once; store only [`hash_backup_code`] of each.
pub fn generate_backup_codes(n: usize) -> Vec<Secret> {
    let mut rng = OsRng;
    (0..n)
        .map(|_| {
            let mut code = String::with_capacity(9);
            for i in 0..8 {
                if i == 4 {
                    code.push('-');
                }
                code.push(char::from(BACKUP_ALPHABET[rng.gen_range(0..BACKUP_ALPHABET.len())]));
            }
            Secret::new(code)
        })
        .collect()
}

/// The stored form of a backup code: HMAC-SHA-256 under the data key of the normalized code (lowercase,
/// dashes and spaces removed). A fast hash is right for single-use, high-entropy codes, but 40 bits alone
/// would fall to an offline search of a database dump; keying it with the data key, which never enters
/// the database, closes that.
pub fn hash_backup_code(key: &DataKey, code: &str) -> String {
    use hmac::Mac;
    let normalized: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    mac.update(b"warden-backup-code\0");
    mac.update(normalized.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 6238 SHA-1 test secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn seal_open_round_trip() {
        let key = DataKey::generate();
        let sealed = seal(&key, b"totp secret bytes", b"user-1");
        assert_eq!(sealed.len(), NONCE_LEN + 17 + TAG_LEN);
        assert_eq!(open(&key, &sealed, b"user-1").unwrap(), b"totp secret bytes");
        // Random nonces: sealing twice gives different bytes.
        assert_ne!(seal(&key, b"x", b"u"), seal(&key, b"x", b"u"));
        assert_eq!(open(&key, &seal(&key, b"", b""), b"").unwrap(), b"");
    }

    fn assert_mismatch(r: Result<Vec<u8>>) {
        match r {
            Err(Error::DataKey(msg)) => assert_eq!(msg, KEY_MISMATCH),
            other => panic!("expected DataKey error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_key_or_aad_fails() {
        let key = DataKey::generate();
        let sealed = seal(&key, b"secret", b"user-1");
        assert_mismatch(open(&DataKey::generate(), &sealed, b"user-1"));
        assert_mismatch(open(&key, &sealed, b"user-2"));
    }

    #[test]
    fn tampered_or_truncated_fails() {
        let key = DataKey::generate();
        let sealed = seal(&key, b"secret", b"user-1");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_mismatch(open(&key, &bad, b"user-1"));
        }
        assert_mismatch(open(&key, &sealed[..sealed.len() - 1], b"user-1"));
        assert_mismatch(open(&key, &sealed[..10], b"user-1"));
        assert_mismatch(open(&key, &[], b"user-1"));
    }

    #[test]
    fn data_key_parse_forms() {
        let key = DataKey::generate();
        let std = key.to_base64().expose().to_string();
        assert_eq!(DataKey::parse(&std).unwrap(), key);
        assert_eq!(DataKey::parse(&format!("  {std}\n")).unwrap(), key);
        assert_eq!(DataKey::parse(std.trim_end_matches('=')).unwrap(), key);
        let url = URL_SAFE.encode(key.0);
        assert_eq!(DataKey::parse(&url).unwrap(), key);
        assert_eq!(DataKey::parse(&URL_SAFE_NO_PAD.encode(key.0)).unwrap(), key);
        // A key with bytes that differ between the two alphabets ('+/' vs '-_').
        let k = DataKey([0xfb; 32]);
        assert_eq!(DataKey::parse(&STANDARD.encode(k.0)).unwrap(), k);
        assert_eq!(DataKey::parse(&URL_SAFE_NO_PAD.encode(k.0)).unwrap(), k);
    }

    #[test]
    fn data_key_parse_rejects_short_and_garbage() {
        for bad in [
            String::new(),
            "not base64 at all!".to_string(),
            STANDARD.encode([7u8; 31]),
            STANDARD.encode([7u8; 33]),
            STANDARD.encode([7u8; 16]),
            "€€€€".to_string(),
        ] {
            match DataKey::parse(&bad) {
                Err(Error::DataKey(msg)) => assert_eq!(msg, BAD_KEY),
                other => panic!("{bad:?}: expected DataKey error, got {other:?}"),
            }
        }
    }

    #[test]
    fn data_key_from_env_value() {
        let key = DataKey::generate();
        assert_eq!(
            DataKey::from_env_value(Ok(key.to_base64().expose().to_string())).unwrap(),
            key
        );
        for missing in [
            Err(std::env::VarError::NotPresent),
            Ok(String::new()),
            Ok("  ".to_string()),
        ] {
            match DataKey::from_env_value(missing) {
                Err(Error::DataKey(msg)) => {
                    assert!(msg.starts_with("WARDEN_DATA_KEY is not set: "), "{msg}")
                }
                other => panic!("expected DataKey error, got {other:?}"),
            }
        }
        assert!(matches!(DataKey::from_env_value(Ok("short".into())), Err(Error::DataKey(m)) if m == BAD_KEY));
    }

    #[test]
    fn data_key_debug_and_fingerprint() {
        let key = DataKey([0x42; 32]);
        assert_eq!(format!("{key:?}"), "DataKey(***)");
        let fp = key.fingerprint();
        assert_eq!(fp.len(), 16);
        assert!(fp.chars().all(|c| c.is_ascii_hexdigit()));
        let mut h = Sha256::new();
        h.update(b"warden-data-key");
        h.update([0x42; 32]);
        assert_eq!(fp, hex::encode(h.finalize())[..16]);
        assert_ne!(fp, DataKey([0x43; 32]).fingerprint());
        assert_eq!(fp, key.clone().fingerprint());
    }

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1, last 6 digits of the 8-digit values.
        assert_eq!(code_at(RFC_SECRET, 59_000), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109_000), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_234_567_890_000), "005924");
        assert_eq!(code_at(RFC_SECRET, 2_000_000_000_000), "279037");
    }

    #[test]
    fn verify_accepts_one_step_of_skew_and_rejects_two() {
        let secret = new_totp_secret();
        assert_eq!(secret.len(), 20);
        let now: Millis = 1_700_000_015_000;
        let step = now / TOTP_STEP_MS;
        for delta in [-1i64, 0, 1] {
            let code = code_at(&secret, now + delta * TOTP_STEP_MS);
            assert_eq!(
                verify_code(&secret, &code, now, None),
                Some(step + delta),
                "delta {delta}"
            );
        }
        for delta in [-2i64, 2] {
            let code = code_at(&secret, now + delta * TOTP_STEP_MS);
            // Guard against a chance collision with an accepted step.
            let collides = (-1..=1).any(|d| code_at(&secret, now + d * TOTP_STEP_MS) == code);
            if !collides {
                assert_eq!(verify_code(&secret, &code, now, None), None, "delta {delta}");
            }
        }
    }

    #[test]
    fn replay_of_a_used_step_rejected() {
        let secret = new_totp_secret();
        let now: Millis = 1_700_000_015_000;
        let code = code_at(&secret, now);
        let step = verify_code(&secret, &code, now, None).unwrap();
        assert_eq!(verify_code(&secret, &code, now, Some(step)), None);
        assert_eq!(verify_code(&secret, &code, now + 10_000, Some(step)), None);
        // An older code after a newer one was used is also rejected.
        let previous = code_at(&secret, now - TOTP_STEP_MS);
        assert_eq!(verify_code(&secret, &previous, now, Some(step)), None);
        // The next step's code is still accepted.
        let next = code_at(&secret, now + TOTP_STEP_MS);
        assert_eq!(
            verify_code(&secret, &next, now + TOTP_STEP_MS, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn verify_normalizes_and_rejects_malformed_input() {
        let now: Millis = 59_000;
        assert_eq!(verify_code(RFC_SECRET, " 287082 ", now, None), Some(1));
        assert_eq!(verify_code(RFC_SECRET, "287 082", now, None), Some(1));
        for bad in ["", "28708", "2870821", "28708a", "２８７０８２", "287-082", "+87082"] {
            assert_eq!(verify_code(RFC_SECRET, bad, now, None), None, "{bad:?}");
        }
        // Before the epoch nothing matches, and nothing panics.
        assert_eq!(verify_code(RFC_SECRET, "287082", -100_000, None), None);
        assert_eq!(code_at(RFC_SECRET, -1), code_at(RFC_SECRET, 0));
        let _ = verify_code(RFC_SECRET, "287082", i64::MAX, None);
        let _ = verify_code(RFC_SECRET, "287082", i64::MIN, Some(i64::MAX));
    }

    #[test]
    fn enrollment_url_and_qr() {
        let secret = new_totp_secret();
        let e = enrollment(&secret, "alice@example.com", "Warden").unwrap();
        let url = e.otpauth_url.expose();
        assert!(url.starts_with("otpauth://totp/Warden:"), "{url}");
        assert!(url.contains("alice%40example.com"), "{url}");
        assert!(url.contains("issuer=Warden"), "{url}");
        assert!(url.contains(&format!("secret={}", e.secret_base32.expose())), "{url}");
        assert_eq!(secret_from_base32(e.secret_base32.expose()).unwrap(), secret);
        let png = STANDARD.decode(&e.qr_png_base64).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(!format!("{e:?}").contains(e.secret_base32.expose()));
    }

    #[test]
    fn enrollment_rejects_colon_and_short_secret() {
        let secret = new_totp_secret();
        assert!(matches!(
            enrollment(&secret, "a:b", "Warden"),
            Err(Error::Unexpected(_))
        ));
        assert!(matches!(
            enrollment(&secret, "alice", "War:den"),
            Err(Error::Unexpected(_))
        ));
        assert!(matches!(
            enrollment(&[1u8; 10], "alice", "Warden"),
            Err(Error::Unexpected(_))
        ));
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(secret_to_base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            secret_from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            RFC_SECRET
        );
        assert_eq!(
            secret_from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            RFC_SECRET
        );
        let s = new_totp_secret();
        assert_eq!(secret_from_base32(&secret_to_base32(&s)).unwrap(), s);
        for bad in ["", "   ", "0189", "ÄÖÜ", "!!!!"] {
            assert!(
                matches!(secret_from_base32(bad), Err(Error::InvalidInput { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn backup_code_format() {
        let codes = generate_backup_codes(10);
        assert_eq!(codes.len(), 10);
        for c in &codes {
            let c = c.expose();
            assert_eq!(c.len(), 9, "{c}");
            assert_eq!(&c[4..5], "-");
            assert!(
                c.chars()
                    .filter(|&ch| ch != '-')
                    .all(|ch| BACKUP_ALPHABET.contains(&(ch as u8))),
                "{c}"
            );
            assert!(!c.contains(['0', 'o', '1', 'l']), "{c}");
        }
        let unique: std::collections::HashSet<_> = codes.iter().map(|c| c.expose().to_string()).collect();
        assert_eq!(unique.len(), 10);
        assert!(generate_backup_codes(0).is_empty());
    }

    #[test]
    fn key_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        let path = dir.path().join("data.key");
        std::fs::write(&path, format!("# warden data key\n{}\n", key.to_base64().expose())).unwrap();
        assert!(
            DataKey::from_file(&path).unwrap() == key,
            "the key on the first non-comment line is read"
        );
        std::fs::write(&path, "short").unwrap();
        assert_eq!(DataKey::from_file(&path).unwrap_err().code(), "data_key_invalid");
        let missing = DataKey::from_file(&dir.path().join("none")).unwrap_err();
        assert!(
            missing.to_string().contains("cannot read the data key file"),
            "{missing}"
        );
    }

    #[test]
    fn backup_code_hash_normalizes() {
        let key = DataKey::generate();
        let h = hash_backup_code(&key, "abcd-efgh");
        assert_eq!(
            h,
            hash_backup_code(&key, " ABCD efgh"),
            "case, dashes and spaces must not matter"
        );
        assert_ne!(
            h,
            hash_backup_code(&DataKey::generate(), "abcd-efgh"),
            "the hash must depend on the data key"
        );
        assert_eq!(h.len(), 64);
        assert_eq!(hash_backup_code(&key, "ABCD-EFGH"), h);
        assert_eq!(hash_backup_code(&key, " abcd efgh "), h);
        assert_eq!(hash_backup_code(&key, "abcdefgh"), h);
        assert_ne!(hash_backup_code(&key, "abcd-efgi"), h);
    }
}
