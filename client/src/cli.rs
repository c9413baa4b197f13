//! Command-line syntax.

use clap::{Args, Parser, Subcommand};

/// Runs Spindle applications, locally or on Hadoop YARN.
#[derive(Debug, Parser)]
#[command(name = "spindle", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a driver program: `spindle submit --master local[2] ./driver ARGS…`
    /// or on YARN: `spindle submit --master yarn ./driver ARGS…`.
    Submit(Box<Submit>),
    /// Shows a YARN application's state, final status and tracking URL.
    Status(Status),
    /// Lists YARN applications: Spindle's (application type SPINDLE) unless --all.
    List(List),
    /// Kills a YARN application and removes its staging directory.
    Kill(AppArg),
    /// Prints a YARN application's container logs (running containers from
    /// the NodeManagers, finished ones from the logs aggregated into HDFS).
    Logs(Logs),
    /// Creates a driver crate: `spindle new NAME` writes NAME/Cargo.toml (depending on the
    /// spindle crate), NAME/src/main.rs (a wordcount) and NAME/build-portable.
    New(New),
    /// Serves finished and running applications from their event logs
    /// (spindle.eventLog.dir): the /api/v1 JSON of the AM and HTML pages.
    History(History),
}

const SUBMIT_EXAMPLES: &str = "\
Examples:
  spindle submit --master local[4] target/release/wordcount input.txt
  spindle submit --master yarn target/release/wordcount hdfs:///in hdfs:///out
  spindle submit --master yarn --deploy-mode cluster --name wc --queue default \\
      --num-executors 4 --executor-cores 2 --executor-memory 2g --driver-memory 1g \\
      --files lookup.csv --conf spindle.executor.maxFailures=8 \\
      target/release/wordcount hdfs:///in hdfs:///out

YARN mode reads the cluster from HADOOP_CONF_DIR (core-site.xml, hdfs-site.xml, yarn-site.xml).
On a Kerberized cluster (hadoop.security.authentication=kerberos) it logs in from the ticket
cache (kinit; KRB5CCNAME), or with --principal P --keytab F.
Ctrl-C while waiting kills the application. The exit code is 0 only when the application
finished with final status SUCCEEDED.";

#[derive(Debug, Args)]
#[command(after_help = SUBMIT_EXAMPLES)]
pub struct Submit {
    /// Where to run: local, local[N] (N executor processes), local[*], or yarn.
    #[arg(long, default_value = "local[2]")]
    pub master: String,
    /// YARN: where the driver runs: cluster (in the ApplicationMaster's
    /// container) or client (here).
    #[arg(long, value_name = "MODE", default_value = "cluster")]
    pub deploy_mode: String,
    /// YARN: the application's name (default: the driver's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// YARN: the queue to submit to (default: the cluster's placement rules).
    #[arg(long)]
    pub queue: Option<String>,
    /// YARN: executors to start.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    pub num_executors: u32,
    /// YARN: cores (concurrent tasks) per executor.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    pub executor_cores: u32,
    /// YARN: memory per executor (512m, 2g; a bare number is MiB). The
    /// container asks for this plus max(384m, 10%) overhead.
    #[arg(long, value_name = "SIZE", default_value = "1g")]
    pub executor_memory: String,
    /// YARN: memory of the driver (cluster mode: the ApplicationMaster's
    /// container, plus overhead).
    #[arg(long, value_name = "SIZE", default_value = "1g")]
    pub driver_memory: String,
    /// YARN: cores of the driver's (ApplicationMaster's) container.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
    pub driver_cores: u32,
    /// YARN: files to place in every container's working directory
    /// (comma-separated, or the flag repeated).
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    pub files: Vec<String>,
    /// A configuration property for the application, KEY=VALUE (repeatable).
    #[arg(long = "conf", short = 'c', value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// YARN: attempts of the ApplicationMaster (default: the cluster's
    /// yarn.resourcemanager.am.max-attempts).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..))]
    pub max_app_attempts: Option<i32>,
    /// YARN: application tags (comma-separated).
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// YARN: the application's priority in its queue.
    #[arg(long, value_name = "N")]
    pub priority: Option<i32>,
    /// YARN on a Kerberized cluster: log in as this principal from --keytab
    /// instead of using the ticket cache (`kinit`).
    #[arg(long, value_name = "PRINCIPAL", requires = "keytab")]
    pub principal: Option<String>,
    /// YARN on a Kerberized cluster: the keytab holding --principal's key.
    #[arg(long, value_name = "FILE", requires = "principal")]
    pub keytab: Option<String>,
    /// YARN: submit on behalf of this user (the cluster's hadoop.proxyuser.*
    /// settings must allow the submitting user to).
    #[arg(long, value_name = "USER")]
    pub proxy_user: Option<String>,
    /// YARN cluster mode: return once the application is ACCEPTED, printing its id and
    /// tracking URL, instead of waiting for it to end (the AM removes the staging directory).
    #[arg(long)]
    pub detach: bool,
    /// Print what is submitted (resources, environment without secrets, command).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// The driver program (a binary built with the spindle crate).
    pub driver: String,
    /// Arguments for the driver program.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AppArg {
    /// The YARN application id, e.g. application_1700000000000_0001.
    pub app_id: String,
}

#[derive(Debug, Args)]
pub struct Status {
    /// The YARN application id, e.g. application_1700000000000_0001.
    pub app_id: String,
    /// One JSON object (stable field names, times in ISO 8601 UTC) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct List {
    /// Only applications in these YARN states (comma-separated: NEW, NEW_SAVING, SUBMITTED,
    /// ACCEPTED, RUNNING, FINISHED, FAILED, KILLED).
    #[arg(long, value_name = "STATES", value_delimiter = ',')]
    pub state: Vec<String>,
    /// Only applications in this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only applications of this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only applications with one of these tags (comma-separated; YARN keeps tags in lower case).
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Applications of every type, not only Spindle's.
    #[arg(long)]
    pub all: bool,
    /// At most N applications (the most recently started first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// A JSON array (the objects of `spindle status --json`) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct History {
    /// The port to listen on (0: any free one, printed at start).
    #[arg(long, default_value_t = 18080)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    /// The event log directory (default: spindle.eventLog.dir of --conf, else
    /// /user/<you>/.spindle/events in HDFS, or ~/.spindle/events without a cluster).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<String>,
    /// KEY=VALUE, e.g. spindle.history.maxAge=3d.
    #[arg(long, value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
}

#[derive(Debug, Args)]
pub struct New {
    /// The crate's name (and its directory, unless --dir).
    pub name: String,
    /// Where to create the crate (default: ./NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<String>,
    /// Depend on the spindle crate in this checkout of Spindle (the directory holding
    /// spindle/Cargo.toml; default: the checkout this CLI was built from).
    #[arg(long, value_name = "DIR", conflicts_with = "git")]
    pub spindle_path: Option<String>,
    /// Depend on the spindle crate from this git repository instead of a local path.
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// With --git: the branch, tag or commit (default: the repository's default branch).
    #[arg(long, value_name = "REV", requires = "git")]
    pub rev: Option<String>,
}

#[derive(Debug, Args)]
pub struct Logs {
    /// The YARN application id.
    pub app_id: String,
    /// Only this container's logs.
    #[arg(long, value_name = "CONTAINER_ID")]
    pub container: Option<String>,
    /// Only these log files (stdout, stderr; comma-separated).
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    pub log_files: Vec<String>,
    /// Only the ApplicationMaster's container (the driver's, in cluster mode).
    #[arg(long)]
    pub am: bool,
    /// Only the last N lines of each file (with --follow: then what follows).
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Follows a running application: its containers' output as it grows,
    /// read from the AM through the RM's web proxy (no access to the
    /// NodeManagers needed), each line as `[CONTAINER FILE] line`; then the
    /// rest from the aggregated logs once it ended.
    #[arg(long, short = 'f')]
    pub follow: bool,
}
