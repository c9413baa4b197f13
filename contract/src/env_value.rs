//! Values that travel in a YARN container's environment. The NodeManager
//! writes each variable as `export K="value"` into `launch_container.sh`
//! without escaping and replaces `{{`/`}}` (its cross-platform expansion
//! markers), so structured values (JSON) travel as hex, prefixed `hex:`.

use crate::Error;

/// `hex:` and the bytes of `value` in hex: safe in any shell double quotes.
pub(crate) fn encode(value: &str) -> String {
    let mut s = String::with_capacity(4 + 2 * value.len());
    s.push_str("hex:");
    for b in value.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Reverses [`encode`]; a value without the prefix (set by hand) is taken as is.
pub(crate) fn decode(name: &str, value: &str) -> Result<String, Error> {
    let Some(hex) = value.strip_prefix("hex:") else {
        return Ok(value.to_string());
    };
    let bad = || Error::Setting {
        name: name.to_string(),
        value: value.chars().take(40).collect(),
        reason: "not valid hex after \"hex:\"".into(),
    };
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, Error>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_plain_values() {
        let v = r#"{"a":"$(touch x) `y` {{z}} \"q\""}"#;
        let e = encode(v);
        assert!(
            e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':'),
            "{e}"
        );
        assert_eq!(decode("V", &e).unwrap(), v);
        assert_eq!(decode("V", "{}").unwrap(), "{}");
        assert!(decode("V", "hex:0").is_err());
        assert!(decode("V", "hex:zz").is_err());
        assert!(decode("V", "hex:ff").is_err());
    }
}
