//! The application's staging directory in HDFS (`/user/<user>/.spindleStaging/<appId>`):
//! removed when the application ends, however it ends. The client is made
//! at start so that removal on SIGTERM is one call on an open connection.
//! Only a path of that form, for this application, is ever removed: the
//! AM and the client both check with [`check_app_dir`].

use spindle_contract::staging::check_app_dir;
use spindle_hadoop::ids::ApplicationId;

use crate::{Error, Result};

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
}
