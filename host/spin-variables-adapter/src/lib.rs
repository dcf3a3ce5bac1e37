//! Spin resolves variables from `SPIN_VARIABLE_<NAME>` environment variables (its `env`
//! provider); this adapter does the same inside the component, so that `wasmtime serve` plus
//! `--env` behaves like `spin up` for the gateway. It is composed in front of the *unchanged*
//! gateway component; the gateway is never rebuilt for the test host.

/// Checks a name the way Spin does: lowercase ASCII letters, digits and underscores, starting
/// with a letter.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The environment variable Spin's env provider reads for a variable name.
pub fn env_name(name: &str) -> String {
    format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())
}

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "variables-from-environment" });

    use exports::fermyon::spin::variables::{Error, Guest};

    struct EnvironmentVariables;

    impl Guest for EnvironmentVariables {
        fn get(name: String) -> Result<String, Error> {
            if !super::valid_name(&name) {
                return Err(Error::InvalidName(name));
            }
            std::env::var(super::env_name(&name)).map_err(|_| Error::Undefined(name))
        }
    }

    export!(EnvironmentVariables);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spin_rules() {
        assert!(valid_name("s3_secret_key"));
        assert!(valid_name("a1"));
        for bad in ["", "S3", "1a", "_a", "a-b", "a.b", "a b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn env_names_match_spins_env_provider() {
        assert_eq!(env_name("s3_secret_key"), "SPIN_VARIABLE_S3_SECRET_KEY");
    }
}
