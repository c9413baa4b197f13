//! The per-application secret in YARN credentials: the client stores 32
//! random bytes under [`spindle_contract::launch::SECRET_ALIAS`]; the engine works with
//! them as 64 hex digits.

use spindle_core::auth::Secret;
use spindle_hadoop::credentials::Credentials;

use crate::{Error, Result};
use spindle_contract::launch::SECRET_ALIAS;

/// The secret in `creds`: 32 raw bytes, or the 64 hex digits themselves.
pub fn from_credentials(creds: &Credentials) -> Result<Secret> {
    let raw = creds.secret(SECRET_ALIAS).ok_or_else(|| {
        Error::Config(format!(
            "the container's credentials hold no {SECRET_ALIAS} secret"
        ))
    })?;
    let hex = if raw.len() == 32 {
        raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
    } else {
        String::from_utf8_lossy(raw).trim().to_string()
    };
    Secret::parse(&hex).map_err(|_| {
        Error::Config(format!(
            "the {SECRET_ALIAS} secret in the credentials is {} bytes, expected 32",
            raw.len()
        ))
    })
}

/// The 32 raw bytes of `secret`, as stored in credentials.
pub fn to_bytes(secret: &Secret) -> Vec<u8> {
    let hex = secret.expose().as_bytes();
    hex.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).unwrap_or("00");
            u8::from_str_radix(s, 16).unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_through_credentials() {
        let s = Secret::generate();
        let mut c = Credentials::new();
        c.add_secret(SECRET_ALIAS, to_bytes(&s));
        assert_eq!(to_bytes(&s).len(), 32);
        assert_eq!(from_credentials(&c).unwrap(), s);
        let mut hex = Credentials::new();
        hex.add_secret(SECRET_ALIAS, s.expose().as_bytes().to_vec());
        assert_eq!(from_credentials(&hex).unwrap(), s);
        let mut bad = Credentials::new();
        bad.add_secret(SECRET_ALIAS, vec![1, 2, 3]);
        assert!(
            from_credentials(&bad)
                .unwrap_err()
                .to_string()
                .contains("3 bytes")
        );
        assert!(
            from_credentials(&Credentials::new())
                .unwrap_err()
                .to_string()
                .contains(SECRET_ALIAS)
        );
    }
}
