//! `spindle new NAME`: a driver crate to start from. `Cargo.toml` depends on the `spindle`
//! crate (a checkout's path, or a git repository), `src/main.rs` is a wordcount, and
//! `scripts/build-portable` builds binaries for glibc 2.17 (the script of this repository).
//! The crate carries this workspace's `[profile.*]` sections, so a debug build is as fast and
//! its backtraces as readable as the examples'.

use std::path::{Path, PathBuf};

use crate::{Error, cli};

const MANIFEST: &str = include_str!("../scaffold/Cargo.toml.in");
const MAIN: &str = include_str!("../scaffold/main.rs");
const BUILD_PORTABLE: &str = include_str!("../../scripts/build-portable");
/// The workspace manifest, for its `[profile.*]` sections (at its end).
const WORKSPACE_MANIFEST: &str = include_str!("../../Cargo.toml");

/// The Spindle checkout this CLI was built from (the parent of `client/`).
fn own_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A crate name Cargo accepts: ASCII letters, digits, `-` and `_`, starting with a letter.
fn check_name(name: &str) -> Result<(), Error> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Error::Usage(format!(
            "spindle new {name:?}: a crate name is ASCII letters, digits, '-' and '_', starting \
             with a letter"
        )));
    }
    Ok(())
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `spindle = …` dependency line `n` asks for.
fn dependency(n: &cli::New) -> Result<String, Error> {
    if let Some(url) = &n.git {
        let mut line = format!("spindle = {{ git = {}", toml_str(url));
        if let Some(rev) = &n.rev {
            line.push_str(&format!(", rev = {}", toml_str(rev)));
        }
        line.push_str(" }");
        return Ok(line);
    }
    let given = n.spindle_path.is_some();
    let checkout = n
        .spindle_path
        .as_ref()
        .map_or_else(own_checkout, PathBuf::from);
    let crate_dir = checkout.join("spindle");
    if !crate_dir.join("Cargo.toml").is_file() {
        return Err(Error::Usage(if given {
            format!(
                "--spindle-path {}: no spindle/Cargo.toml there (give the directory of a Spindle checkout)",
                checkout.display()
            )
        } else {
            format!(
                "the Spindle checkout this CLI was built from ({}) is gone: give --spindle-path DIR or --git URL",
                checkout.display()
            )
        }));
    }
    let crate_dir = crate_dir
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", crate_dir.display()), e))?;
    let path = crate_dir
        .to_str()
        .ok_or_else(|| Error::Usage(format!("{}: not a UTF-8 path", crate_dir.display())))?;
    Ok(format!("spindle = {{ path = {} }}", toml_str(path)))
}

/// The workspace's `[profile.*]` sections, with a line saying where they come from.
fn profiles() -> String {
    let start = WORKSPACE_MANIFEST
        .find("\n[profile.")
        .map_or(WORKSPACE_MANIFEST.len(), |i| i + 1);
    let sections = WORKSPACE_MANIFEST[start..].trim_end();
    if sections.is_empty() {
        return String::new();
    }
    format!("# Build profiles as in Spindle's own workspace.\n{sections}\n")
}

/// The files of a new crate named `name` with dependency line `spindle`: (path, contents,
/// executable).
fn files(name: &str, spindle: &str) -> Vec<(&'static str, String, bool)> {
    let manifest = MANIFEST
        .replace("{{name}}", name)
        .replace("{{spindle}}", spindle)
        + &profiles();
    vec![
        ("Cargo.toml", manifest, false),
        ("src/main.rs", MAIN.replace("{{name}}", name), false),
        ("scripts/build-portable", BUILD_PORTABLE.to_string(), true),
        (".gitignore", "/target\n".to_string(), false),
    ]
}

/// `spindle new NAME [--dir DIR] [--spindle-path DIR | --git URL [--rev REV]]`.
pub(crate) fn create(n: &cli::New) -> Result<i32, Error> {
    check_name(&n.name)?;
    let dir = PathBuf::from(n.dir.as_deref().unwrap_or(&n.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::Usage(format!(
            "spindle new: {} exists and is not empty",
            dir.display()
        )));
    }
    let spindle = dependency(n)?;
    for (path, contents, executable) in files(&n.name, &spindle) {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
        }
        std::fs::write(&target, contents)
            .map_err(|e| Error::io(format!("writing {}", target.display()), e))?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(format!("making {} executable", target.display()), e))?;
        }
    }
    let d = dir.display();
    eprintln!(
        "spindle: created the driver crate {} in {d} ({spindle})",
        n.name
    );
    eprintln!("spindle: next:");
    eprintln!("  cd {d} && cargo build");
    eprintln!(
        "  spindle submit --master 'local[2]' target/debug/{} Cargo.toml",
        n.name
    );
    eprintln!("  scripts/build-portable --release   # for every NodeManager (glibc 2.17+)");
    eprintln!(
        "  spindle submit --master yarn target/portable/{}-unknown-linux-gnu/release/{} hdfs:///in hdfs:///out",
        std::env::consts::ARCH,
        n.name
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(args: &[&str]) -> cli::New {
        let mut argv = vec!["spindle", "new"];
        argv.extend_from_slice(args);
        match <cli::Cli as clap::Parser>::try_parse_from(argv)
            .unwrap()
            .command
        {
            cli::Command::New(n) => n,
            _ => unreachable!(),
        }
    }

    #[test]
    fn names_cargo_would_refuse_are_refused() {
        for bad in ["", "1job", "my job", "a/b", "ünï"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("my-job_2").is_ok());
    }

    #[test]
    fn the_dependency_line_is_a_path_or_a_git_url() {
        let line = dependency(&new(&["x"])).unwrap();
        let expected = own_checkout().join("spindle").canonicalize().unwrap();
        assert_eq!(
            line,
            format!(
                "spindle = {{ path = {} }}",
                toml_str(expected.to_str().unwrap())
            )
        );
        let line = dependency(&new(&[
            "x",
            "--git",
            "https://example.org/s.git",
            "--rev",
            "v1",
        ]))
        .unwrap();
        assert_eq!(
            line,
            r#"spindle = { git = "https://example.org/s.git", rev = "v1" }"#
        );
        let e = dependency(&new(&["x", "--spindle-path", "/nonexistent"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent"), "{e}");
        assert_eq!(toml_str("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn the_manifest_has_the_workspaces_profiles_and_no_placeholder_is_left() {
        let f = files("wc2", "spindle = { path = \"/s\" }");
        let manifest = &f[0].1;
        assert!(manifest.contains("name = \"wc2\""), "{manifest}");
        assert!(manifest.contains("[profile.dev]"), "{manifest}");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        for (path, contents, _) in &f {
            assert!(!contents.contains("{{"), "{path}");
        }
        assert!(f[1].1.contains("spindle::main"));
    }
}
