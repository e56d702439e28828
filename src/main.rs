use std::process::ExitCode;

fn main() -> ExitCode {
    regionctl::main_entry().into()
}
