//! The staging layout both sides respect: `<home>/.spindleStaging/<appId>`
//! per application (the client creates it, the AM removes it when the
//! application ends), and nothing else is ever removed as staging.

use spindle_hadoop::ids::ApplicationId;

use crate::{Error, Result};

/// The folder under a user's home that holds their applications' staging directories.
pub const STAGING_ROOT: &str = ".spindleStaging";

/// Refuses any path but `<root>/.spindleStaging/<app>` (absolute, no `.`,
/// `..` or empty components): the only directory Spindle removes as staging.
pub fn check_app_dir(path: &str, app: ApplicationId) -> Result<()> {
    let parts: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
    let shaped = path.starts_with('/')
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != "..")
        && parts.len() >= 2
        && parts[parts.len() - 2] == STAGING_ROOT
        && parts[parts.len() - 1] == app.to_string();
    if shaped {
        Ok(())
    } else {
        Err(Error::Launch(format!(
            "refusing {path:?} as the staging directory of {app}: \
             it is not <home>/{STAGING_ROOT}/{app}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_applications_staging_directory_is_accepted() {
        let app: ApplicationId = "application_1_0001".parse().unwrap();
        assert!(check_app_dir("/user/u/.spindleStaging/application_1_0001", app).is_ok());
        assert!(check_app_dir("/staging/.spindleStaging/application_1_0001", app).is_ok());
        for bad in [
            "/user/u",
            "/user/u/important",
            "/user/u/.spindleStaging",
            "/user/u/.spindleStaging/application_1_0002",
            "/user/u/.spindleStaging/application_1_0001/..",
            "/user/u/.spindleStaging/../.spindleStaging/application_1_0001",
            "/user/u/.spindleStaging//application_1_0001",
            "user/u/.spindleStaging/application_1_0001",
            "/.spindleStaging/application_1_00011",
            "",
        ] {
            let e = check_app_dir(bad, app).unwrap_err().to_string();
            assert!(
                e.contains("refusing") && e.contains("application_1_0001"),
                "{bad}: {e}"
            );
        }
    }
}
