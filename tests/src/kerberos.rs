//! Kerberos for tests of a secure cluster (`deploy/mini-hadoop --secure`): the user's identity
//! (principal, keytab, `krb5.conf`) and MIT Kerberos' own clients (`kinit`, `klist`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kerberos identity a secure cluster hands its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KerberosUser {
    /// `<user>@<REALM>`, e.g. `root@EXAMPLE.COM`: its short name is the OS user.
    pub principal: String,
    /// A keytab holding the principal's keys.
    pub keytab: PathBuf,
    /// The client's `krb5.conf` (`KRB5_CONFIG` for MIT Kerberos, `-Djava.security.krb5.conf` for Java).
    pub krb5_conf: PathBuf,
}

impl KerberosUser {
    /// The identity in a secure cluster's conf dir: `krb5.conf` and exactly one `*.keytab`, whose
    /// first entry names the principal. `None` when there is no `krb5.conf` (an open cluster).
    pub fn from_conf_dir(conf_dir: &Path) -> Result<Option<KerberosUser>, String> {
        let krb5_conf = conf_dir.join("krb5.conf");
        if !krb5_conf.exists() {
            return Ok(None);
        }
        let keytabs: Vec<PathBuf> = fs::read_dir(conf_dir)
            .map_err(|e| format!("{}: {e}", conf_dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "keytab"))
            .collect();
        let [keytab] = keytabs.as_slice() else {
            return Err(format!(
                "{}: has krb5.conf, so it needs exactly one *.keytab (the user's), found {}",
                conf_dir.display(),
                keytabs.len()
            ));
        };
        let bytes = fs::read(keytab).map_err(|e| format!("{}: {e}", keytab.display()))?;
        let principal =
            keytab_principal(&bytes).map_err(|e| format!("{}: {e}", keytab.display()))?;
        Ok(Some(KerberosUser {
            principal,
            keytab: keytab.clone(),
            krb5_conf,
        }))
    }

    /// The principal's short name under `DEFAULT` mapping: its first component (`root`).
    pub fn short_name(&self) -> &str {
        self.principal
            .split(['/', '@'])
            .next()
            .unwrap_or(&self.principal)
    }

    /// An MIT Kerberos command (`kinit`, `klist`, `kvno`) that uses this cluster's KDC and the
    /// ticket cache `cache` (a file path). Panics, pointing at `scripts/setup`, when MIT
    /// Kerberos' clients are not installed.
    pub fn mit_command(&self, program: &str, cache: &Path) -> Command {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{program} not found: install MIT Kerberos' clients (scripts/setup installs krb5-user)"
        );
        let mut cmd = Command::new(program);
        cmd.env("KRB5_CONFIG", &self.krb5_conf)
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()));
        cmd
    }
}

/// The principal of a keytab's first entry (MIT's keytab format, version 0x502: entries of a
/// 32-bit length, a component count, the realm, the components, name type, timestamp, key).
pub fn keytab_principal(bytes: &[u8]) -> Result<String, String> {
    if bytes.get(..2) != Some(&[5, 2]) {
        return Err("not a keytab of version 0x502".into());
    }
    let mut r = Reader { bytes, at: 2 };
    loop {
        let size = i32::from_be_bytes(r.array()?);
        if size < 0 {
            // A deleted entry (a hole) of -size bytes.
            r.take(size.unsigned_abs() as usize)?;
            continue;
        }
        let components = u16::from_be_bytes(r.array()?);
        let realm = r.string()?;
        let names = (0..components)
            .map(|_| r.string())
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(format!("{}@{realm}", names.join("/")));
    }
}

/// Big-endian fields of a keytab, front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let part = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| format!("keytab truncated at byte {}", self.at))?;
        self.at += n;
        Ok(part)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    /// A 16-bit length, then that many bytes.
    fn string(&mut self) -> Result<String, String> {
        let len = u16::from_be_bytes(self.array()?);
        Ok(String::from_utf8_lossy(self.take(len as usize)?).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::keytab_principal;

    /// One keytab entry for `components@realm` with a 2-byte key.
    fn entry(components: &[&str], realm: &str) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend((components.len() as u16).to_be_bytes());
        for s in std::iter::once(&realm).chain(components) {
            e.extend((s.len() as u16).to_be_bytes());
            e.extend(s.as_bytes());
        }
        e.extend(1u32.to_be_bytes()); // name type
        e.extend(0u32.to_be_bytes()); // timestamp
        e.push(1); // key version
        e.extend(18u16.to_be_bytes()); // aes256-cts-hmac-sha1-96
        e.extend(2u16.to_be_bytes());
        e.extend([0xab, 0xcd]);
        let mut out = (e.len() as i32).to_be_bytes().to_vec();
        out.extend(e);
        out
    }

    #[test]
    fn reads_the_first_entry_after_a_hole() {
        let mut keytab = vec![5, 2];
        keytab.extend((-3i32).to_be_bytes());
        keytab.extend([0, 0, 0]);
        keytab.extend(entry(&["nn", "localhost"], "EXAMPLE.COM"));
        keytab.extend(entry(&["other"], "EXAMPLE.COM"));
        assert_eq!(
            keytab_principal(&keytab).unwrap(),
            "nn/localhost@EXAMPLE.COM"
        );
    }

    #[test]
    fn refuses_other_formats_and_truncation() {
        assert!(keytab_principal(b"\x05\x01").is_err());
        let mut keytab = vec![5, 2];
        keytab.extend(entry(&["root"], "EXAMPLE.COM"));
        keytab.truncate(12);
        let err = keytab_principal(&keytab).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }
}
