"""R-INST-2: a filing (备案) is valid for exactly three years, never three years and a day (issue #15)."""

from __future__ import annotations

from tests.integration.examday.test_registry_api import body
from tests.support import assert_refusal, bearer


def test_a_filing_of_three_years_and_a_day_is_refused_r_inst_2(world, client):
    root = bearer(world.token("root", "admin"))
    # valid_until is a day of validity: from 2025-03-01, the third year's last day is 2028-02-29.
    r = client.post("/api/v1/institutions", headers=root, json=body(valid_from="2025-03-01", valid_until="2028-03-01"))
    got = assert_refusal(r, 422, "filing_too_long", "R-INST-2")
    assert got["detail"]["violations"][0]["detail"]["latest_valid_until"] == "2028-02-29"
    r = client.post("/api/v1/institutions", headers=root, json=body(valid_from="2025-03-01", valid_until="2028-02-29"))
    assert r.status_code == 201, r.text
