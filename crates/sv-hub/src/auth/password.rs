//! Password hashing: argon2id for everything the hub writes; Cesi's
//! werkzeug `pbkdf2:sha256:150000$salt$hex` still verifies, so a Cesi
//! database keeps working, and such a hash is replaced by argon2id at the
//! user's next successful login.
//!
//! Hashing costs tens of milliseconds on purpose; callers run it on the
//! blocking pool ([`hash_async`], [`verify_async`]).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use subtle::ConstantTimeEq;

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// argon2 refused (e.g. no randomness for the salt).
    #[error("cannot hash password: {0}")]
    Argon2(String),
    /// The blocking task failed.
    #[error("cannot hash password: worker failed")]
    Worker,
}

/// What checking a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Wrong password (or an unreadable stored hash).
    Wrong,
    /// Right, and the stored hash is current.
    Ok,
    /// Right, but stored in an old format: rehash it now.
    OkRehash,
}

/// Hashes `password` with argon2id (OWASP's baseline parameters).
pub fn hash(password: &str) -> Result<String, HashError> {
    let argon = Argon2::default();
    PasswordHasher::<PasswordHash>::hash_password(&argon, password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

/// Checks `password` against a stored hash of either format.
pub fn verify(stored: &str, password: &str) -> Verdict {
    if stored.starts_with("pbkdf2:") {
        return if verify_werkzeug(stored, password) {
            Verdict::OkRehash
        } else {
            Verdict::Wrong
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::Wrong;
    };
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Verdict::Ok,
        Err(_) => Verdict::Wrong,
    }
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|_| HashError::Worker)?
}

/// [`verify`] on the blocking pool.
pub async fn verify_async(stored: String, password: String) -> Verdict {
    tokio::task::spawn_blocking(move || verify(&stored, &password))
        .await
        .unwrap_or(Verdict::Wrong)
}

/// Werkzeug 1.0's `pbkdf2:sha256[:iterations]$salt$hex` (150000
/// iterations when the count is left out).
fn verify_werkzeug(stored: &str, password: &str) -> bool {
    let mut parts = stored.splitn(3, '$');
    let (Some(method), Some(salt), Some(hex_digest)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let mut method_parts = method.split(':');
    if method_parts.next() != Some("pbkdf2") || method_parts.next() != Some("sha256") {
        return false;
    }
    let iterations = match method_parts.next() {
        None => 150_000,
        Some(n) => match n.parse::<u32>() {
            // A hostile database row must not make the hub spin for hours.
            Ok(n) if (1..=10_000_000).contains(&n) => n,
            _ => return false,
        },
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    if expected.is_empty() || expected.len() > 64 {
        return false;
    }
    let mut derived = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    derived.ct_eq(&expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with Werkzeug 1.0.1:
    /// `generate_password_hash("admin", "pbkdf2:sha256:150000")` with salt
    /// `XfSZdgkj` (Python's hashlib.pbkdf2_hmac gives the same hex).
    fn werkzeug_admin() -> String {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"admin", b"XfSZdgkj", 150_000, &mut out);
        format!("pbkdf2:sha256:150000$XfSZdgkj${}", hex::encode(out))
    }

    #[test]
    fn argon2id_round_trip() {
        let h = hash("s3cret").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(h.len() <= 120, "fits Cesi's VARCHAR(120): {}", h.len());
        assert_eq!(verify(&h, "s3cret"), Verdict::Ok);
        assert_eq!(verify(&h, "s3cret "), Verdict::Wrong);
    }

    #[test]
    fn werkzeug_hashes_verify_and_ask_for_a_rehash() {
        let stored = werkzeug_admin();
        assert_eq!(verify(&stored, "admin"), Verdict::OkRehash);
        assert_eq!(verify(&stored, "Admin"), Verdict::Wrong);
        let default_iterations = stored.replacen("pbkdf2:sha256:150000", "pbkdf2:sha256", 1);
        assert_eq!(verify(&default_iterations, "admin"), Verdict::OkRehash);
    }

    #[test]
    fn a_known_vector_from_python() {
        // python3 -c "import hashlib;print(hashlib.pbkdf2_hmac('sha256',
        //   b'password', b'salt', 1).hex())"
        let stored =
            "pbkdf2:sha256:1$salt$120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b";
        assert_eq!(verify(stored, "password"), Verdict::OkRehash);
    }

    #[test]
    fn garbage_never_verifies() {
        for stored in [
            "",
            "plain",
            "pbkdf2:sha256:0$s$00",
            "pbkdf2:sha1:1$s$00",
            "pbkdf2:sha256:1$s$zz",
            "$argon2id$broken",
        ] {
            assert_eq!(verify(stored, ""), Verdict::Wrong, "{stored}");
        }
    }
}
