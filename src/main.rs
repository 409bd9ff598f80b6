//! The `segl` command line: arguments in, exit code out. All the work is in [`cli`].

mod cli;

// The query engine allocates and frees many short-lived buffers from several threads; mimalloc
// serves them faster than the system allocator and returns memory sooner (see
// docs/decisions/0014-evaluation-by-row-number.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
