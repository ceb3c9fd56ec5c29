//! The `mcp-gateway` binary; see the library docs and `mcp-gateway --help`.

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use mcp_gateway::cli::{Cli, Command, Settings};
use mcp_gateway::{telemetry, tokens};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::HashToken) = cli.command {
        let mut token = String::new();
        if std::io::stdin().read_to_string(&mut token).is_err() || token.trim().is_empty() {
            eprintln!(
                "mcp-gateway hash-token: write the token on stdin, e.g. `echo -n \"$TOKEN\" | mcp-gateway hash-token`"
            );
            return ExitCode::FAILURE;
        }
        #[allow(clippy::print_stdout)]
        {
            println!("{}", tokens::hash_token(token.trim_end_matches(['\n', '\r'])));
        }
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::resolve(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mcp-gateway: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logs(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcp-gateway: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(mcp_gateway::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("mcp-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}
