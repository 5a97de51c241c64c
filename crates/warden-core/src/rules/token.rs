//! Tokens: 256 random bits handed to the client once (a session, a challenge, an email link); only
//! their SHA-256 is stored.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::model::secret::Secret;

/// A new token, URL-safe base64 without padding.
pub fn new_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
