//! The `yingbao` command: parses arguments and hands over to the library.

/// mimalloc instead of the system allocator: a run allocates and frees millions of small
/// strings, and glibc's malloc took over a fifth of a 200,000-employer run's CPU
/// (docs/benchmarks.md, "Where the CPU goes").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    yingbao::cli::main()
}
