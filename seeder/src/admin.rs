//! The few MinIO admin API calls (`/minio/admin/v3/`) the seeder needs. No Rust crate
//! speaks this API; the routes and payloads follow MinIO's cmd/admin-router.go and
//! cmd/admin-handlers-users.go and madmin-go's client.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::madmin_crypto;
use crate::s3::{query, Client};
use crate::secret::Secret;

const PREFIX: &str = "/minio/admin/v3";

/// The parts of madmin's `UserInfo` the seeder looks at (the secret is never requested).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct UserInfo {
    /// Comma-separated list of attached policies.
    #[serde(rename = "policyName", default)]
    pub policy_name: String,
    #[serde(default)]
    pub status: String,
    #[serde(rename = "memberOf", default)]
    pub member_of: Option<Vec<String>>,
}

impl UserInfo {
    pub fn is_enabled(&self) -> bool {
        self.status == "enabled"
    }

    /// True when exactly `policy` is attached directly (order/whitespace-insensitive).
    pub fn has_only_policy(&self, policy: &str) -> bool {
        let mut attached: Vec<&str> = self
            .policy_name
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        attached.sort_unstable();
        attached.dedup();
        attached == [policy]
    }
}

pub struct Admin<'a> {
    client: &'a Client,
    /// The root secret is the key madmin's body encryption derives from.
    root_secret: &'a Secret,
}

impl<'a> Admin<'a> {
    pub fn new(client: &'a Client, root_secret: &'a Secret) -> Self {
        Admin {
            client,
            root_secret,
        }
    }

    /// `GET info-canned-policy?name=` → the policy document, or None if there is none.
    pub fn info_canned_policy(&self, name: &str) -> Result<Option<Value>> {
        let what = format!("read policy {name}");
        let path = format!("{PREFIX}/info-canned-policy{}", query(&[("name", name)]));
        let resp = self.client.send("GET", &path, &[], b"")?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body).map(Some).map_err(|e| {
                Error::new(format!("MinIO sent an unreadable policy: {e}")).context(what)
            }),
            404 if resp.error_code() == "XMinioAdminNoSuchPolicy" => Ok(None),
            _ => Err(self.client.unexpected(&resp, what)),
        }
    }

    /// `PUT add-canned-policy?name=` with the policy JSON; creates or replaces it.
    pub fn add_canned_policy(&self, name: &str, policy: &Value) -> Result<()> {
        let path = format!("{PREFIX}/add-canned-policy{}", query(&[("name", name)]));
        let body = policy.to_string();
        let resp = self.client.send("PUT", &path, &[], body.as_bytes())?;
        match resp.status {
            200 | 204 => Ok(()),
            _ => Err(self
                .client
                .unexpected(&resp, format!("write policy {name}"))),
        }
    }

    /// `GET user-info?accessKey=` → None when MinIO has no such user.
    pub fn user_info(&self, access_key: &str) -> Result<Option<UserInfo>> {
        let what = format!("read user {access_key}");
        let path = format!("{PREFIX}/user-info{}", query(&[("accessKey", access_key)]));
        let resp = self.client.send("GET", &path, &[], b"")?;
        match resp.status {
            200 => serde_json::from_slice(&resp.body).map(Some).map_err(|e| {
                Error::new(format!("MinIO sent unreadable user info: {e}")).context(what)
            }),
            404 if resp.error_code() == "XMinioAdminNoSuchUser" => Ok(None),
            _ => Err(self.client.unexpected(&resp, what)),
        }
    }

    /// `PUT add-user?accessKey=` with an encrypted `AddOrUpdateUserReq`: creates the user or
    /// resets its secret, enabled. Policies are attached separately.
    pub fn add_user(&self, access_key: &str, secret_key: &Secret) -> Result<()> {
        let what = format!("create user {access_key}");
        let request = json!({"secretKey": secret_key.expose(), "status": "enabled"}).to_string();
        let body = madmin_crypto::encrypt_data(self.root_secret.expose(), request.as_bytes())
            .map_err(|e| e.context(&what))?;
        let path = format!("{PREFIX}/add-user{}", query(&[("accessKey", access_key)]));
        let resp = self.client.send(
            "PUT",
            &path,
            &[("content-type", "application/octet-stream")],
            &body,
        )?;
        match resp.status {
            200 | 204 => Ok(()),
            _ => Err(self.client.unexpected(&resp, what)),
        }
    }

    /// `PUT set-user-or-group-policy`: replaces the user's policy mapping with exactly
    /// `policy`, which is what "bound to that policy only" needs (attach would only add).
    pub fn set_user_policy(&self, access_key: &str, policy: &str) -> Result<()> {
        let path = format!(
            "{PREFIX}/set-user-or-group-policy{}",
            query(&[
                ("policyName", policy),
                ("userOrGroup", access_key),
                ("isGroup", "false")
            ])
        );
        let resp = self.client.send("PUT", &path, &[], b"")?;
        match resp.status {
            200 | 204 => Ok(()),
            _ => Err(self.client.unexpected(
                &resp,
                format!("attach policy {policy} to user {access_key}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> UserInfo {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn user_info_parsing() {
        let u = info(
            r#"{"policyName":"gif-gateway-read","status":"enabled","updatedAt":"2025-01-01T00:00:00Z"}"#,
        );
        assert!(u.is_enabled());
        assert!(u.has_only_policy("gif-gateway-read"));
        let u = info(r#"{"status":"disabled","memberOf":null}"#);
        assert!(!u.is_enabled());
        assert!(!u.has_only_policy("gif-gateway-read"));
    }

    #[test]
    fn exactly_one_policy() {
        assert!(info(r#"{"policyName":" p ,p","status":"enabled"}"#).has_only_policy("p"));
        assert!(!info(r#"{"policyName":"p,readwrite","status":"enabled"}"#).has_only_policy("p"));
        assert!(!info(r#"{"policyName":"readwrite","status":"enabled"}"#).has_only_policy("p"));
    }
}
