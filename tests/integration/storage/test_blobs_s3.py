"""The blob store on S3-compatible storage (a real S3 HTTP server, moto's): the same
calls as the local folder, content-addressed, never overwritten, checksums kept
by the store and checked on reading (R-ARCH-1, R-AUDIT-1)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from examday.settings import Settings
from storage import blobs_s3
from storage.blobs import BlobStore, open_blob_store
from storage.blobs_s3 import S3BlobStore, S3Config, S3Error


def test_put_read_exists_and_delete_under_the_prefix(s3):
    store = S3BlobStore(s3.client, s3.bucket, "blobs/")
    ref = store.put(b"sign-in sheet", ".png")
    digest = hashlib.sha256(b"sign-in sheet").hexdigest()
    assert ref.key == f"{digest[:2]}/{digest[2:4]}/{digest}.png" and ref.sha256 == digest and ref.size == 13
    assert s3.keys() == [f"blobs/{ref.key}"]  # the local store's key, under the prefix
    assert store.read(ref.key) == b"sign-in sheet" and store.exists(ref.key)
    assert not store.exists("00/00/" + "0" * 64)
    with pytest.raises(FileNotFoundError):
        store.read("00/00/" + "0" * 64)
    # The store kept the SHA-256 it was sent and checked: a HEAD shows it without reading.
    assert blobs_s3.head(s3.client, s3.bucket, f"blobs/{ref.key}").sha256 == digest
    assert store.delete(ref.key) and not store.exists(ref.key)
    with pytest.raises(ValueError):
        store.object_key("../../other-bucket/x")


def test_an_existing_object_is_never_overwritten(s3):  # R-AUDIT-1
    store = S3BlobStore(s3.client, s3.bucket, "blobs")
    ref = store.put(b"original")
    key = f"blobs/{ref.key}"
    written = s3.client.head_object(Bucket=s3.bucket, Key=key)["LastModified"]
    assert store.put(b"original") == ref  # the same bytes are the same blob
    # Other bytes under a taken name are refused by the store (If-None-Match), never written.
    other = b"forged"
    assert blobs_s3.put(s3.client, s3.bucket, key, other, hashlib.sha256(other).hexdigest(), 6) == "conflict"
    assert store.read(ref.key) == b"original"
    assert s3.client.head_object(Bucket=s3.bucket, Key=key)["LastModified"] == written


def test_a_damaged_object_is_refused_when_read(s3):  # R-AUDIT-1
    store = S3BlobStore(s3.client, s3.bucket, "")
    ref = store.put(b"exam-room record")
    s3.client.put_object(Bucket=s3.bucket, Key=ref.key, Body=b"exam-room recorf")  # bit rot, or a hand
    with pytest.raises(S3Error, match="does not hash to its name"):
        store.read(ref.key)


def test_the_settings_choose_the_store(s3, tmp_path):
    local = open_blob_store(Settings(data_dir=tmp_path, hook_secret="h", secret_key="k"))
    assert isinstance(local, BlobStore) and local.root == tmp_path / "blobs"
    env = {
        "EXAMDAY_BLOB_URL": f"s3://{s3.bucket}/examday/blobs",
        "EXAMDAY_S3_ENDPOINT_URL": s3.endpoint,
        "EXAMDAY_S3_REGION": "us-east-1",
        "EXAMDAY_S3_ADDRESSING": "path",
        "EXAMDAY_DATA_DIR": str(tmp_path),
        "EXAMDAY_HOOK_SECRET": "h",
        "EXAMDAY_SECRET_KEY": "k",
    }
    settings = Settings.from_env(env)
    assert settings.s3 == S3Config(s3.endpoint, "us-east-1", "path")
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore) and (store.bucket, store.prefix) == (s3.bucket, "examday/blobs")
    ref = store.put(b"photo", ".jpg")
    assert s3.keys() == [f"examday/blobs/{ref.key}"]
    with pytest.raises(ValueError, match="EXAMDAY_S3_ADDRESSING must be path, virtual or auto"):
        Settings.from_env({**env, "EXAMDAY_S3_ADDRESSING": "sideways"})
    assert Settings.from_env({**env, "EXAMDAY_S3_ADDRESSING": " Virtual "}).s3.addressing == "virtual"
    bare = {k: v for k, v in env.items() if not k.startswith("EXAMDAY_S3_")}
    assert Settings.from_env(bare).s3 == S3Config(None, None, "auto")  # unset: AWS
    with pytest.raises(ValueError):
        blobs_s3.parse_url("s3://No_Such/x")


def test_the_app_keeps_its_files_in_the_bucket(s3, tmp_path, db_url):
    from examday.app import create_app

    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        hook_secret="h",
        secret_key="k",
        blob_url=f"s3://{s3.bucket}/blobs",
        s3=s3.config,
    ).resolved()
    app = create_app(settings)
    ref = app.state.blobs.put(b"\x89PNG exam-room record", ".png")
    assert s3.has(f"blobs/{ref.key}") and not any(Path(tmp_path / "data").rglob("*.png"))
