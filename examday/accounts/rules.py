"""Who may create which account, and whom a staff-bound account may act as (separation of duties).

DESIGN.md, "Who is trusted with what": the system does not trust an institution's exam office
with the record it is judged by. So the office runs its own people's accounts, but it cannot
mint the accounts that judge it — a provincial centre (which reads its results and suspends
filings), another installation administrator, or the external quality supervisor (质量督导员)
whom the centre sends — and it cannot make an account that signs scores as somebody else.

Only the installation administrator (an ``admin`` with no institution) and the operator at the
command line (``system``) create those. Every account bound to a person is bound to one of the
institution's own staff whose role matches what the account does, and to nobody already acting
under another active account (R-STAFF-4: every action is attributable to one person).
"""

from __future__ import annotations

from examday.actor import Actor
from examday.errors import Refusal

# The roles an institution's own admin may create, within its institution.
OFFICE_ROLES = ("admin", "kiosk", "proctor", "evaluator", "chief", "supervisor")
# The staff role (examday/registry/models.py Staff.roles) an account of each role acts as.
STAFF_ROLE_OF = {"evaluator": "examiner", "chief": "examiner", "proctor": "proctor", "supervisor": "supervisor"}
# An examiner's entries are signed, hidden from colleagues and recused by staff member: an
# evaluator or chief account that is nobody would sign as nobody and see everyone's entries.
STAFF_REQUIRED = ("evaluator", "chief")
STAFF_ROLE_ZH = {"examiner": "考评员", "proctor": "监考员", "supervisor": "内部质量督导员"}
RULE_OF_STAFF_ROLE = {"examiner": "R-STAFF-2", "proctor": "R-STAFF-3", "supervisor": "R-STAFF-2"}


def grant_refusal(by: Actor, role: str, institution_id: int | None, staff_id: int | None) -> Refusal | None:
    """Why ``by`` may not create an account of ``role`` in ``institution_id``, or None.

    The binding itself (that the staff member exists, is the institution's, has the role and is
    free) needs the database: examday/accounts/services/accounts.py checks it for every caller."""
    if by.role == "system" or by.is_installation_admin:
        return None
    if by.role != "admin":
        return Refusal(
            "forbidden",
            "只有机构管理员或系统管理员可以添加账号",
            "Only the installation administrator or the institution's admin may add accounts.",
            "R-STAFF-4",
            403,
        )
    if role not in OFFICE_ROLES or institution_id is None or (role == "supervisor" and staff_id is None):
        # A centre, an installation administrator, an external supervisor: those who check the office.
        return Refusal(
            "installation_admin_only",
            "省级中心、系统管理员和外部质量督导员账号只能由系统管理员创建",
            "Only the installation administrator creates centre accounts, installation administrators "
            "and external quality supervisors.",
            "R-STAFF-4",
            403,
            {"role": role},
        )
    if institution_id != by.institution_id:
        return Refusal(
            "forbidden",
            "只能为本机构添加账号",
            "An institution's admin adds accounts to its own institution only.",
            "R-STAFF-4",
            403,
        )
    return None


def binding_refusal(
    role: str,
    institution_id: int | None,
    staff_id: int | None,
    staff_institution_id: int | None,
    staff_roles: frozenset[str] | None,
    staff_active: bool,
    bound_to: str | None,
) -> Refusal | None:
    """Why an account of ``role`` may not act as staff member ``staff_id``, or None.

    ``staff_institution_id`` is None when there is no such staff member; ``bound_to`` is the
    username of another active account already acting as them."""
    if staff_id is None:
        if role in STAFF_REQUIRED:
            # R-SCORE-1 (the examiner signs their own score) and R-RECUSE-1 (recusal is by person).
            return Refusal(
                "staff_required",
                "考评员和主考账号必须对应本机构的一名考评员",
                "An evaluator or chief account is bound to one of the institution's examiners (staff_id).",
                "R-SCORE-1",
                422,
                {"role": role, "also": "R-RECUSE-1"},
            )
        return None
    needed = STAFF_ROLE_OF.get(role)
    if needed is None:
        return Refusal(
            "staff_not_for_role",
            "该角色的账号不对应工作人员",
            f"A {role} account is not bound to a staff member.",
            "R-STAFF-4",
            422,
            {"role": role},
        )
    if staff_institution_id is None or staff_institution_id != institution_id:
        return Refusal(
            "staff_not_in_institution",
            "该工作人员不属于本机构",
            "The staff member is not one of this institution's.",
            "R-STAFF-4",
            422,
            {"staff_id": staff_id},
        )
    if not staff_active:
        return Refusal(
            "staff_inactive",
            "该工作人员已停用",
            "The staff member is inactive.",
            "R-STAFF-4",
            422,
            {"staff_id": staff_id},
        )
    if needed not in (staff_roles or frozenset()):
        return Refusal(
            "staff_role_mismatch",
            f"{role} 账号只能对应{STAFF_ROLE_ZH[needed]}",
            f"A {role} account acts as a staff member with the role {needed}.",
            RULE_OF_STAFF_ROLE[needed],
            422,
            {"staff_id": staff_id, "needs": needed},
        )
    if bound_to is not None:
        return Refusal(
            "staff_already_bound",
            "该工作人员已有一个启用的账号",
            "The staff member already acts under another active account.",
            "R-STAFF-4",
            409,
            {"staff_id": staff_id, "account": bound_to},
        )
    return None
