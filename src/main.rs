//! The `yingbao` command: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    yingbao::cli::main()
}
