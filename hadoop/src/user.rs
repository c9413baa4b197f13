//! Who Spindle says it is under simple authentication: the one place that
//! decides the user name sent in RPC connection contexts (and REST `user.name`).

/// The effective user for simple auth, as Hadoop's `UserGroupInformation`
/// picks it: `$HADOOP_USER_NAME` when set and non-empty, else the operating
/// system's login name for this process's uid.
pub fn current_user() -> String {
    if let Ok(name) = std::env::var("HADOOP_USER_NAME")
        && !name.is_empty()
    {
        return name;
    }
    os_user()
}

/// The OS user name of this process: `/etc/passwd` entry of the uid owning
/// `/proc/self`, then `$USER`/`$LOGNAME`, then the uid as a number.
fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if let Some(uid) = uid
        && let Ok(passwd) = std::fs::read_to_string("/etc/passwd")
        && let Some(name) = user_for_uid(&passwd, uid)
    {
        return name;
    }
    for var in ["USER", "LOGNAME"] {
        if let Ok(name) = std::env::var(var)
            && !name.is_empty()
        {
            return name;
        }
    }
    uid.map(|u| u.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The name of `uid` in the text of an `/etc/passwd` file.
fn user_for_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookup_finds_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(user_for_uid(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(user_for_uid(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_for_uid(passwd, 7), None);
        assert_eq!(user_for_uid("garbage\n::\n", 0), None);
    }

    #[test]
    fn os_user_is_not_empty() {
        assert!(!os_user().is_empty());
    }
}
