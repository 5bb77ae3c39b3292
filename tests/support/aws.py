"""The AWS environment every test gets: dummy keys, config and credentials files, no IMDS."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

__all__ = [
    "CONFIG",
    "CREDENTIALS",
    "DEV_KEY_ID",
    "DUMMY_KEY_ID",
    "DUMMY_SECRET",
    "KNOWN_SECRETS",
    "PROD_KEY_ID",
    "isolate_aws_env",
]

DUMMY_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PROD_KEY_ID = "AKIAPRODEXAMPLE00001"
DEV_KEY_ID = "AKIADEVEXAMPLE000002"

CONFIG = """\
[default]
region = us-east-1

[profile prod]
region = eu-west-1

[profile dev]
region = us-west-2

[profile role]
region = us-east-1
role_arn = arn:aws:iam::123456789012:role/worker
source_profile = dev
"""

CREDENTIALS = f"""\
[default]
aws_access_key_id = {DUMMY_KEY_ID}
aws_secret_access_key = {DUMMY_SECRET}

[prod]
aws_access_key_id = {PROD_KEY_ID}
aws_secret_access_key = prod-secret-EXAMPLE-not-real-0000000000

[dev]
aws_access_key_id = {DEV_KEY_ID}
aws_secret_access_key = dev-secret-EXAMPLE-not-real-00000000000
"""

# What the log scan of every test looks for (tests add the secrets they invent).
KNOWN_SECRETS = frozenset(
    {
        DUMMY_SECRET,
        "prod-secret-EXAMPLE-not-real-0000000000",
        "dev-secret-EXAMPLE-not-real-00000000000",
    }
)


def isolate_aws_env(
    mp: pytest.MonkeyPatch, config: Path, credentials: Path, endpoint_url: str
) -> None:
    """Point every AWS setting at the given files and endpoint, with dummy keys and no IMDS.

    Parameters:
        mp: the test's monkeypatch, which undoes every change after the test.
        config: the AWS config file (``AWS_CONFIG_FILE``).
        credentials: the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``).
        endpoint_url: ``AWS_ENDPOINT_URL``, a loopback URL: every service's requests go there.
    """
    for name in list(os.environ):
        if name.startswith("AWS_"):
            mp.delenv(name)
    mp.setenv("AWS_CONFIG_FILE", str(config))
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
    mp.setenv("AWS_ENDPOINT_URL", endpoint_url)
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
    mp.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
