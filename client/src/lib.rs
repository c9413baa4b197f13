//! The spindle CLI: `spindle submit --master local[N] | yarn ./driver args…`,
//! `spindle status|kill|logs <appId>`, `spindle list`, `spindle new NAME`,
//! `spindle history`.
//!
//! The CLI never links user code: locally it runs the driver binary with the
//! master in its environment (`local`); on YARN it uploads the binary to HDFS
//! and submits it through the ResourceManager's REST API (`yarn`).

mod child;
pub mod cli;
mod elf;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod history;
mod local;
mod scaffold;
mod yarn;

pub use error::Error;

/// Runs a parsed command line, returning the process exit code.
pub fn run(cli: cli::Cli) -> Result<i32, Error> {
    match cli.command {
        cli::Command::Submit(s) => {
            let master = Master::parse(&s.master)?;
            match master {
                Master::Local(_) if s.detach => Err(Error::Usage(
                    "--detach works with --master yarn (cluster mode) only".into(),
                )),
                Master::Local(n) => local::submit(n, &s.driver, &s.args, &parse_conf(&s.conf)?),
                Master::Yarn => yarn::submit(&s),
            }
        }
        cli::Command::Status(a) => yarn::status(&a),
        cli::Command::List(l) => yarn::list(&l),
        cli::Command::New(n) => scaffold::create(&n),
        cli::Command::Kill(a) => yarn::kill(&a.app_id),
        cli::Command::Logs(l) => yarn::logs(&l),
        cli::Command::History(h) => history::run(&h),
    }
}

/// The `--conf KEY=VALUE` pairs, checked against the settings registry: a
/// value that does not parse is an error naming the key; unknown and renamed
/// `spindle.*` keys are warned about here, once.
pub fn parse_conf(pairs: &[String]) -> Result<spindle_contract::Conf, Error> {
    let mut map = std::collections::BTreeMap::new();
    for kv in pairs {
        let Some((k, v)) = kv.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            return Err(Error::Usage(format!("--conf {kv:?}: expected KEY=VALUE")));
        };
        map.insert(k.trim().to_string(), v.to_string());
    }
    let conf = spindle_contract::Conf::new(map).map_err(|e| Error::Usage(format!("--conf {e}")))?;
    for w in conf.warnings() {
        eprintln!("spindle: warning: --conf {w}");
    }
    Ok(conf)
}

/// Where an application runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Master {
    /// N executor processes on this machine.
    Local(u32),
    /// The Hadoop YARN cluster of HADOOP_CONF_DIR.
    Yarn,
}

impl Master {
    /// Parses `local`, `local[N]`, `local[*]`.
    pub fn parse(s: &str) -> Result<Master, Error> {
        if s == "yarn" {
            return Ok(Master::Yarn);
        }
        if s == "local" {
            return Ok(Master::Local(1));
        }
        if let Some(n) = s.strip_prefix("local[").and_then(|r| r.strip_suffix(']')) {
            if n == "*" {
                return Ok(Master::Local(
                    std::thread::available_parallelism()
                        .map(|n| n.get() as u32)
                        .unwrap_or(2),
                ));
            }
            if let Ok(n) = n.parse::<u32>()
                && n > 0
            {
                return Ok(Master::Local(n));
            }
        }
        Err(Error::Master(s.to_string()))
    }

    /// The value the driver reads from SPINDLE_MASTER.
    pub fn env_value(&self) -> String {
        match self {
            Master::Local(n) => format!("local[{n}]"),
            Master::Yarn => "yarn".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_parse() {
        assert_eq!(Master::parse("local[4]").unwrap(), Master::Local(4));
        assert_eq!(Master::parse("local").unwrap(), Master::Local(1));
        assert_eq!(Master::parse("yarn").unwrap(), Master::Yarn);
        let e = Master::parse("mesos").unwrap_err().to_string();
        assert_eq!(
            e,
            "unsupported master \"mesos\" (expected local, local[N], local[*] or yarn)"
        );
        assert!(Master::parse("local[0]").is_err());
    }
}
