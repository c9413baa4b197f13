//! `spindle` command line.

fn main() {
    eprintln!("spindle: no command yet");
    std::process::exit(2);
}
