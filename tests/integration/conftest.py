"""Fixtures shared by the integration packages."""

from __future__ import annotations

import logging
import uuid

import pytest

from examday.settings import s3_config
from storage import blobs_s3
from tests.integration.storage.s3_support import S3World, s3_env, s3_vars


@pytest.fixture(scope="session")
def s3_endpoint():
    pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch) -> S3World:
    s3_env(monkeypatch)
    cfg = s3_config(s3_vars(s3_endpoint))  # as the settings build it from EXAMDAY_S3_*
    cli = blobs_s3.client(cfg)
    bucket = f"examday-{uuid.uuid4().hex[:12]}"
    cli.create_bucket(Bucket=bucket)
    return S3World(s3_endpoint, cfg, cli, bucket)
