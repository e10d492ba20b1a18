"""The report's command line (issue #17, R-PUB-2, R-AUDIT-1): a package that travels on a USB stick.

``examday report export`` on the institution's installation, ``report keys``, ``report token``,
``report import`` and ``report checkpoints`` on the centre's, ``audit verify --checkpoints`` back
on the institution's. One database plays both parts here."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlmodel import Session

from examday.registry.models import Institution
from tests.integration.scoring.test_exports import AFTER_END


@pytest.fixture
def run(settings, monkeypatch, capsys):
    from examday import cli
    from storage.db import make_engine

    monkeypatch.setattr(cli, "_engine", lambda s: make_engine(s.database_url))  # schema from the models

    def run(*argv: str) -> tuple[int, str, str]:
        args = cli.parser().parse_args(list(argv))
        code = args.fn(args, settings)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_r_pub_2_export_import_and_checkpoints_from_the_command_line(approved, run, engine, tmp_path):
    with Session(engine) as db:
        uscc = db.get(Institution, approved.institution_id).uscc
    package = tmp_path / "report.zip"
    code, out, err = run("report", "export", str(approved.batch_id), "--to", str(package))
    assert code == 0, err
    assert zipfile.is_zipfile(package)

    listed = approved.client.get(f"/api/v1/institutions/{approved.institution_id}/ticket-keys", headers=approved.admin)
    (tmp_path / "keys.json").write_text(json.dumps(listed.json()))
    assert run("report", "import", str(package))[0] == 1  # no key registered yet
    assert run("report", "keys", uscc, str(tmp_path / "keys.json"), "--province", "吉林")[0] == 0
    code, out, _ = run("report", "token", uscc)
    assert code == 0 and out.strip().startswith("rpt_")

    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(package) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["certificates.csv"] += b"\r\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    broken.write_bytes(buf.getvalue())
    code, _, err = run("report", "import", str(broken))
    assert code == 1 and "package_file_mismatch" in err and "certificates.csv" in err

    code, out, err = run("report", "import", str(package))
    assert code == 0 and f"batch {approved.batch_id}" in out, err

    held = tmp_path / "checkpoints.json"
    assert run("report", "checkpoints", uscc, "--to", str(held))[0] == 0
    assert json.loads(held.read_text())
    code, out, _ = run("audit", "verify", "--checkpoints", str(held))
    assert code == 0 and "passes through every checkpoint" in out


def test_r_pub_2_export_refuses_before_approval(sw, clock, run):
    sw.ready_for_publicity()
    sw.publish()
    clock.at = AFTER_END
    assert sw.lock().status_code == 200
    code, _, err = run("report", "export", str(sw.batch_id))
    assert code == 1 and "review_pending" in err
