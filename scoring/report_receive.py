"""The centre's side of the report (数据上报): verify a package and keep it, R-PUB-2, R-AUDIT-1, issue #17.

An installation acts as a centre: it registers each institution's public keys once (and their
rotations) and issues the institution a report token (``scoring.report_keys``), and takes packages (:func:`receive`): by ``POST /api/v1/centre/reports`` from the centre's own
account or the institution's token, or by ``examday report import FILE`` from a USB stick.

A package is refused, with a stable reason code, when its manifest's signature does not verify
under a registered key of its institution (``unknown_institution_key``,
``package_signature_invalid``), when a file differs from the SHA-256 its manifest lists or is
missing or extra (``package_file_mismatch``), when its seal is not signed by the institution or
is not the one printed on its results (``package_seal_invalid``), when its counts disagree with
its files (``package_counts_mismatch``), when a checkpoint it carries is not signed
(``package_checkpoint_invalid``) or contradicts one the centre already holds
(``audit_checkpoint_conflict``: the institution's chain was rewritten). A refusal is kept too
(``ReceivedReport`` with status ``refused``), in its own transaction, for the centre's dashboard.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from examday import audit
from examday.access import can_act_as_centre_for
from examday.actor import Actor
from examday.checkpoints import CHECKPOINT_V1, INSTALLATION_CHAIN, signature_holds
from examday.clock import iso
from examday.errors import Refusal, forbidden
from scoring import report_keys
from scoring import report_package as pkg
from scoring.report_models import ReceivedCheckpoint, ReceivedReport, ReportKey
from scoring.services.lock import seal_payload
from storage.blobs import BlobStore

MAX_PACKAGE_BYTES = 64 * 1024 * 1024


def _refuse(code: str, zh: str, en: str, status: int = 422, **detail: Any) -> Refusal:
    return Refusal(code, zh, en, "R-PUB-2", status, detail)


# -- verifying a package --------------------------------------------------------------------


def _verify_sig(public_key: str, data: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), data
        )
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _member(z: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return z.read(name)
    except KeyError:
        return None
    # A CRC error, or zlib's own when a flipped bit breaks the compressed stream itself.
    except (zipfile.BadZipFile, OSError, ValueError, zlib.error):
        raise _refuse(
            "package_file_mismatch",
            f"数据包中的文件 {name} 已被改动",
            f"The file {name} in the package was altered.",
            path=name,
        ) from None


def verify(db: Session, data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and files of a sound package, or the refusal naming what is wrong (R-PUB-2)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse("package_unreadable", "数据包无法打开", "The package is not a readable ZIP file.") from None
    raw_manifest, raw_sig = _member(z, "manifest.json"), _member(z, "manifest.sig")
    if raw_manifest is None or raw_sig is None:
        raise _refuse("package_unreadable", "数据包缺少清单或签名", "The package has no manifest or no signature.")
    try:
        manifest, sig = json.loads(raw_manifest), json.loads(raw_sig)
        uscc, kid = str(manifest["institution"]["uscc"]), str(sig["kid"])
    except (ValueError, KeyError, TypeError):
        raise _refuse("package_unreadable", "清单无法读取", "The manifest cannot be read.") from None
    if manifest.get("format") != pkg.FORMAT:
        raise _refuse("package_format_unknown", "数据包格式未知", f"Unknown package format {manifest.get('format')!r}.")
    keys = {k.kid: k for k in db.exec(select(ReportKey).where(ReportKey.uscc == uscc)).all()}
    key = keys.get(kid)
    if key is None or (key.retired_at is not None and key.retired_at <= _created(manifest)):
        raise _refuse(
            "unknown_institution_key",
            "数据包的签名密钥未在评价中心登记",
            "The package is signed with a key the centre has not registered for this institution.",
            uscc=uscc,
            kid=kid,
        )
    if not _verify_sig(key.public_key, raw_manifest, str(sig.get("signature", ""))):
        raise _refuse(
            "package_signature_invalid", "数据包签名无效", "The manifest's signature does not verify.", kid=kid
        )
    files: dict[str, bytes] = {}
    listed = {str(f["path"]): f for f in manifest.get("files", [])}
    extra = sorted(set(names) - set(listed) - {"manifest.json", "manifest.sig"})
    if extra:
        raise _refuse("package_file_mismatch", "数据包含有清单之外的文件", "Files not in the manifest.", paths=extra)
    for path, entry in listed.items():
        content = _member(z, path)
        if content is None or pkg.sha256(content) != entry.get("sha256"):
            raise _refuse(
                "package_file_mismatch",
                f"文件 {path} 与清单不符",
                f"The file {path} does not match its SHA-256 in the manifest.",
                path=path,
            )
        files[path] = content
    _verify_seal(manifest, keys, files)
    _verify_counts(manifest, files)
    for cp in [manifest.get("checkpoint"), *manifest.get("checkpoints", []), manifest.get("report_checkpoint")]:
        if cp is None:
            continue
        held = keys.get(str(cp.get("kid")))
        if held is None or cp.get("uscc") != uscc or not signature_holds(held.public_key, cp):
            raise _refuse(
                "package_checkpoint_invalid",
                "数据包中的审计检查点签名无效",
                "A checkpoint in the package is not signed by the institution.",
                seq=cp.get("seq"),
            )
    return manifest, files


def _created(manifest: dict[str, Any]) -> datetime:
    """When the package says it was made: a key retired (rotated out) before then did not sign it."""
    try:
        return datetime.fromisoformat(str(manifest.get("created_at")))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def _verify_seal(manifest: dict[str, Any], keys: dict[str, ReportKey], files: dict[str, bytes]) -> None:
    seal = manifest.get("seal") or {}
    key = keys.get(str(seal.get("kid")))
    try:
        payload = seal_payload(
            int(seal["batch_id"]), str(seal["digest"]), datetime.fromisoformat(seal["locked_at"]), seal["version"]
        )
    except (KeyError, ValueError, TypeError):
        payload = b""
    if key is None or not payload or not _verify_sig(key.public_key, payload, str(seal.get("signature", ""))):
        raise _refuse("package_seal_invalid", "封存签名无效", "The seal is not signed by the institution (R-SCORE-3).")
    if pkg.results_seal_digest(files.get("results.csv", b"")) != seal.get("digest"):
        raise _refuse(
            "package_seal_invalid",
            "成绩汇总表上的封存摘要与清单不符",
            "The seal printed on results.csv is not the manifest's.",
        )


def _verify_counts(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    counts = manifest.get("counts") or {}
    rows, passed = pkg.result_rows(files.get("results.csv", b""))
    certs = pkg.certificate_rows(files.get("certificates.csv", b""))
    found = {"candidates": rows, "passed": passed, "certificates": certs}
    wrong = {k: {"manifest": counts.get(k), "files": v} for k, v in found.items() if counts.get(k) != v}
    if counts.get("sealed_results") != rows:
        wrong["sealed_results"] = {"manifest": counts.get("sealed_results"), "files": rows}
    if wrong:
        raise _refuse(
            "package_counts_mismatch", "数据包的人数与文件不符", "The counts disagree with the files.", counts=wrong
        )


def _checkpoint_conflicts(db: Session, uscc: str, manifest: dict[str, Any]) -> None:
    """R-AUDIT-1: a checkpoint at a sequence number the centre holds with another hash means the
    institution's chain was rewritten since."""
    for cp in [manifest.get("checkpoint"), *manifest.get("checkpoints", []), manifest.get("report_checkpoint")]:
        if cp is None:
            continue
        other = db.exec(
            select(ReceivedCheckpoint).where(
                ReceivedCheckpoint.uscc == uscc,
                ReceivedCheckpoint.version == str(cp.get("version", CHECKPOINT_V1)),
                ReceivedCheckpoint.seq == int(cp["seq"]),
                ReceivedCheckpoint.hash != cp["hash"],
            )
        ).first()
        if other is not None:
            raise Refusal(
                "audit_checkpoint_conflict",
                f"审计检查点 {other.seq} 与评价中心已持有的不一致：机构的审计记录已被改写",
                f"Checkpoint {other.seq} differs from the one the centre holds: the institution's audit chain was rewritten.",
                "R-AUDIT-1",
                422,
                {"seq": other.seq, "held": other.hash, "received": cp["hash"]},
            )


def receive(
    db: Session,
    actor: Actor | None,
    token_for: str | None,
    now: datetime,
    data: bytes,
    blobs: BlobStore | None,
    via: str,
) -> dict[str, Any]:
    """Verify and keep a package; a refusal raises (the caller keeps a record of it)."""
    if token_for is None and (actor is None or not (actor.is_installation_admin or actor.role in ("centre", "system"))):
        raise forbidden("Only a centre, or an institution with the report token its centre issued, sends packages.")
    if len(data) > MAX_PACKAGE_BYTES:
        raise _refuse("package_too_large", "数据包过大", "The package is too large.", 413)
    manifest, _ = verify(db, data)
    uscc = str(manifest["institution"]["uscc"])
    if token_for is not None:
        if token_for != uscc:
            raise forbidden("This report token was issued to another institution.")
    elif actor is None or not can_act_as_centre_for(actor, report_keys.province_of(db, uscc)):
        raise forbidden("Only the centre of the institution's province receives its reports.")
    _checkpoint_conflicts(db, uscc, manifest)
    digest = pkg.sha256(data)
    again = db.exec(
        select(ReceivedReport).where(ReceivedReport.sha256 == digest, ReceivedReport.status == "accepted")
    ).first()
    if again is not None:
        return receipt(again)  # the same package pushed again: the same answer
    row = ReceivedReport(
        uscc=uscc,
        batch_ref=int(manifest["batch"]["id"]),
        sha256=digest,
        size=len(data),
        status="accepted",
        manifest=json.dumps(manifest, ensure_ascii=False, sort_keys=True),
        blob_key=blobs.put(data, ".zip").key if blobs is not None else None,
        issue_date=(manifest.get("reporting") or {}).get("issue_date"),
        received_at=now,
        received_by=actor.account_id if actor else None,
        via=via,
    )
    db.add(row)
    for cp in [manifest.get("checkpoint"), *manifest.get("checkpoints", []), manifest.get("report_checkpoint")]:
        if cp is None:
            continue
        exists = db.exec(
            select(ReceivedCheckpoint.id).where(
                ReceivedCheckpoint.uscc == uscc,
                ReceivedCheckpoint.version == str(cp.get("version", CHECKPOINT_V1)),
                ReceivedCheckpoint.seq == int(cp["seq"]),
                ReceivedCheckpoint.hash == cp["hash"],
                ReceivedCheckpoint.reason == cp["reason"],
            )
        ).first()
        if exists is None:
            db.add(
                ReceivedCheckpoint(
                    uscc=uscc,
                    version=str(cp.get("version", CHECKPOINT_V1)),
                    seq=int(cp["seq"]),
                    hash=str(cp["hash"]),
                    at=str(cp["at"]),
                    reason=str(cp["reason"]),
                    kid=str(cp["kid"]),
                    signature=str(cp["signature"]),
                    received_at=now,
                )
            )
            db.flush()
    db.flush()
    audit.record(
        db,
        actor or Actor(None, f"report-token:{uscc}", "system", None),
        "centre.report_received",
        "received_report",
        row.id,
        {"uscc": uscc, "batch": row.batch_ref, "sha256": digest, "via": via},
        now,
    )
    return receipt(row)


def receipt(row: ReceivedReport) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "code": row.code,
        "uscc": row.uscc,
        "batch_ref": row.batch_ref,
        "sha256": row.sha256,
        "size": row.size,
        "received_at": iso(row.received_at),
    }


def keep_refusal(engine: Any, refusal: Refusal, data: bytes, now: datetime, actor: Actor | None, via: str) -> None:
    """A refused package is kept as a row, in its own transaction (the request's rolls back), so the
    centre's dashboard lists what was refused and why."""
    uscc, batch_ref = "", None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            m = json.loads(z.read("manifest.json"))
        uscc, batch_ref = str(m["institution"]["uscc"])[:18], int(m["batch"]["id"])
    except Exception:  # an unreadable package keeps its digest and reason only
        pass
    with Session(engine) as db:
        db.add(
            ReceivedReport(
                uscc=uscc,
                batch_ref=batch_ref,
                sha256=pkg.sha256(data),
                size=len(data),
                status="refused",
                code=refusal.code,
                received_at=now,
                received_by=actor.account_id if actor else None,
                via=via,
            )
        )
        db.commit()


def held_checkpoints(db: Session, actor: Actor, uscc: str) -> list[dict[str, Any]]:
    """The checkpoints the centre holds for an institution, as ``examday audit verify --checkpoints``
    reads them (docs/report-format.md)."""
    if not can_act_as_centre_for(actor, report_keys.province_of(db, uscc)):
        raise forbidden("Only the centre of the institution's province reads its checkpoints.")
    rows = db.exec(
        select(ReceivedCheckpoint)
        .where(ReceivedCheckpoint.uscc == uscc)
        .order_by(col(ReceivedCheckpoint.version), col(ReceivedCheckpoint.seq))
    ).all()
    return [
        {
            "version": r.version,
            "uscc": r.uscc,
            "chain": INSTALLATION_CHAIN if r.version == CHECKPOINT_V1 else r.uscc,
            "seq": r.seq,
            "hash": r.hash,
            "at": r.at,
            "reason": r.reason,
            "kid": r.kid,
            "signature": r.signature,
        }
        for r in rows
    ]


def received_list(db: Session, actor: Actor) -> list[dict[str, Any]]:
    """The packages received or refused, newest first, for the centre of their province."""
    provinces = {k.uscc: k.province for k in db.exec(select(ReportKey)).all()}
    out = []
    for row in db.exec(select(ReceivedReport).order_by(col(ReceivedReport.id).desc())).all():
        province = provinces.get(row.uscc)
        if province is None and not actor.is_installation_admin:
            continue
        if province is not None and not can_act_as_centre_for(actor, province):
            continue
        out.append(receipt(row))
    return out
