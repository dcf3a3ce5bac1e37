"""Fixtures of the end-to-end checks against the cluster that e2e/run.sh started and applied;
the helpers they and the tests share are testkit.cluster and testkit.load."""

import pytest

from testkit.cluster import ROOT_SECRET, s3, secret, service_ip


@pytest.fixture(scope="session")
def root_s3():
    creds = secret(ROOT_SECRET)
    return s3(service_ip("gif-minio"), creds["rootUser"], creds["rootPassword"])


@pytest.fixture(scope="session")
def app_creds():
    creds = secret("gif-minio-app")
    return creds["accessKey"], creds["secretKey"]


@pytest.fixture(scope="session")
def root_creds():
    creds = secret(ROOT_SECRET)
    return creds["rootUser"], creds["rootPassword"]


@pytest.fixture(scope="session")
def mirror_creds():
    """The read replicas' user: lists and reads the bucket on the primary and on every replica
    (whose roots are random per pod and known to no Secret)."""
    creds = secret("gif-minio-mirror")
    return creds["accessKey"], creds["secretKey"]

