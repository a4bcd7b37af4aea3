//! Command line: argument parsing, settings, printing and exit codes. The only layer that
//! reads the process environment or writes to the terminal.

pub mod args;
pub mod commands;
pub mod indexes;
pub mod mirror;
pub mod printer;
pub mod settings;

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Parser;

pub use args::{Cli, Command};
pub use printer::Printer;
pub use settings::Settings;

/// Error type every command returns: printed as one sentence plus its causes.
pub type CmdError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a command returns: the exit code on success paths that are not 0 (e.g. a partial
/// failure), or an error that becomes exit code 1.
pub type CmdResult = Result<i32, CmdError>;

/// Entry point used by `main.rs`; returns the process exit code.
pub fn main() -> i32 {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    let settings = match Settings::from_args(&cli.global, std::io::stderr().is_terminal()) {
        Ok(s) => s,
        Err(err) => {
            print_error(&err);
            return 2;
        }
    };
    let printer = Arc::new(Printer::new(settings.output));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            print_error(&err);
            return 1;
        }
    };
    let code = match runtime.block_on(run(cli.command, &settings, &printer)) {
        Ok(code) => code,
        Err(err) => {
            print_error(err.as_ref());
            1
        }
    };
    if settings.no_cache {
        let _ = std::fs::remove_dir_all(&settings.cache_dir);
    }
    code
}

/// Prints `error: <sentence>` and a `caused by:` line per source, never `Debug`.
pub fn print_error(err: &(dyn std::error::Error + 'static)) {
    let mut lines = vec![format!("error: {err}")];
    let mut source = err.source();
    let mut last = err.to_string();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some errors repeat their cause in their own message: print each sentence once.
        if !text.is_empty() && !last.contains(&text) {
            lines.push(format!("  caused by: {text}"));
        }
        last = text;
        source = cause.source();
    }
    eprintln!(
        "{}",
        printer::printable(&printer::redact_secrets(&lines.join("\n")))
    );
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: plonk hit an internal bug{location}; please report it with the command you ran"
        );
    }));
}

async fn run(command: Command, settings: &Settings, printer: &Arc<Printer>) -> CmdResult {
    match command {
        Command::Install(args) => commands::install(args, settings, printer).await,
        Command::Upgrade(args) => commands::upgrade(args, settings, printer).await,
        Command::Remove(args) => commands::remove(args, settings, printer).await,
        Command::Venv(args) => commands::venv(args, settings, printer).await,
        Command::Cache(cmd) => commands::cache_cmd(cmd, settings, printer).await,
        Command::Index(cmd) => indexes::index(cmd, settings, printer).await,
        Command::Update => indexes::update(settings, printer).await,
        Command::Search { pattern } => indexes::search(pattern, settings, printer).await,
        Command::Show { name } => indexes::show(name, settings, printer).await,
        Command::List { enabled } => indexes::list(enabled, settings, printer).await,
        Command::Mirror(args) => mirror::mirror(args, settings, printer).await,
    }
}
