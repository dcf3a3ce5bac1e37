//! Spin resolves variables from `SPIN_VARIABLE_<NAME>` environment variables (its `env`
//! provider); this adapter does the same inside the component, so that `wasmtime serve` plus
//! `--env` behaves like `spin up` for the gateway. It exports `spin:variables/variables@3.0.0`,
//! the Spin 4 interface a spin-sdk 6 component imports (its `get` is an `async func`), and is
//! composed in front of the *unchanged* gateway component; the gateway is never rebuilt for the
//! test host. It also exports Spin's `spin:key-value/key-value@3.0.0` without any store, which is
//! what a host without key-value support means for the gateway: its opt-in edge cache cannot
//! open a store and stays off.

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
    // The WIT declares every function `async func`, so these are async exports (the component
    // model's async ABI): they match the imports of a spin-sdk 6 component exactly. Nothing here
    // ever waits, so each call completes in its first poll.
    wit_bindgen::generate!({ path: "wit", world: "variables-from-environment" });

    use exports::spin::key_value::key_value;
    use exports::spin::variables::variables::{self, Error};
    use wit_bindgen::{FutureReader, StreamReader};

    struct EnvironmentVariables;

    impl variables::Guest for EnvironmentVariables {
        async fn get(name: String) -> Result<String, Error> {
            if !super::valid_name(&name) {
                return Err(Error::InvalidName(name));
            }
            std::env::var(super::env_name(&name)).map_err(|_| Error::Undefined(name))
        }
    }

    /// No stores: `open` fails, so no `NoStore` value ever exists and its methods cannot run.
    enum NoStore {}

    impl key_value::Guest for EnvironmentVariables {
        type Store = NoStore;
    }

    impl key_value::GuestStore for NoStore {
        async fn open(_label: String) -> Result<key_value::Store, key_value::Error> {
            Err(key_value::Error::NoSuchStore)
        }
        async fn get(&self, _key: String) -> Result<Option<Vec<u8>>, key_value::Error> {
            match *self {}
        }
        async fn set(&self, _key: String, _value: Vec<u8>) -> Result<(), key_value::Error> {
            match *self {}
        }
        async fn delete(&self, _key: String) -> Result<(), key_value::Error> {
            match *self {}
        }
        async fn exists(&self, _key: String) -> Result<bool, key_value::Error> {
            match *self {}
        }
        async fn get_keys(
            &self,
        ) -> (
            StreamReader<String>,
            FutureReader<Result<(), key_value::Error>>,
        ) {
            match *self {}
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
