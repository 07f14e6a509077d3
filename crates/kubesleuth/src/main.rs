//! kubesleuth: why is my deployment broken, and what exactly do I type to fix it?

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
