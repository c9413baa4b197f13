//! `spindle` command line.

use clap::Parser;

fn main() {
    spindle_contract::logging::init();
    let cli = match spindle_client::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line: clap's first, without its "error: " prefix and usage block.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("spindle: {}", first.trim_start_matches("error: "));
            std::process::exit(2);
        }
    };
    match spindle_client::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("spindle: {e}");
            std::process::exit(e.reason().code());
        }
    }
}
