//! Password hashing and the password strength rules.
//!
//! Why this shape:
//! - Passwords are stored only as argon2id PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). The PHC
//!   string carries its own parameters, so verifying never needs the policy, and [`needs_rehash`] can tell
//!   when the policy's cost moved on so the caller re-hashes at the next successful sign-in.
//! - [`verify_dummy`] spends the time of a real verification when the email is unknown, so that timing
//!   does not reveal which emails have accounts (the error for both cases is the same
//!   `InvalidCredentials`).
//! - [`check_strength`] follows NIST SP 800-63B: length first, optional composition rules, a block list of
//!   leaked passwords and the user's own identifiers. The maximum length is checked before anything else
//!   because it bounds the work every later step (and the hasher) does on attacker-controlled input.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;

use crate::model::error::{Error, Result};
use crate::model::policy::PasswordPolicy;
use crate::model::secret::Secret;

/// The bundled block list: one lowercase password per line. Compiled into the binary so the rule works
/// without any file on disk.
const COMMON_PASSWORDS_TXT: &str = include_str!("../../data/common-passwords.txt");

/// The block list as a set. Invariant: every entry is trimmed, non-empty and lowercase, so a lookup with
/// the lowercased candidate is exact.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TXT
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Argon2 cost parameters: (memory KiB, iterations, parallelism).
type CostKey = (u32, u32, u32);

/// Dummy PHC strings keyed by `(m, t, p)`. Invariant: an entry was hashed with exactly the key's parameters,
/// so verifying against it costs what verifying a real hash of the same policy costs.
static DUMMY_HASHES: LazyLock<Mutex<HashMap<CostKey, String>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Context items shorter than this (in characters) are not matched: short names ("Al", "jo") would reject
/// too many good passwords by accident.
const MIN_CONTEXT_CHARS: usize = 4;

/// The argon2id hasher for the policy's cost parameters.
fn hasher(policy: &PasswordPolicy) -> Result<Argon2<'static>> {
    let params = Params::new(
        policy.argon2_memory_kib,
        policy.argon2_iterations,
        policy.argon2_parallelism,
        None,
    )
    .map_err(|e| Error::Unexpected(format!("argon2 parameters rejected: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with argon2id, the policy's memory/iterations/parallelism and a fresh random salt.
/// Returns the PHC string to store. Callers run [`check_strength`] first for new passwords.
pub fn hash_password(password: &Secret, policy: &PasswordPolicy) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = hasher(policy)?
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| Error::Unexpected(format!("password hashing failed: {e}")))?;
    Ok(hash.to_string())
}

/// Checks `password` against a stored PHC string. The parameters come from the PHC string itself.
/// `Ok(false)` means the password is wrong; an `Err(Unexpected)` means the stored hash is malformed.
pub fn verify_password(password: &Secret, phc: &str) -> Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| Error::Unexpected(format!("stored password hash is malformed: {e}")))?;
    // The verifier reports a missing salt or hash as a wrong password; here they mean a corrupt record.
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(Error::Unexpected(
            "stored password hash is malformed: no salt or hash".to_string(),
        ));
    }
    // `Argon2::default()` only supplies defaults; the algorithm, version and cost are read from `parsed`.
    match Argon2::default().verify_password(password.expose().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(Error::Unexpected(format!(
            "stored password hash cannot be verified: {e}"
        ))),
    }
}

/// The argon2 memory cost (`m`, KiB) a stored PHC string was hashed with; `None` when it has none.
pub fn phc_memory_kib(phc: &str) -> Option<u32> {
    let parsed = PasswordHash::new(phc).ok()?;
    parsed.params.get_decimal("m")
}

/// Spends the time of a real [`verify_password`] with the policy's parameters and discards the result.
/// Call it when the email is unknown so the response time matches a wrong password for a real account.
///
/// The dummy hash is computed once per `(m, t, p)` and cached; the very first call for a parameter set
/// therefore costs one extra hash. Errors are swallowed on purpose: there is nothing to report.
pub fn verify_dummy(password: &Secret, policy: &PasswordPolicy) {
    let key = (
        policy.argon2_memory_kib,
        policy.argon2_iterations,
        policy.argon2_parallelism,
    );
    let cached = DUMMY_HASHES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let phc = match cached {
        Some(phc) => phc,
        None => {
            // Hashed outside the lock so that concurrent first calls do not queue behind each other; if two
            // race, both results are equally valid and the first one inserted wins.
            let Ok(phc) = hash_password(&Secret::new("warden-dummy-password"), policy) else {
                return;
            };
            DUMMY_HASHES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key)
                .or_insert(phc)
                .clone()
        }
    };
    let _ = std::hint::black_box(verify_password(password, &phc));
}

/// True when the stored hash should be replaced at the next successful sign-in: it is not argon2id v19,
/// its memory/iterations/parallelism differ from the policy, or it cannot be parsed at all.
pub fn needs_rehash(phc: &str, policy: &PasswordPolicy) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() || parsed.version != Some(Version::V0x13.into()) {
        return true;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    params.m_cost() != policy.argon2_memory_kib
        || params.t_cost() != policy.argon2_iterations
        || params.p_cost() != policy.argon2_parallelism
}

fn rejected(rule: impl Into<String>) -> Error {
    Error::PasswordRejected { rule: rule.into() }
}

/// Checks a new password against the policy. `context` holds the user's identifiers (email, display name);
/// for an email only the local part is used.
///
/// Rules, in order (the first failing one is reported):
/// 1. at most `max_length` characters — first, because it bounds the work of everything after it;
/// 2. at least `min_length` characters (Unicode scalar values, not bytes);
/// 3. each required character class (lowercase, uppercase, digit, symbol);
/// 4. with `reject_common`, not in the bundled list of leaked passwords (compared lowercased);
/// 5. with `reject_personal`, does not equal or contain, case-insensitively, a context item (or a word
///    of it) of 4+ characters.
pub fn check_strength(password: &Secret, policy: &PasswordPolicy, context: &[&str]) -> Result<()> {
    let pw = password.expose();
    let max = policy.max_length as usize;
    // Bounded scan: never walks more than `max + 1` characters of an arbitrarily long input.
    if pw.chars().take(max.saturating_add(1)).count() > max {
        return Err(rejected(format!("must be at most {max} characters")));
    }
    // From here on `pw` has at most `max_length` characters.
    if pw.chars().count() < policy.min_length as usize {
        return Err(rejected(format!("must be at least {} characters", policy.min_length)));
    }
    if policy.require_lowercase && !pw.chars().any(char::is_lowercase) {
        return Err(rejected("must contain a lowercase letter"));
    }
    if policy.require_uppercase && !pw.chars().any(char::is_uppercase) {
        return Err(rejected("must contain an uppercase letter"));
    }
    if policy.require_digit && !pw.chars().any(|c| c.is_ascii_digit()) {
        return Err(rejected("must contain a digit"));
    }
    // A symbol is anything that is neither a letter nor a digit (punctuation, spaces, emoji, …).
    if policy.require_symbol && !pw.chars().any(|c| !c.is_alphanumeric()) {
        return Err(rejected(
            "must contain a symbol (a character that is not a letter or a digit)",
        ));
    }
    let lower = pw.to_lowercase();
    if policy.reject_common && COMMON_PASSWORDS.contains(lower.as_str()) {
        return Err(rejected("is too common: it appears in lists of leaked passwords"));
    }
    if policy.reject_personal && context_terms(context).any(|term| lower.contains(term.as_str())) {
        return Err(rejected("must not contain your email or name"));
    }
    Ok(())
}

/// The lowercased identifiers to keep out of a password: for each context item, its email local part (or
/// the item itself), the whole email address, plus each of its words split on whitespace and `.`, `_`, `-`, `+`. Only terms of
/// [`MIN_CONTEXT_CHARS`]+ characters are yielded.
fn context_terms<'a>(context: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    context.iter().flat_map(|item| {
        let item = item.trim();
        // "alice.smith@example.com" → "alice.smith"; a name without '@' is kept whole.
        let base = item.rsplit_once('@').map_or(item, |(local, _)| local).to_lowercase();
        let words: Vec<String> = base
            .split(|c: char| c.is_whitespace() || matches!(c, '.' | '_' | '-' | '+'))
            .filter(|w| !w.is_empty() && *w != base)
            .map(str::to_owned)
            .collect();
        // The whole address too: "ana@example.com!!" is as guessable as "ana" is short.
        let whole = (item.contains('@')).then(|| item.to_lowercase());
        std::iter::once(base)
            .chain(whole)
            .chain(words)
            .filter(|t| t.chars().count() >= MIN_CONTEXT_CHARS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap argon2 parameters so the tests run fast; otherwise the documented defaults.
    fn policy() -> PasswordPolicy {
        PasswordPolicy {
            argon2_memory_kib: 8192,
            argon2_iterations: 1,
            argon2_parallelism: 1,
            ..PasswordPolicy::default()
        }
    }

    fn rule_of(r: Result<()>) -> String {
        match r {
            Err(Error::PasswordRejected { rule }) => rule,
            other => panic!("expected PasswordRejected, got {other:?}"),
        }
    }

    #[test]
    fn hash_verify_round_trip() {
        let pw = Secret::new("correct horse battery staple");
        let phc = hash_password(&pw, &policy()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{phc}");
        assert!(verify_password(&pw, &phc).unwrap());
    }

    #[test]
    fn salts_are_random() {
        let pw = Secret::new("correct horse battery staple");
        assert_ne!(
            hash_password(&pw, &policy()).unwrap(),
            hash_password(&pw, &policy()).unwrap()
        );
    }

    #[test]
    fn wrong_password_is_false() {
        let phc = hash_password(&Secret::new("correct horse battery staple"), &policy()).unwrap();
        assert!(!verify_password(&Secret::new("correct horse battery stapler"), &phc).unwrap());
    }

    #[test]
    fn malformed_phc_is_unexpected() {
        for phc in [
            "",
            "not a hash",
            "$argon2id$v=19$m=8192",
            "$argon2id$v=19$m=x,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            let err = verify_password(&Secret::new("x"), phc).unwrap_err();
            assert!(matches!(err, Error::Unexpected(_)), "{phc:?}: {err:?}");
        }
    }

    #[test]
    fn invalid_argon2_params_are_an_error() {
        let p = PasswordPolicy {
            argon2_iterations: 0,
            ..policy()
        };
        assert!(matches!(
            hash_password(&Secret::new("x"), &p),
            Err(Error::Unexpected(_))
        ));
    }

    #[test]
    fn needs_rehash_when_params_differ() {
        let p = policy();
        let phc = hash_password(&Secret::new("correct horse battery staple"), &p).unwrap();
        assert!(!needs_rehash(&phc, &p));
        assert!(needs_rehash(
            &phc,
            &PasswordPolicy {
                argon2_memory_kib: 9216,
                ..policy()
            }
        ));
        assert!(needs_rehash(
            &phc,
            &PasswordPolicy {
                argon2_iterations: 2,
                ..policy()
            }
        ));
        assert!(needs_rehash(
            &phc,
            &PasswordPolicy {
                argon2_parallelism: 2,
                ..policy()
            }
        ));
        assert!(needs_rehash("garbage", &p));
        let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
        assert!(needs_rehash(&argon2i, &p));
    }

    #[test]
    fn verify_dummy_runs_and_caches() {
        let p = PasswordPolicy {
            argon2_memory_kib: 8200,
            ..policy()
        };
        verify_dummy(&Secret::new("whatever it is"), &p);
        verify_dummy(&Secret::new("whatever it is"), &p);
        let cache = DUMMY_HASHES.lock().unwrap();
        let phc = cache.get(&(8200, 1, 1)).expect("dummy hash cached");
        assert!(!needs_rehash(phc, &p));
    }

    #[test]
    fn verify_dummy_with_invalid_params_does_not_panic() {
        verify_dummy(
            &Secret::new("x"),
            &PasswordPolicy {
                argon2_parallelism: 0,
                ..policy()
            },
        );
    }

    #[test]
    fn strong_password_accepted() {
        check_strength(
            &Secret::new("violet tractor 42 marmalade"),
            &policy(),
            &["alice@example.com", "Alice"],
        )
        .unwrap();
    }

    #[test]
    fn too_long_rejected() {
        let rule = rule_of(check_strength(&Secret::new("a".repeat(129)), &policy(), &[]));
        assert_eq!(rule, "must be at most 128 characters");
        // Exactly max is fine (as far as length goes).
        check_strength(&Secret::new("ab".repeat(64)), &policy(), &[]).unwrap();
    }

    #[test]
    fn max_length_checked_before_anything_else() {
        // Fails every rule, but only the length is reported, and a huge input returns quickly.
        let p = PasswordPolicy {
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
            ..policy()
        };
        let huge = Secret::new("A".repeat(10_000_000));
        let started = std::time::Instant::now();
        let rule = rule_of(check_strength(&huge, &p, &["AAAA"]));
        assert_eq!(rule, "must be at most 128 characters");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn too_short_counts_characters_not_bytes() {
        let rule = rule_of(check_strength(&Secret::new("short pass"), &policy(), &[]));
        assert_eq!(rule, "must be at least 12 characters");
        // 11 characters but 22 bytes: still too short.
        let rule = rule_of(check_strength(&Secret::new("ééééééééééé"), &policy(), &[]));
        assert_eq!(rule, "must be at least 12 characters");
        // 12 characters: long enough.
        check_strength(&Secret::new("éééééééééééé"), &policy(), &[]).unwrap();
    }

    #[test]
    fn max_length_counts_characters_not_bytes() {
        let p = PasswordPolicy {
            min_length: 4,
            max_length: 12,
            ..policy()
        };
        check_strength(&Secret::new("éééééééééééé"), &p, &[]).unwrap();
        assert_eq!(
            rule_of(check_strength(&Secret::new("ééééééééééééé"), &p, &[])),
            "must be at most 12 characters"
        );
    }

    #[test]
    fn character_classes() {
        let all = PasswordPolicy {
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
            ..policy()
        };
        let check = |pw: &str| rule_of(check_strength(&Secret::new(pw), &all, &[]));
        assert_eq!(check("VIOLET TRACTOR 42"), "must contain a lowercase letter");
        assert_eq!(check("violet tractor 42"), "must contain an uppercase letter");
        assert_eq!(check("Violet tractor marmalade"), "must contain a digit");
        assert_eq!(
            check("VioletTractor42Jam"),
            "must contain a symbol (a character that is not a letter or a digit)"
        );
        check_strength(&Secret::new("Violet tractor 42"), &all, &[]).unwrap();
        check_strength(&Secret::new("VioletTractor42!"), &all, &[]).unwrap();
    }

    #[test]
    fn common_passwords_rejected() {
        for pw in [
            "passwordpassword",
            "PasswordPassword",
            "123456789012",
            "qwertyuiopas",
            "iloveyouiloveyou",
        ] {
            let rule = rule_of(check_strength(&Secret::new(pw), &policy(), &[]));
            assert_eq!(rule, "is too common: it appears in lists of leaked passwords", "{pw}");
        }
        // Not checked when the policy says so.
        let lax = PasswordPolicy {
            reject_common: false,
            reject_personal: true,
            ..policy()
        };
        check_strength(&Secret::new("passwordpassword"), &lax, &[]).unwrap();
    }

    #[test]
    fn common_list_is_well_formed() {
        assert!(COMMON_PASSWORDS.len() >= 1000, "{}", COMMON_PASSWORDS.len());
        assert!(COMMON_PASSWORDS.iter().filter(|p| p.chars().count() >= 12).count() >= 200);
        for p in COMMON_PASSWORDS.iter() {
            assert_eq!(*p, p.to_lowercase(), "list entries must be lowercase");
            assert_eq!(*p, p.trim());
        }
        for p in [
            "123456",
            "password",
            "qwerty",
            "iloveyou",
            "letmein",
            "administrator",
            "1q2w3e4r5t6y",
        ] {
            assert!(COMMON_PASSWORDS.contains(p), "{p}");
        }
    }

    #[test]
    fn context_rule() {
        let ctx = ["alice.smith@example.com", "Alice Smith"];
        let check = |pw: &str| check_strength(&Secret::new(pw), &policy(), &ctx);
        let msg = "must not contain your email or name";
        assert_eq!(rule_of(check("my name is ALICE, hi!")), msg);
        assert_eq!(rule_of(check("xx-Alice.Smith-2024")), msg);
        assert_eq!(rule_of(check("smithsonian museum")), msg);
        assert_eq!(rule_of(check("alice smith 1234")), msg);
        check("violet tractor 42").unwrap();
        // The policy lists the rule, and can switch it off.
        let off = PasswordPolicy {
            reject_personal: false,
            ..policy()
        };
        check_strength(&Secret::new("my name is ALICE, hi!"), &off, &ctx).unwrap();
        // Items (and words) shorter than 4 characters are ignored.
        check_strength(&Secret::new("bob is my uncle!"), &policy(), &["bob@example.com", "Bo"]).unwrap();
        // An email is reduced to its local part: the domain may appear.
        check_strength(
            &Secret::new("example rules the world"),
            &policy(),
            &["carol@example.com"],
        )
        .unwrap();
        assert_eq!(
            rule_of(check_strength(
                &Secret::new("carolcarolcarol"),
                &policy(),
                &["carol@example.com"]
            )),
            msg
        );
    }

    #[test]
    fn whole_email_rejected_even_when_its_local_part_is_short() {
        let rule = rule_of(check_strength(
            &Secret::new("Ana@Example.com!!"),
            &policy(),
            &["ana@example.com", "Ana Lima"],
        ));
        assert_eq!(rule, "must not contain your email or name");
    }

    #[test]
    fn common_checked_before_context() {
        let rule = rule_of(check_strength(
            &Secret::new("passwordpassword"),
            &policy(),
            &["password@example.com"],
        ));
        assert_eq!(rule, "is too common: it appears in lists of leaked passwords");
    }
}
