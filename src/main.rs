//! The `archscope` binary: clap parses the command line (`cli`, one file per subcommand), the
//! library does the work, and an error prints once, with its causes on one line.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Die quietly on a closed pipe (`archscope models list | head`), as Unix tools do, instead
    // of panicking in `println!`.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match cli::run(cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
