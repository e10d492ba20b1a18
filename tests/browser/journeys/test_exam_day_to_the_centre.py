"""The same exam day, reported to the centre (issue #17, R-PUB-2): after the certificates
(``test_exam_day_review.py`` ran its steps on this story; the modules run in name order).

The office downloads the batch's signed package from its scores page and its institution's
public keys from its ticket-keys page (准考证签名密钥, ``/office/keys``); the centre of 吉林 takes both
to its page (the "USB stick" path): it registers the institution's public keys, a package with one
byte changed is refused with the reason, the sound one is received, and the dashboard shows the
batch received on time (30 working days from the certificates' issue date).
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.browser.journeys.conftest import sign_in
from tests.browser.journeys.day import at, scores_page

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def the_day_so_far(story):
    """These steps go on from test_exam_day_review.py's on the same story."""
    if "digest" not in story.facts:
        pytest.skip("the day's review steps (test_exam_day_review.py) did not run on this story")


def test_9_the_centre_receives_the_batchs_package_on_time(story, person):
    """R-PUB-2: the signed package verified and received on the centre's page, within 30 working days."""
    f = story.facts
    bid = f["bid"]
    story.set_time(at(23, 9, 0))  # the day after the certificates' issue date
    office = person()
    scores_page(office, story)
    assert office.get_attribute("#report-push", "data-state") == "not_sent"  # no centre URL configured
    with office.expect_download(timeout=60_000) as got:
        office.click("a[href$='/report.zip']")
    package = story.folder / got.value.suggested_filename
    got.value.save_as(package)
    data = package.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read("manifest.json"))
    uscc = manifest["institution"]["uscc"]
    # The office's keys page: the key that signed the tickets and the seal, and its public half as a file.
    office.goto(story.at("/"))
    office.click("a[href='/office']")
    office.click("#keys-link")
    key = office.locator("#key-list tr.key")
    assert key.count() == 1 and key.get_attribute("data-state") == "active"
    assert "在用" in key.inner_text() and "2026-11-26" in key.inner_text()  # made when the tickets were issued
    with office.expect_download() as got:
        office.click("#keys-download")
    assert got.value.suggested_filename == f"ticket-keys-{uscc}.json"
    keys_file = story.folder / got.value.suggested_filename
    got.value.save_as(keys_file)
    keys = keys_file.read_bytes()
    assert [k["kid"] for k in json.loads(keys)["keys"]] == [key.get_attribute("data-kid")]

    centre = person()
    centre.goto(story.at("/centre/reports"))
    sign_in(centre, story, "centre-jl")
    centre.goto(story.at("/centre/reports"))
    keys_form = centre.locator("#f-keys")
    keys_form.locator("input[name=uscc]").fill(uscc)
    keys_form.locator("input[name=name]").fill(manifest["institution"].get("name") or "")
    assert keys_form.locator("input[name=province]").input_value() == "吉林"  # the centre's own
    keys_form.locator("input[type=file]").set_input_files(
        {"name": keys_file.name, "mimeType": "application/json", "buffer": keys}
    )
    with centre.expect_navigation():
        keys_form.locator("button[type=submit]").click()
    assert centre.locator("#keys-registered li.key").count() >= 1

    # One byte of a file changed on the way: refused, with its reason, and nothing received.
    upload(centre, "changed.zip", one_byte_changed(data))
    refusal = centre.locator("#refusal")
    assert refusal.get_attribute("data-code"), refusal.inner_text()
    assert "R-PUB-2" in refusal.inner_text() and refusal.locator("code.code").count() >= 1
    assert centre.locator("#package-received").count() == 0

    upload(centre, package.name, data)
    received = centre.locator("#package-received")
    assert received.get_attribute("data-batch") == str(bid) and "核验通过" in received.inner_text()
    inst = centre.locator(f"#inst-{uscc}")
    assert inst.locator("td.reported").inner_text() == "1" and inst.locator("td.on-time").inner_text() == "1"
    assert inst.locator("td.late").inner_text() == "0" and inst.locator("td.refused").inner_text() == "1"
    row = centre.locator(f"#batch-{uscc}-{bid}")
    assert row.get_attribute("data-on-time") == "True" and "按期" in row.inner_text()


def one_byte_changed(package: bytes) -> bytes:
    """The package with one byte of its first data file flipped, zipped again: what the manifest's
    digest must catch. (A byte flipped in the ZIP's compressed stream lands anywhere — CRC, header,
    or a stream zlib cannot read — so it would test the ZIP reader, not the manifest.)"""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        names = z.namelist()
        victim = next(n for n in names if not n.startswith("manifest."))
        for name in names:
            body = bytearray(z.read(name))
            if name == victim:
                body[len(body) // 2] ^= 0x01
            w.writestr(name, bytes(body))
    return out.getvalue()


def upload(page, name: str, data: bytes) -> None:
    form = page.locator("#f-package")
    form.locator("input[type=file]").set_input_files({"name": name, "mimeType": "application/zip", "buffer": data})
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
