//! Processes, from Linux `/proc`: children, the processes of a YARN application's containers,
//! what they listen on and how much memory they hold; and files under a directory.

use std::fs;
use std::path::{Path, PathBuf};

/// Process ids whose parent is `pid` and that have not exited (Linux `/proc`), sorted.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out: Vec<u32> = pids()
        .into_iter()
        .filter(|&child| {
            stat_fields(child).is_some_and(|f| f.get(1) == Some(&pid.to_string()) && f[0] != "Z")
        })
        .collect();
    out.sort();
    out
}

/// Whether `pid` runs (a zombie has exited: only its entry is left).
pub fn alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f[0] != "Z")
}

/// The fields of `/proc/<pid>/stat` after the command name: state, ppid, …
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    (!fields.is_empty()).then_some(fields)
}

/// The ids of all processes.
pub fn pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .collect()
}

/// The environment of a process, as `NAME=value` strings (empty if it cannot be read).
pub fn environ(pid: u32) -> Vec<String> {
    split_nul(&fs::read(format!("/proc/{pid}/environ")).unwrap_or_default())
}

/// The command line of a process (empty if it cannot be read).
pub fn argv(pid: u32) -> Vec<String> {
    split_nul(&fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// A process that YARN started in a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerProcess {
    pub pid: u32,
    /// `CONTAINER_ID` of its environment: `container_[e<epoch>_]<cluster timestamp>_<app>_<attempt>_<n>`.
    pub container: String,
    /// Its program (`argv[0]`).
    pub program: String,
    /// Its environment, `NAME=value`.
    pub env: Vec<String>,
}

impl ContainerProcess {
    /// The value of `name` in its environment.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|v| v.strip_prefix(name)?.strip_prefix('='))
    }
}

/// The processes of application `app`'s containers (`application_<ts>_<n>`), found by the
/// `CONTAINER_ID` the NodeManager puts in their environment.
pub fn container_processes(app: &str) -> Vec<ContainerProcess> {
    let app_part = format!("_{}_", app.trim_start_matches("application_"));
    let mut out = Vec::new();
    for pid in pids() {
        let env = environ(pid);
        let Some(container) = env
            .iter()
            .find_map(|v| v.strip_prefix("CONTAINER_ID="))
            .filter(|c| c.starts_with("container") && c.contains(&app_part))
            .map(str::to_string)
        else {
            continue;
        };
        let program = argv(pid).into_iter().next().unwrap_or_default();
        out.push(ContainerProcess {
            pid,
            container,
            program,
            env,
        });
    }
    out
}

/// The TCP ports (IPv4) a process listens on.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| fs::read_link(e.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().into_owned();
                    l.strip_prefix("socket:[")
                        .map(|r| r.trim_end_matches(']').to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let table = fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
            if *state != "0A" || !inodes.iter().any(|i| i == inode) {
                return None;
            }
            u16::from_str_radix(local.rsplit(':').next()?, 16).ok()
        })
        .collect()
}

/// A process's resident memory in kB (0 if it cannot be read).
pub fn rss_kb(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Files named `name` under `dir`, recursively (unreadable directories are passed over).
pub fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|f| f == name) {
                out.push(p);
            }
        }
    }
    out
}
