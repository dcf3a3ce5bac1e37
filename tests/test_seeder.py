"""The seeder is idempotent and fails clearly."""
import re

from testkit.minio import Credentials
from testkit.paths import BUCKET, GIF_KEY
from testkit.seeder import run_seeder


def object_state(minio):
    head = minio.s3(minio.root).head_object(Bucket=BUCKET, Key=GIF_KEY)
    return head["ETag"], head["LastModified"]


def test_second_run_changes_nothing(minio, app_credentials, app):
    before = object_state(minio)
    result = run_seeder(minio, app_credentials)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^seeded: 0 changes?\b", result.stdout + result.stderr, re.M), result.stdout
    assert object_state(minio) == before
    assert app.get(f"/{GIF_KEY}").status_code == 200


def test_wrong_root_credentials_fail_clearly(minio, app_credentials):
    wrong = Credentials(minio.root.access_key, "definitely-not-the-password")
    result = run_seeder(minio, app_credentials, root=wrong)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "credential" in errors[0].lower()
    assert "panicked" not in result.stderr
    output = result.stdout + result.stderr
    for secret in (wrong.secret_key, app_credentials.secret_key, minio.root.secret_key):
        assert secret not in output


def test_unreachable_minio_fails_within_the_timeout(minio, app_credentials):
    result = run_seeder(minio, app_credentials, MINIO_ENDPOINT="http://127.0.0.1:1", READY_TIMEOUT_SECS="2")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error:")
    assert "panicked" not in result.stderr


def test_missing_gif_fails_clearly(minio, app_credentials, tmp_path):
    result = run_seeder(minio, app_credentials, OBJECT_FILE=str(tmp_path / "nope.gif"))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nope.gif" in errors[0], result.stderr
    assert "panicked" not in result.stderr
