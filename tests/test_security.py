"""The bucket stays private, the component's credentials are read-only, secrets never leak."""
import pytest
import requests
from botocore.exceptions import ClientError

from testkit.paths import BUCKET, GIF_KEY


def test_anonymous_get_and_list_are_forbidden(minio, app_credentials):
    assert requests.get(f"{minio.url}/{BUCKET}/{GIF_KEY}", timeout=5).status_code == 403
    assert requests.get(f"{minio.url}/{BUCKET}?list-type=2", timeout=5).status_code == 403
    assert requests.get(f"{minio.url}/{BUCKET}", timeout=5).status_code == 403


def test_no_bucket_policy_grants_anonymous_access(minio, app_credentials):
    with pytest.raises(ClientError) as err:
        minio.s3(minio.root).get_bucket_policy(Bucket=BUCKET)
    assert err.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_component_credentials_can_only_read(minio, app_credentials):
    s3 = minio.s3(app_credentials)
    assert s3.get_object(Bucket=BUCKET, Key=GIF_KEY)["Body"].read()[:6] == b"GIF89a"
    denied = {
        "put": lambda: s3.put_object(Bucket=BUCKET, Key="intruder.gif", Body=b"x"),
        "delete": lambda: s3.delete_object(Bucket=BUCKET, Key=GIF_KEY),
        "list": lambda: s3.list_objects_v2(Bucket=BUCKET),
        "list buckets": lambda: s3.list_buckets(),
        "create bucket": lambda: s3.create_bucket(Bucket="other"),
        "get policy": lambda: s3.get_bucket_policy(Bucket=BUCKET),
    }
    for action, call in denied.items():
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDenied", action
    # The delete was refused, so the object is still there.
    assert minio.s3(minio.root).head_object(Bucket=BUCKET, Key=GIF_KEY)["ContentLength"] > 0


def test_objects_outside_the_bucket_are_unreachable(app, minio):
    root = minio.s3(minio.root)
    other = f"private-other-{app.host}"  # one MinIO serves the runs of both hosts
    root.create_bucket(Bucket=other)
    root.put_object(Bucket=other, Key="secret.txt", Body=b"top secret")
    # Path traversal to another bucket is rejected before it reaches MinIO...
    assert app.get(f"/../{other}/secret.txt").status_code in (400, 404)
    # ...and a key that names it is looked up inside the configured bucket only.
    response = app.get(f"/{other}/secret.txt")
    assert response.status_code == 404
    assert b"top secret" not in response.content


def test_listing_is_never_exposed(app):
    for path in ("/", "/?list-type=2", "/?prefix=", "/?acl"):
        response = app.get(path)
        assert "ListBucketResult" not in response.text and "<Contents>" not in response.text


def test_logs_and_responses_never_contain_credentials(app, minio, app_credentials):
    app.get("/missing.gif")
    app.get("/%zz")
    log = app.logs()
    for secret in (app_credentials.secret_key, minio.root.secret_key):
        assert secret not in log
    response = app.get("/missing.gif")
    assert app_credentials.access_key not in response.text and app_credentials.secret_key not in response.text
