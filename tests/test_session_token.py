"""Temporary credentials: `s3_session_token` from MinIO's own STS (AssumeRole as the gateway's
user), and credentials MinIO refuses answered as a clear 502, never the 404 of a missing object."""
import boto3
import pytest

from testkit.hosts import app_env, start_app
from testkit.paths import GIF, GIF_KEY
from testkit.waits import stop


@pytest.fixture(scope="module")
def temporary(minio, app_credentials):
    sts = boto3.client("sts", endpoint_url=minio.url, region_name="us-east-1",
                       aws_access_key_id=app_credentials.access_key,
                       aws_secret_access_key=app_credentials.secret_key)
    creds = sts.assume_role(RoleArn="arn:xxx:xxx:xxx:xxxx", RoleSessionName="gif-gateway",
                            DurationSeconds=900)["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def temp_app(host, minio, app_credentials, tmp_path, access, secret, token):
    env = app_env(minio, app_credentials)
    env.update(SPIN_VARIABLE_S3_ACCESS_KEY=access, SPIN_VARIABLE_S3_SECRET_KEY=secret,
               SPIN_VARIABLE_S3_SESSION_TOKEN=token)
    return start_app(host, env, tmp_path)


def test_sts_credentials_serve_the_gif(host, minio, app_credentials, temporary, tmp_path):
    app = temp_app(host, minio, app_credentials, tmp_path, *temporary)
    try:
        response = app.get(f"/{GIF_KEY}")
        assert (response.status_code, response.content) == (200, GIF.read_bytes())
    finally:
        stop(app.proc)


@pytest.mark.parametrize("broken", ["token", "no-token"])
def test_refused_credentials_are_a_502_that_says_why(host, minio, app_credentials, temporary, tmp_path, broken):
    access, secret, token = temporary
    token = token[:-4] + "AAAA" if broken == "token" else ""
    app = temp_app(host, minio, app_credentials, tmp_path, access, secret, token)
    try:
        response = app.get(f"/{GIF_KEY}")
        assert (response.status_code, response.text) == (502, "object store refused the gateway's credentials\n")
        logs = app.logs()
        assert "refused the gateway's credentials: 403 (InvalidTokenId)" in logs, logs[-2000:]
        assert token not in logs or not token
    finally:
        stop(app.proc)
