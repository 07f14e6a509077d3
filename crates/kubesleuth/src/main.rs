//! kubesleuth: why is my deployment broken, and what exactly do I type to fix it?

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

// Loading a large snapshot is millions of small allocations; mimalloc makes them cheaper
// and returns memory with less fragmentation than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run()
}
