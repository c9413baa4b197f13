//! A real browser for web UI tests: headless Chromium (installed by scripts/setup).

use std::process::Command;

use crate::scratch_dir;

/// Headless Chromium (PEERS.md flags) on `url`: the rendered DOM, and a screenshot kept
/// under target/yarn-ui/.
pub fn chromium(url: &str, screenshot: &std::path::Path) -> String {
    let profile = scratch_dir("chromium-profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,700",
    ];
    let run = |extra: &[String]| {
        let out = Command::new("chromium")
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(url)
            .output()
            .expect("chromium (scripts/setup installs it)");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[format!("--screenshot={}", screenshot.display())]);
    let dom = run(&["--dump-dom".to_string()]);
    let _ = std::fs::remove_dir_all(&profile);
    dom
}
