//! The bad-input suite of the `spindle` CLI: each case ends in one line that says what was wrong
//! and where, a non-zero exit, no panic, and nothing sent anywhere. Cases that need a cluster or
//! a fake server live beside the code they exercise; these need only the binary.

use std::path::Path;
use std::process::{Command, Output};

fn spindle(conf_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .env("HADOOP_CONF_DIR", conf_dir)
        .env_remove("YARN_CONF_DIR")
        .env_remove("SPINDLE_ROLE")
        .env_remove("SPINDLE_MASTER")
        .output()
        .expect("the spindle binary runs")
}

/// Exactly one line on stderr, containing every needle, and the exit code wanted.
fn one_line(out: &Output, code: i32, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "no {n:?} in: {err}");
    }
}

/// A configuration directory whose RM is a closed port (nothing must reach it).
fn conf_dir(core_site: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("core-site.xml"), core_site).unwrap();
    std::fs::write(
        dir.path().join("yarn-site.xml"),
        "<configuration><property><name>yarn.resourcemanager.webapp.address</name>\
         <value>127.0.0.1:1</value></property></configuration>",
    )
    .unwrap();
    dir
}

const PLAIN: &str = "<configuration><property><name>fs.defaultFS</name>\
                     <value>hdfs://127.0.0.1:1</value></property></configuration>";

#[test]
fn out_of_range_numbers_are_refused_before_anything_is_sent() {
    let conf = conf_dir(PLAIN);
    for (flag, value) in [
        ("--executor-cores", "3000000000"),
        ("--executor-cores", "0"),
        ("--num-executors", "0"),
        ("--max-app-attempts", "0"),
    ] {
        let out = spindle(
            conf.path(),
            &["submit", "--master", "yarn", flag, value, "./driver"],
        );
        one_line(&out, 2, &[flag, value]);
    }
    let out = spindle(
        conf.path(),
        &[
            "submit",
            "--master",
            "yarn",
            "--driver-cores=-1",
            "./driver",
        ],
    );
    one_line(&out, 2, &["--driver-cores", "-1"]);
}

#[test]
fn an_unknown_flag_is_one_line() {
    let conf = conf_dir(PLAIN);
    let out = spindle(conf.path(), &["submit", "--bogus", "./driver"]);
    one_line(&out, 2, &["--bogus"]);
}

#[test]
fn hostile_site_files_are_refused_naming_the_file() {
    // A DTD (entity expansion) is refused by the parser.
    let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]>\n\
               <configuration><property><name>fs.defaultFS</name><value>&b;</value></property>\
               </configuration>";
    let conf = conf_dir(dtd);
    let out = spindle(conf.path(), &["status", "application_1_0001"]);
    one_line(&out, 2, &["core-site.xml", "DTD"]);

    // A site file of 17 MiB is refused before it is read.
    let huge = format!(
        "<configuration><property><name>x</name><value>{}</value></property></configuration>",
        "a".repeat(17 << 20)
    );
    let conf = conf_dir(&huge);
    let out = spindle(conf.path(), &["status", "application_1_0001"]);
    one_line(&out, 2, &["core-site.xml", "MiB"]);

    // Not XML at all.
    let conf = conf_dir("<configuration><property>");
    let out = spindle(conf.path(), &["status", "application_1_0001"]);
    one_line(&out, 2, &["core-site.xml", "malformed XML"]);
}

/// A small ELF file that passes `spindle submit`'s driver check (x86_64, the Spindle note; a
/// fuzz seed of the `elf` target, written by the client's unit tests).
fn stand_in_driver() -> std::path::PathBuf {
    spindle_test_support::repo_root().join("fuzz/corpus/elf/driver-x86_64")
}

/// Binaries that are not Spindle drivers for Linux are refused in one line before the
/// ResourceManager is asked anything (here none answers).
#[test]
fn binaries_that_are_not_linux_spindle_drivers_are_refused_in_one_line() {
    let conf = conf_dir("<configuration/>");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("job.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello world").unwrap();
    let arm = dir.path().join("arm");
    let mut bytes =
        std::fs::read(spindle_test_support::repo_root().join("fuzz/corpus/elf/not-a-driver"))
            .unwrap();
    bytes[18] = 40; // e_machine: 32-bit ARM
    std::fs::write(&arm, bytes).unwrap();
    let cases: [(&str, &[&str]); 4] = [
        (
            "/bin/true",
            &["/bin/true", "not a Spindle driver", "spindle crate"],
        ),
        (script.to_str().unwrap(), &["job.sh", "a script"]),
        (
            text.to_str().unwrap(),
            &["notes.txt", "not an ELF binary", "68 65 6c 6c"],
        ),
        (
            arm.to_str().unwrap(),
            &["ARM (32-bit)", "x86_64 or aarch64"],
        ),
    ];
    for (driver, needles) in cases {
        let out = spindle(conf.path(), &["submit", "--master", "yarn", driver]);
        one_line(&out, 2, needles);
    }
}

/// `--detach` needs a driver that runs in the cluster: client mode and local mode refuse it.
#[test]
fn detach_is_refused_where_the_driver_runs_here() {
    let conf = conf_dir(PLAIN);
    let out = spindle(
        conf.path(),
        &[
            "submit",
            "--master",
            "yarn",
            "--deploy-mode",
            "client",
            "--detach",
            "./driver",
        ],
    );
    one_line(&out, 2, &["--detach", "cluster mode only"]);
    let out = spindle(
        conf.path(),
        &["submit", "--master", "local[2]", "--detach", "./driver"],
    );
    one_line(&out, 2, &["--detach", "--master yarn"]);
}

/// An HTTP server on loopback: `answer(request line)` is written back as is. It keeps each
/// connection open for the next request, as the RM does: a client that reuses a pooled
/// connection the server has closed meets a reset instead of an answer.
fn fake_rm(answer: impl Fn(&str) -> String + Send + Sync + 'static) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut line, mut body) = (String::new(), 0);
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        let header = line.to_ascii_lowercase();
                        if let Some(n) = header.strip_prefix("content-length:") {
                            body = n.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let _ = reader.by_ref().take(body).read_to_end(&mut Vec::new());
                    if stream.write_all(answer(&request).as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A NameNode that accepts connections and never answers (a black hole after the handshake):
/// `spindle submit` gives up within 30 s with one line naming it, instead of hanging for minutes.
#[test]
fn a_silent_namenode_is_one_line_within_30_seconds() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nn = silent.local_addr().unwrap();
    let held = std::thread::spawn(move || {
        let _open: Vec<_> = silent.incoming().take(8).collect();
    });
    let rm = fake_rm(|request| {
        let body = if request.contains("new-application") {
            r#"{"application-id":"application_1_0001","maximum-resource-capability":{"memory":8192,"vCores":8}}"#
        } else {
            "{}"
        };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("core-site.xml"),
        format!(
            "<configuration><property><name>fs.defaultFS</name><value>hdfs://{nn}</value>\
             </property></configuration>"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("yarn-site.xml"),
        format!(
            "<configuration><property><name>yarn.resourcemanager.webapp.address</name>\
             <value>{rm}</value></property></configuration>"
        ),
    )
    .unwrap();
    let driver = dir.path().join("driver");
    std::fs::copy(stand_in_driver(), &driver).unwrap();
    let started = std::time::Instant::now();
    let out = spindle(
        dir.path(),
        &["submit", "--master", "yarn", driver.to_str().unwrap()],
    );
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(took < std::time::Duration::from_secs(30), "{took:?}: {err}");
    let last = err
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        last.contains(&format!("hdfs://{nn}")) && last.contains("did not answer"),
        "{err}"
    );
    drop(held);
}
