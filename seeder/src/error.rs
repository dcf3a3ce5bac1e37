//! One error type whose `Display` is the single line printed after `error: `.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    /// Self-explanatory errors (rejected credentials, MinIO not ready) read better
    /// without the "while doing X" prefix that `context` would add.
    standalone: bool,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: one_line(message.into()),
            standalone: false,
        }
    }

    pub fn standalone(message: impl Into<String>) -> Self {
        Error {
            message: one_line(message.into()),
            standalone: true,
        }
    }

    pub fn context(self, what: impl fmt::Display) -> Self {
        if self.standalone {
            self
        } else {
            Error {
                message: format!("{what}: {}", self.message),
                standalone: false,
            }
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The contract is exactly one line on stderr, whatever a server or the OS put in a message.
fn one_line(s: String) -> String {
    if s.contains(['\n', '\r']) {
        s.split(['\n', '\r'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_prefixes_unless_standalone() {
        assert_eq!(
            Error::new("boom").context("create bucket b").to_string(),
            "create bucket b: boom"
        );
        assert_eq!(
            Error::standalone("bad creds")
                .context("create bucket b")
                .to_string(),
            "bad creds"
        );
    }

    #[test]
    fn messages_are_single_line() {
        assert_eq!(Error::new("a\n  b\r\nc\n").to_string(), "a b c");
    }
}
