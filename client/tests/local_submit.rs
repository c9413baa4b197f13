//! `spindle submit --master local[N]` hands the driver its master and its `--conf` pairs (checked
//! by the settings registry) in the environment; a stand-in driver shows what it got.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn conf_pairs_reach_a_local_driver() {
    let dir = tempfile::tempdir().unwrap();
    let driver = dir.path().join("driver.sh");
    std::fs::write(
        &driver,
        "#!/bin/sh\necho \"master=$SPINDLE_MASTER\"\necho \"conf=$SPINDLE_CONF\"\necho \"args=$*\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&driver, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["submit", "--master", "local[3]"])
        .args([
            "--conf",
            "spindle.locality.wait=2s",
            "--conf",
            "spindle.localty.wait=1s",
        ])
        .arg(&driver)
        .args(["a", "$(b)"])
        .env_remove("SPINDLE_ROLE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("master=local[3]\n"), "{stdout}");
    assert!(stdout.contains("args=a $(b)\n"), "{stdout}");
    let conf = stdout
        .lines()
        .find_map(|l| l.strip_prefix("conf="))
        .unwrap();
    let pairs = spindle_contract::Conf::decode(conf).unwrap();
    assert_eq!(pairs.pairs()["spindle.locality.wait"], "2s");
    assert_eq!(
        stderr.trim_end(),
        "spindle: warning: --conf unknown key spindle.localty.wait (did you mean spindle.locality.wait?)"
    );
}
