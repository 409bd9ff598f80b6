//! The `segl` command line: arguments in, exit code out. All the work is in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
