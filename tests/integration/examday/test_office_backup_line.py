"""The office's page says when the last good backup was made, and warns after 24 hours
without one (issue #19): a real backup through ``storage.backup.take_backup``, read back."""

from __future__ import annotations

import re
from datetime import timedelta

from storage.backup import take_backup
from tests.integration.examday.test_office_pages import institution, page
from tests.support import bearer


def _line(html: str) -> tuple[str, str]:
    m = re.search(r'<p id="backup"[^>]*data-state="(\w+)">(.*?)</p>', html, re.S)
    assert m, "no backup line"
    return m.group(1), m.group(2)


def test_the_office_sees_the_last_good_backup_and_is_warned_after_a_day(world, client, settings, clock):
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    office = world.token("office", "admin", iid)
    state, text = _line(page(client, office, "/office").text)
    assert state == "never" and "尚未备份" in text

    made = take_backup(settings.database_url, settings.data_dir, now=clock.now())
    state, text = _line(page(client, office, "/office").text)
    assert state == "good" and made.path.name in text
    assert clock.now().strftime("%Y-%m-%d") in text and "T" not in text.split("Last good backup")[0]

    clock.at = clock.now() + timedelta(hours=25)
    state, text = _line(page(client, office, "/office").text)
    assert state == "stale" and "已超过24小时未备份" in text and "25小时前" in text

    made.path.unlink()  # the archive is gone: no longer a good backup, whatever its age
    state, _ = _line(page(client, office, "/office").text)
    assert state == "bad"


def test_only_admins_see_the_backup_line(world, client):
    root = world.token("root", "admin")
    iid = institution(client, bearer(root))
    centre = world.token("centre-jl", "centre", None, province="吉林")
    r = page(client, centre, f"/office?iid={iid}")
    assert r.status_code == 200 and 'id="backup"' not in r.text
