//! The component's IAM policy and a semantic comparison, so re-runs only rewrite it when
//! its meaning differs (MinIO returns policies re-serialized, not byte-identical).

use serde_json::{json, Map, Value};

/// Read one object at a time and nothing else: no listing, no writes, no other buckets.
pub fn read_only_policy(bucket: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [format!("arn:aws:s3:::{bucket}/*")]
        }]
    })
}

/// What the read replicas' `mc mirror` and `mc diff` need of the bucket: its location, its
/// listing and its objects. Nothing else, and no other bucket.
pub fn mirror_policy(bucket: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": [format!("arn:aws:s3:::{bucket}")]
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [format!("arn:aws:s3:::{bucket}/*")]
            }
        ]
    })
}

pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// Canonical form: a lone statement or string becomes a one-element list, lists whose order
/// carries no meaning are sorted and deduplicated, empty members are dropped.
pub fn normalize(policy: &Value) -> Value {
    let Some(obj) = policy.as_object() else {
        return policy.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        if is_empty(value) {
            continue;
        }
        let v = if key == "Statement" {
            let mut statements: Vec<Value> =
                as_list(value).iter().map(normalize_statement).collect();
            sort_dedup(&mut statements);
            Value::Array(statements)
        } else {
            value.clone()
        };
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

fn normalize_statement(statement: &Value) -> Value {
    let Some(obj) = statement.as_object() else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        if is_empty(value) {
            continue;
        }
        let v = match key.as_str() {
            "Action" | "NotAction" | "Resource" | "NotResource" => {
                let mut items = as_list(value);
                sort_dedup(&mut items);
                Value::Array(items)
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn sort_dedup(items: &mut Vec<Value>) {
    items.sort_by_key(canonical_string);
    items.dedup();
}

/// JSON text with object keys sorted, independent of serde_json's `preserve_order` feature
/// (which another crate in the build could switch on).
fn canonical_string(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let mut entries: Vec<(&String, &Value)> = o.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical_string(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_string).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_grants_only_get_object_on_the_bucket() {
        let p = read_only_policy("gifs");
        assert_eq!(
            canonical_string(&p),
            r#"{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":["arn:aws:s3:::gifs/*"]}],"Version":"2012-10-17"}"#
        );
    }

    #[test]
    fn mirror_policy_lists_and_reads_the_bucket_only() {
        let p = mirror_policy("gifs");
        assert_eq!(
            canonical_string(&normalize(&p)),
            r#"{"Statement":[{"Action":["s3:GetBucketLocation","s3:ListBucket"],"Effect":"Allow","Resource":["arn:aws:s3:::gifs"]},{"Action":["s3:GetObject"],"Effect":"Allow","Resource":["arn:aws:s3:::gifs/*"]}],"Version":"2012-10-17"}"#
        );
        assert!(!semantically_equal(&p, &read_only_policy("gifs")));
        assert!(!semantically_equal(&p, &mirror_policy("other")));
    }

    #[test]
    fn equivalent_forms_compare_equal() {
        let ours = read_only_policy("gifs");
        // What MinIO's info-canned-policy returns: indented, maybe with empty members.
        let from_server: Value = serde_json::from_str(
            r#"{
 "Version": "2012-10-17",
 "Statement": [
  {
   "Sid": "",
   "Effect": "Allow",
   "Action": "s3:GetObject",
   "Resource": ["arn:aws:s3:::gifs/*", "arn:aws:s3:::gifs/*"],
   "Condition": {}
  }
 ]
}"#,
        )
        .unwrap();
        assert!(semantically_equal(&ours, &from_server));
        let single_statement = json!({
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::gifs/*"}
        });
        assert!(semantically_equal(&ours, &single_statement));
    }

    #[test]
    fn broader_or_different_policies_differ() {
        let ours = read_only_policy("gifs");
        let mut listing = ours.clone();
        listing["Statement"][0]["Action"] = json!(["s3:GetObject", "s3:ListBucket"]);
        assert!(!semantically_equal(&ours, &listing));
        assert!(!semantically_equal(&ours, &read_only_policy("other")));
        let mut deny = ours.clone();
        deny["Statement"][0]["Effect"] = json!("Deny");
        assert!(!semantically_equal(&ours, &deny));
        let mut extra = ours.clone();
        extra["Statement"].as_array_mut().unwrap().push(
            json!({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::gifs/*"}),
        );
        assert!(!semantically_equal(&ours, &extra));
        let mut conditioned = ours.clone();
        conditioned["Statement"][0]["Condition"] =
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
        assert!(!semantically_equal(&ours, &conditioned));
    }

    #[test]
    fn statement_order_does_not_matter() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]});
        assert!(semantically_equal(&a, &b));
    }
}
