//! `seeder`: reads its configuration from the environment (see `config.rs`), prints one
//! line per step and `seeded: N change(s)`, or a single `error: ...` line on stderr.

use std::io::Write;
use std::process::ExitCode;

use seeder::config::Config;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            report_error(&e);
            // Distinct from runtime failures: retrying a Job cannot fix its input.
            return ExitCode::from(2);
        }
    };
    let mut say = |line: &str| {
        // A closed stdout must not turn into a panic; the exit code still tells the outcome.
        let _ = writeln!(std::io::stdout(), "{line}");
    };
    match seeder::seed::run(&config, &mut say) {
        Ok(changes) => {
            say(&format!("seeded: {changes} change(s)"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            report_error(&e);
            ExitCode::FAILURE
        }
    }
}

fn report_error(e: &seeder::error::Error) {
    let _ = writeln!(std::io::stderr(), "error: {e}");
}
