//! Command-line syntax.

use clap::{Args, Parser, Subcommand};

/// Runs Spindle applications.
#[derive(Debug, Parser)]
#[command(name = "spindle", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a driver program: `spindle submit --master local[2] ./driver ARGS…`.
    Submit(Submit),
}

#[derive(Debug, Args)]
pub struct Submit {
    /// Where to run: local, local[N] (N executor processes) or local[*].
    #[arg(long, default_value = "local[2]")]
    pub master: String,
    /// The driver program (a binary built with the spindle crate).
    pub driver: String,
    /// Arguments for the driver program.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}
