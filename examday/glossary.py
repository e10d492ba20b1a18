"""The one glossary (术语表) that turns every code shown to a person into words, Chinese first
and English beneath (issue #16), and every time into the exam site's local time.

Codes stay codes on the wire (the API, CONTRACT.md); a page never prints one bare. Terms are
grouped by what they name (``camera_state``, ``part``, ``result`` …) because one code can mean
different things in two places. Add a group or a term here, never a second map in a package.

In templates: ``{{ cam.state|term('camera_state') }}`` prints ``录像中 <small>Recording</small>``;
``|zh('part')`` and ``|en('part')`` print one language; ``{{ at|local_time }}`` prints
``2026-12-06 09:05`` (China time) for an aware datetime or an ISO string, ``|local_hm`` ``09:05``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from storage.types import CST

TERMS: dict[str, dict[str, tuple[str, str]]] = {
    # The archive (存档, R-ARCH-1): what a document is and how long it is kept (examday/records).
    "archive_kind": {
        "sign_in_sheet": ("签到表", "Sign-in sheet"),
        "room_record": ("考场记录", "Exam-room record"),
        "score_summary": ("成绩汇总表", "Score summary"),
        "seal": ("封存记录", "Seal"),
        "results_export": ("成绩导出", "Results export"),
        "supervision_form": ("质量督导报告", "Supervision report"),
        "registration_form": ("报名表", "Registration form"),
        "pledge": ("诚信承诺书", "Integrity pledge"),
        "signed_sheet": ("签字材料", "Signed sheet"),
        "other": ("其他纸质材料", "Other paper"),
        "scoring_record": ("评分记录", "Scoring record"),
        "scoring_sheet": ("签字评分表", "Signed scoring sheet"),
        "work_photo": ("考件及图片", "Candidates' work and photos"),
    },
    "retention_class": {
        "key_documents": ("永久保存", "Kept permanently"),
        "electronic_records": ("电子资料（5年）", "Electronic records (5 years)"),
        "paper_scans": ("纸质资料（3年）", "Paper scans (3 years)"),
        "scoring_records": ("评分材料（1年）", "Scoring records (1 year)"),
        "candidate_answers": ("考件及图片（1年）", "Candidates' work (1 year)"),
        "exam_video": ("考试全过程视频", "Exam video"),
    },
    "role": {
        "admin": ("考务管理员", "Exam office"),
        "kiosk": ("签到机", "Check-in kiosk"),
        "proctor": ("监考员", "Proctor"),
        "evaluator": ("考评员", "Evaluator"),
        "chief": ("考评组长", "Chief evaluator"),
        "supervisor": ("质量督导员", "Quality supervisor"),
        "centre": ("评价中心", "Evaluation centre"),
    },
    "part": {
        "theory": ("理论知识考试", "Theory"),
        "skill": ("技能操作考核", "Skill"),
        "review": ("综合评审", "Comprehensive review"),
    },
    "batch_status": {
        "draft": ("草稿", "Draft"),
        "filed": ("已报送", "Filed"),
        "publicity": ("公示中", "In publicity"),
        "locked": ("已锁定", "Locked"),
    },
    # -- the exam office's and the installation administrator's pages (examday/plans, registry) --
    "candidate_status": {
        "registered": ("已报名", "Registered"),
        "withdrawn": ("已退考", "Withdrawn"),
    },
    "eligibility": {
        "pending": ("待审核", "Pending review"),
        "eligible": ("符合条件", "Eligible"),
        "ineligible": ("不符合条件", "Not eligible"),
    },
    "day_state": {
        "registered": ("已报名", "Expected"),
        "checked_in": ("已签到", "Checked in"),
        "absent": ("缺考", "Absent"),
        "withdrawn": ("已退考", "Withdrawn"),
    },
    "staff_role": {
        "examiner": ("考评员", "Examiner"),
        "proctor": ("监考员", "Proctor"),
        "supervisor": ("内部质量督导员", "Internal quality supervisor"),
        "staff": ("工作人员", "Staff"),
    },
    "title": {  # a staff member's professional title (R-STAFF-2)
        "none": ("无职称", "None"),
        "mid": ("中级", "Intermediate"),
        "senior": ("高级", "Senior"),
    },
    "room_kind": {
        "theory": ("理论考场", "Theory room"),
        "skill": ("技能考场", "Skill room"),
        "waiting": ("候考室", "Waiting room"),
        "affairs": ("考务室", "Exam-affairs room"),
    },
    "institution_kind": {
        "enterprise": ("用人单位（企业）", "Employer (enterprise)"),
        "training_org": ("社会培训评价组织", "Training and evaluation organisation"),
        "school": ("技工院校", "Technical school"),
    },
    "filing_state": {
        "active": ("有效", "Active"),
        "suspended": ("暂停评价活动", "Suspended"),
        "revoked": ("已撤销", "Revoked"),
        "expired": ("已过期", "Expired"),
        "not_yet_valid": ("尚未生效", "Not yet valid"),
        "none": ("无备案", "Not filed"),
    },
    "profile": {  # the institution's retention and timing profile (R-VIDEO-1, R-TIME-1)
        "strict": ("从严（取各省最严）", "Strict (the strictest of all provinces)"),
        "national": ("全国通用", "National"),
        "jilin": ("吉林省", "Jilin"),
        "sichuan": ("四川省", "Sichuan"),
        "fujian": ("福建省", "Fujian"),
    },
    "filing_action": {
        "suspend": ("暂停评价活动", "Suspend"),
        "revoke": ("撤销备案", "Revoke"),
        "reinstate": ("恢复", "Reinstate"),
        "renew": ("延续备案", "Renew"),
    },
    "camera_state": {
        "recording": ("录像中", "Recording"),
        "offline": ("掉线", "Offline"),
        "stale": ("无新录像", "No new footage"),
        "unknown": ("未知", "Unknown"),
    },
    "result": {
        "pass": ("合格", "Pass"),
        "fail": ("不合格", "Fail"),
        "absent": ("缺考", "Absent"),
        "cheating": ("按作弊处理", "Treated as cheating"),
        "void": ("成绩无效", "Void"),
        "incomplete": ("未完成", "Incomplete"),
    },
    # Scoring (issue #16): a part's state on the score table, the worklist and the chief's pages.
    "score_status": {
        "pending": ("待评", "To score"),
        "rescore": ("重评", "Re-scoring"),
        "arbitration": ("仲裁中", "In arbitration"),
        "final": ("已确定", "Final"),
        "absent": ("缺考", "Absent"),
        "missing": ("无成绩", "No score"),
        "void": ("无效", "Void"),
        "cheating": ("作弊", "Cheating"),
    },
    "objection_status": {
        "open": ("待处理", "Open"),
        "rejected": ("已驳回", "Rejected"),
        "rescoring": ("复评中", "Re-scoring"),
        "upheld": ("已维持", "Upheld"),
    },
    "objection_decision": {
        "rejected": ("驳回", "Reject"),
        "upheld": ("维持并复评", "Uphold and re-score"),
    },
    "theory_version": {
        "draft": ("待主考签认", "Awaiting the chief"),
        "signed": ("主考已签认", "Countersigned"),
        "superseded": ("已被新版本取代", "Superseded"),
    },
    "report_push_state": {
        "not_sent": ("未上报", "Not sent"),
        "pending": ("待上报", "To be sent"),
        "sent": ("已发送，待评价中心确认", "Sent, awaiting the centre"),
        "acknowledged": ("评价中心已确认接收", "Acknowledged by the centre"),
        "refused": ("评价中心拒收", "Refused by the centre"),
    },
    "review_state": {
        "awaiting": ("待复核", "Awaiting review"),
        "returned": ("已退回", "Returned"),
        "approved": ("已复核通过", "Approved"),
        "not_locked": ("未锁定", "Not locked"),
    },
    "arbitration_reason": {
        "spread": ("分差超过允许范围", "Spread over tolerance"),
        "split_pass_fail": ("合格与否意见不一", "Split on pass or fail"),
    },
    "arbitration_step": {
        "opened": ("提交仲裁", "Sent to arbitration"),
        "rescore": ("要求重新评分", "Re-score asked"),
        "accept": ("确认现有评分", "Scores accepted"),
        "objection_rescore": ("因异议重新评分", "Re-score after an objection"),
    },
    "score_method": {
        "mean": ("平均分", "Mean"),
        "median": ("中位数", "Median"),
        "trimmed_mean": ("去掉最高最低后平均", "Trimmed mean"),
    },
    "seal_trigger": {
        "auto": ("公示期满自动锁定", "Locked automatically"),
        "command": ("考务办公室锁定", "Locked by the office"),
    },
    # R-FMT-CERT: the first letter of a certificate number.
    "certificate_kind": {
        "Y": ("Y 用人单位（企业）", "Y employer"),
        "S": ("S 社会培训评价组织、院校", "S social organisation or school"),
    },
    "certificate_part": {
        "kind": ("类别", "Kind"),
        "institution_code": ("机构代码", "Institution code"),
        "province_code": ("省份代码", "Province code"),
        "site_serial": ("考点序号", "Site serial"),
        "year": ("年份", "Year"),
        "level": ("等级", "Level"),
        "serial": ("流水号", "Serial"),
    },
    # proctor/: the live rooms, the exam-room record, video coverage and supervision (issue #16)
    "seat_status": {
        "expected": ("应到", "Expected"),
        "present": ("已到", "Present"),
        "late": ("迟到", "Late"),
        "absent": ("缺考", "Absent"),
        "incident": ("违纪", "Incident"),
    },
    "room_alert": {
        "camera_down": ("摄像头异常", "Camera down"),
        "over_capacity": ("超员", "Over capacity"),
        "offline_conflict": ("离线签到冲突", "Offline check-in conflict"),
    },
    "coverage_cause": {
        "camera_offline": ("摄像头掉线", "Camera offline"),
        "no_hook_received": ("录像机未报告录像", "The recorder reported no footage"),
        "invalid_segment": ("录像片段无效", "Invalid segment"),
        "file_missing": ("录像文件缺失", "File missing"),
        "checksum_mismatch": ("录像文件校验不符", "File does not match its checksum"),
        "purged": ("已按保存期限清理", "Deleted at the end of its retention"),
    },
    "incident_kind": {  # R-DISC-1, the examples RULES.md gives for each tier
        "banned_items_after_warning": ("经警告仍携带违禁物品", "Banned items kept after a warning"),
        "wrong_seat": ("未按指定座位就座", "Not in the assigned seat"),
        "leaving_without_leave": ("未经许可擅自离开考场", "Left the room without leave"),
        "disturbance": ("扰乱考场秩序", "Disturbance"),
        "whispering_or_signalling": ("交头接耳、打手势", "Whispering or signalling"),
        "copying": ("抄袭他人答案", "Copying"),
        "passing_material": ("传递纸条、材料", "Passing material"),
        "false_identity": ("冒名顶替", "False identity"),
        "taking_papers_out": ("将试卷带出考场", "Taking papers out"),
        "identical_answers": ("答案雷同", "Identical answers"),
        "banned_device": ("携带违禁电子设备", "Carrying a banned device"),
        "using_electronic_device": ("使用电子设备作弊", "Using an electronic device"),
        "damaging_papers_or_work": ("损毁试卷或工件", "Damaging papers or work pieces"),
        "taking_content_out": ("将考试内容带出考场", "Taking exam content out"),
    },
    "incident_tier": {  # R-DISC-1: what the tier does to the candidate's result
        "a": ("该科目成绩无效", "This part's score is void"),
        "b": ("该科目按作弊处理", "This part is treated as cheating"),
        "c": ("本次考试各科目成绩均无效", "Every part of this sitting is void"),
    },
    "coverage_verdict": {  # R-VIDEO-1, proctor/video_controllers.py verdict()
        "not_started": ("未开始", "Not started"),
        "gaps": ("有缺口", "Gaps"),
        "unconfirmed": ("未确认（录像机未报告）", "Unconfirmed: no recorder has reported"),
        "complete": ("完整", "Complete"),
        "so_far": ("目前完整", "Complete so far"),
    },
    "record_status": {
        "not_produced": ("未生成", "Not produced"),
        "produced": ("已生成，待确认", "Produced, awaiting confirmation"),
        "confirming": ("部分监考员已确认", "Confirmed by some proctors"),
        "confirmed": ("已确认", "Confirmed"),
    },
    "supervision_area": {  # R-SUP-1
        "organisation": ("考务组织", "Exam organisation"),
        "eligibility": ("考生资格", "Candidate eligibility"),
        "questions_examiners": ("试题与考评人员", "Questions and examiners"),
        "rooms_equipment": ("考场与设备", "Rooms and equipment"),
        "fees": ("收费", "Fees"),
        "other": ("其他", "Other"),
    },
    "ticket_key_state": {  # R-DAY-1: an institution's signing keys (examday/plans/key_pages.py)
        "active": ("在用（签发新准考证）", "Active: signs new tickets"),
        "verifying": ("仅核验已发出的准考证", "Verifies tickets already out"),
        "revoked": ("已撤销", "Revoked"),
    },
    # A page's one name wherever it is linked or headed (issue #16). The coverage page answers the
    # regulations' "完整监控视频" (R-VIDEO-1): whether every camera's video of a session is complete.
    "page": {
        "coverage": ("监控视频完整性", "Video coverage"),
    },
    "validity_opinion": {
        "valid": ("本批次有效", "The batch is valid"),
        "partly_valid": ("本批次部分有效", "The batch is partly valid"),
        "invalid": ("本批次无效", "The batch is invalid"),
    },
}


def words(group: str, code: Any) -> tuple[str, str]:
    """(Chinese, English) for a code; an unknown code comes back as itself, so a missing term
    shows up in the visible-text test instead of breaking the page."""
    text = "" if code is None else str(code)
    return TERMS.get(group, {}).get(text, (text, text))


def zh(code: Any, group: str) -> str:
    return words(group, code)[0]


def en(code: Any, group: str) -> str:
    return words(group, code)[1]


def term(code: Any, group: str) -> Markup:
    """``中文 <small>English</small>``, escaped, for a page."""
    z, e = words(group, code)
    return Markup("{} <small>{}</small>").format(escape(z), escape(e)) if z != e else Markup(escape(z))


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value.astimezone(CST) if value.tzinfo else value.replace(tzinfo=CST)


def local_time(value: Any) -> str:
    """An instant as people at the exam site read it: ``2026-12-06 09:05`` (China time)."""
    at = _aware(value)
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M")


def local_hm(value: Any) -> str:
    at = _aware(value)
    return "" if at is None else at.strftime("%H:%M")


def install_template_filters(engine: Any) -> None:
    env = engine.engine
    env.filters["term"] = term
    env.filters["zh"] = zh
    env.filters["en"] = en
    env.filters["local_time"] = local_time
    env.filters["local_hm"] = local_hm
