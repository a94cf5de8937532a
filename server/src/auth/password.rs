//! Password hashing: argon2id with OWASP's parameters (m=19 MiB, t=2, p=1), and checks that take
//! the same time whatever the stored form (hash, plaintext, or no such user).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Memory cost, KiB.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Shortest password accepted for a new or changed password.
pub const MIN_PASSWORD_LEN: usize = 8;

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, None).expect("argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `text` is a PHC argon2 hash rather than a plaintext password.
pub fn is_phc_hash(text: &str) -> bool {
    text.starts_with("$argon2")
        && PasswordHash::new(text).is_ok_and(|h| h.salt.is_some() && h.hash.is_some())
}

/// A hash nobody knows the password of, checked against when the user does not exist or has a
/// plaintext entry, so that every check costs one argon2 run.
static DUMMY: LazyLock<String> = LazyLock::new(|| hash("vigia-dummy-password").unwrap_or_default());

/// Forces the dummy hash to be computed (at start-up, so the first login is not slower).
pub fn warm_up() {
    LazyLock::force(&DUMMY);
}

/// Checks `password` against a PHC hash. Blocking: call from a blocking thread.
pub fn verify_hash(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            burn(password);
            false
        }
    }
}

/// Checks against a plaintext secret at the same cost as a hash check.
pub fn verify_plain(stored: &str, password: &str) -> bool {
    burn(password);
    constant_time_eq(stored, password)
}

/// Spends one argon2 verification, for paths that have no real hash to check.
pub fn burn(password: &str) {
    if let Ok(parsed) = PasswordHash::new(&DUMMY) {
        let _ = argon2().verify_password(password.as_bytes(), &parsed);
    }
}

/// Compares two secrets without an early exit that would leak how much of them matched.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (da, db) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_with_owasp_parameters() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(is_phc_hash(&h));
        assert!(verify_hash(&h, "correct horse"));
        assert!(!verify_hash(&h, "wrong horse"));
    }

    #[test]
    fn plaintext_is_not_a_hash() {
        assert!(!is_phc_hash("1234"));
        assert!(!is_phc_hash("$argon2id$broken"));
        assert!(verify_plain("1234", "1234"));
        assert!(!verify_plain("1234", "12345"));
    }
}
