"""The blob store writes atomically and never overwrites."""

from __future__ import annotations

import hashlib

from storage.blobs import BlobStore


def test_put_records_size_and_sha_and_reads_back(tmp_path):
    store = BlobStore(tmp_path)
    ref = store.put(b"sign-in sheet", ".png")
    assert ref.sha256 == hashlib.sha256(b"sign-in sheet").hexdigest() and ref.size == 13
    assert store.read(ref.key) == b"sign-in sheet"
    assert not list(tmp_path.rglob(".tmp-*"))  # no temp file left behind


def test_existing_blob_is_never_overwritten(tmp_path):
    store = BlobStore(tmp_path)
    ref = store.put(b"original")
    path = store.path(ref.key)
    mtime = path.stat().st_mtime_ns
    again = store.put(b"original")
    assert again == ref and path.stat().st_mtime_ns == mtime


def test_keys_cannot_escape_the_store(tmp_path):
    import pytest

    with pytest.raises(ValueError):
        BlobStore(tmp_path / "b").path("../../etc/passwd")
