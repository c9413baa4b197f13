# Sourced by bench/local/*.sh: builds the jobs and sets $bin to where they are.
# A full run uses release binaries in target/bench; a smoke run only checks that
# the jobs still work, so it uses the debug build scripts/test has already made.
# Needs $root, $mode (full|smoke) and $build (1 = build, 0 = use what is there).
build_binaries() {
  local profile=release
  if [ "$mode" = smoke ]; then
    profile=debug
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
  else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench}"
  fi
  if [ "$build" = 1 ]; then
    cargo build --quiet --profile "${profile/debug/dev}" "${@/#/--package=}"
  fi
  bin="$CARGO_TARGET_DIR/$profile"
}
