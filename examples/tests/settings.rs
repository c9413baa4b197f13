//! A driver reads the `--conf` pairs `spindle submit` hands it (`SPINDLE_CONF`) in every mode,
//! local included: a value that does not parse stops it in one line naming the key.

use spindle_tests::local_command;

#[test]
fn a_local_driver_refuses_a_bad_setting_naming_it() {
    let out = local_command(env!("CARGO_BIN_EXE_pi"))
        .env("SPINDLE_MASTER", "local[1]")
        .env("SPINDLE_CONF", r#"{"spindle.locality.wait":"1e20s"}"#)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert_eq!(
        err.trim_end(),
        r#"spindle: configuration: spindle.locality.wait="1e20s": "1e20" is not a non-negative whole number"#
    );
}
