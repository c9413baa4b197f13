//! `spindle` command line.

use clap::Parser;

fn main() {
    let cli = spindle_client::cli::Cli::parse();
    match spindle_client::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("spindle: {e}");
            std::process::exit(1);
        }
    }
}
