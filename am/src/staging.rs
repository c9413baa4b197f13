//! The application's staging directory in HDFS (`/user/<user>/.spindleStaging/<appId>`):
//! removed when the application ends, however it ends. The client is made
//! at start so that removal on SIGTERM is one call on an open connection.
//! Only a path of that form, for this application, is ever removed: the
//! AM and the client both check with [`check_app_dir`].

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
        Err(Error::Config(format!(
            "refusing {path:?} as the staging directory of {app}: \
             it is not <home>/{STAGING_ROOT}/{app}"
        )))
    }
}

pub struct Staging {
    uri: String,
    path: String,
    client: hdfs_native::Client,
}

/// `scheme://authority` and the path of an HDFS URI.
pub fn split_uri(uri: &str) -> Result<(String, String)> {
    let bad = || {
        Error::Config(format!(
            "staging directory {uri:?} is not hdfs://host:port/path"
        ))
    };
    let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
    let i = rest.find('/').ok_or_else(bad)?;
    if rest[i..].len() <= 1 {
        return Err(bad());
    }
    Ok((format!("{scheme}://{}", &rest[..i]), rest[i..].to_string()))
}

impl Staging {
    /// The staging directory `uri` of `app`, refused unless it has the staging
    /// form (the environment names it; the AM removes it at the end).
    pub fn new(uri: &str, app: ApplicationId) -> Result<Staging> {
        let (base, path) = split_uri(uri)?;
        check_app_dir(&path, app)?;
        let client = hdfs_native::ClientBuilder::new()
            .with_url(&base)
            .build()
            .map_err(|e| Error::Config(format!("HDFS client for {base}: {e}")))?;
        Ok(Staging {
            uri: uri.to_string(),
            path,
            client,
        })
    }

    /// Opens the NameNode connection now (and tells whether the directory is there).
    pub async fn warm_up(&self) -> bool {
        self.client.get_file_info(&self.path).await.is_ok()
    }

    /// Removes the directory; a missing one is fine.
    pub async fn remove(&self) {
        match self.client.delete(&self.path, true).await {
            Ok(_) => eprintln!("spindle am: removed staging directory {}", self.uri),
            Err(e) => eprintln!(
                "spindle am: could not remove staging directory {}: {e}",
                self.uri
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split() {
        assert_eq!(
            split_uri("hdfs://localhost:9000/user/u/.spindleStaging/application_1_0001").unwrap(),
            (
                "hdfs://localhost:9000".to_string(),
                "/user/u/.spindleStaging/application_1_0001".to_string()
            )
        );
        assert!(split_uri("/user/u").is_err());
        assert!(split_uri("hdfs://nn/").is_err());
    }

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
