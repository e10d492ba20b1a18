"""Start-up registration: every package hands its providers to the layers below (DESIGN.md "Layout").

storage registers nothing by itself and examday's core imports no domain
package, so what they need from above (video segments for the purge, what a
hold covers, the audit chain, who was admitted, which parts are scored) is registered here, once,
before anything runs: by :func:`examday.app.create_app`, by the command line
and by the tests. Like the application factory, this module composes the
packages and sits outside examday's core.
"""

from __future__ import annotations

from examday.plans import retention as plans_retention
from examday.records import retention as records_retention
from examday.registry import retention as registry_retention
from kiosk import providers as kiosk_providers
from proctor import retention as proctor_retention
from proctor.services import incidents_port as proctor_incidents
from scoring import providers as scoring_providers


def register_all() -> None:
    """Register every package's providers; calling it again registers the same ones again, harmlessly."""
    records_retention.register()
    registry_retention.register()
    plans_retention.register()
    kiosk_providers.register()
    proctor_retention.register()
    proctor_incidents.register()
    scoring_providers.register()
