"""Codes and their names in Chinese and English, in one place: the API sends both, the
front-end picks by locale and never translates a code itself."""

from __future__ import annotations

from yibaodai.auth.roles import Role
from yibaodai.domain.case import CaseState
from yibaodai.domain.codes import DALIAN_DISTRICTS
from yibaodai.domain.ews.rules import RULES
from yibaodai.domain.model_version import Stage

Names = dict[str, tuple[str, str]]

ROLES: Names = {
    Role.BRANCH_ADMIN: ("分行管理员", "Branch administrator"),
    Role.BRANCH_MANAGER: ("分行部门总经理", "Branch department general manager"),
    Role.SUB_BRANCH_MANAGER: ("支行部门经理", "Sub-branch department manager"),
    Role.CLIENT_MANAGER: ("客户经理", "Client manager"),
    Role.AUDITOR: ("审计员", "Auditor"),
}

CASE_STATES: Names = {
    CaseState.ASSIGNED: ("已分配待认领", "Assigned, to claim"),
    CaseState.CLAIMED: ("已认领待核实", "Claimed, to verify"),
    CaseState.VERIFIED: ("已核实待确认", "Verified, to confirm"),
    CaseState.REJECTED: ("核实不通过", "Verification failed"),
    CaseState.CONFIRMED: ("已确认待上报", "Confirmed, to report"),
    CaseState.REPORTED: ("已上报总行", "Reported to head office"),
    CaseState.HO_REJECTED: ("总行退回", "Returned by head office"),
    CaseState.DRAWN: ("已放款", "Loan drawn"),
    CaseState.CLOSED: ("已结清", "Loan closed"),
}

FUNNEL: Names = {
    "authorized": ("已授权", "Authorized"),
    "decided": ("已决策", "Decided"),
    "admitted": ("准入", "Admitted"),
    "claimed": ("已认领", "Claimed"),
    "verified": ("已核实", "Verified"),
    "reported": ("已上报", "Reported"),
    "drawn": ("已放款", "Drawn"),
}

#: Funnel stage -> the case states that have reached it.
STAGE_STATES: dict[str, tuple[str, ...]] = {
    "admitted": tuple(s.value for s in CaseState),
    "claimed": ("claimed", "verified", "rejected", "confirmed", "ho_rejected", "reported",
                "drawn", "closed"),
    "verified": ("verified", "confirmed", "ho_rejected", "reported", "drawn", "closed"),
    "reported": ("reported", "drawn", "closed"),
    "drawn": ("drawn", "closed"),
}

DISTRICTS: Names = dict(DALIAN_DISTRICTS)

INSTITUTION_TYPES: Names = {
    "pharmacy": ("零售药店", "Retail pharmacy"),
    "clinic": ("诊所/门诊部", "Clinic"),
    "hospital": ("医院", "Hospital"),
    "other": ("其他", "Other"),
}

BIZ_STAS: Names = {"1": ("正常", "Operating"), "2": ("暂停", "Suspended"),
                   "3": ("终止", "Terminated")}

WARNING_LEVELS: Names = {"red": ("红色", "Red"), "orange": ("橙色", "Orange"),
                         "yellow": ("黄色", "Yellow"), "blue": ("蓝色", "Blue"),
                         # warnings raised before the four levels (rules of 2026.11)
                         "high": ("高", "High"), "medium": ("中", "Medium"),
                         "low": ("低", "Low")}
WARNING_STATES: Names = {"open": ("待处理", "Open"), "escalated": ("已升级", "Escalated"),
                         "closed": ("已处理", "Handled")}
WARNING_RULES: Names = {code: (rule.name_zh, rule.name_en) for code, rule in RULES.items()}

MODEL_STAGES: Names = {
    Stage.DRAFT: ("草稿", "Draft"), Stage.SUBMITTED: ("已提交待审批", "Submitted"),
    Stage.APPROVED: ("已审批", "Approved"), Stage.CHALLENGER: ("挑战者（影子运行）", "Challenger"),
    Stage.ACTIVE: ("生效中", "Active"), Stage.RETIRED: ("已停用", "Retired"),
    Stage.REJECTED: ("审批不通过", "Rejected"),
}

OUTBOX_STATUSES: Names = {
    "pending": ("待发送", "Pending"), "failed": ("发送失败重试中", "Failed, retrying"),
    "dead": ("已停止重试", "Dead"), "sent": ("已发送", "Sent")}
#: The deferred handlers' events (``flow_events``) as the outbox page shows them.
EVENT_STATUSES: Names = {
    "pending": ("待处理", "Pending"), "failed": ("处理失败重试中", "Failed, retrying"),
    "dead": ("已停止重试", "Dead"), "done": ("已处理", "Handled")}
OUTBOX_KINDS: Names = {
    "admission_result": ("准入结果（医保局）", "Admission result (bureau)"),
    "whitelist_entry": ("白名单上报（总行）", "Whitelist entry (head office)"),
    "limit_action": ("额度措施（总行）", "Limit action (head office)")}

DECISION_RESULTS: Names = {"admitted": ("准入", "Admitted"), "refused": ("拒绝", "Refused")}
DECISION_TRIGGERS: Names = {
    "first": ("首次决策", "First decision"),
    "profile-change": ("机构信息变化重评", "Re-decided: profile changed"),
    "penalty-event": ("医保处罚重评", "Re-decided: bureau penalty"),
    "fund-pay-change": ("结算收入变化重评", "Re-decided: settlement income changed"),
}

LOAN_STATUSES: Names = {"drawn": ("已放款", "Drawn"), "closed": ("已结清", "Closed"),
                        "overdue": ("逾期", "Overdue")}

CASE_EVENTS: Names = {
    "assigned": ("自动分配", "Assigned"),
    "claim": ("认领", "Claimed"),
    "verify_pass": ("核实通过", "Verification passed"),
    "verify_fail": ("核实不通过", "Verification failed"),
    "confirm": ("部门经理确认", "Confirmed by the department manager"),
    "mark_reported": ("已上报总行", "Reported to head office"),
    "mark_ho_rejected": ("总行退回", "Returned by head office"),
    "mark_drawn": ("已放款", "Loan drawn"),
    "mark_closed": ("已结清", "Loan closed"),
    "loan_status": ("总行贷款状态", "Loan status from head office"),
    "sla_breach": ("时效超时", "SLA deadline missed"),
    "reassigned": ("改派", "Reassigned"),
    "mismatch_override": ("不一致项放行", "Mismatches overridden"),
    "attachment_added": ("上传核实附件", "Attachment added"),
    "limit_action_requested": ("额度措施报送总行", "Limit action sent to head office"),
    "limit_action_acknowledged": ("总行确认额度措施", "Limit action acknowledged by head office"),
}

EVENT_TYPES: Names = {
    "penalty": ("医保处罚", "Penalty"), "suspension": ("暂停医保结算", "Suspension"),
    "designation_end": ("定点协议终止", "Designation ended"),
    "grade_change": ("信用等级变化", "Credit grade changed"),
    "staff_points": ("医保医师/药师记分", "Penalty points on staff")}

AUDIT_ACTIONS: Names = {
    "auth.login": ("登录", "Signed in"), "auth.token": ("签发接口令牌", "API token issued"),
    "auth.failed": ("登录失败", "Failed log-in"),
    "auth.throttled": ("登录限流", "Log-in throttled"),
    "auth.logout": ("退出登录", "Signed out"),
    "case.claim": ("认领案件", "Case claimed"), "case.verify_pass": ("核实通过", "Verified"),
    "case.verify_fail": ("核实不通过", "Verification failed"),
    "case.confirm": ("部门经理确认", "Confirmed"), "case.mark_reported": ("上报总行", "Reported"),
    "case.mark_ho_rejected": ("总行退回", "Returned by head office"),
    "case.mark_drawn": ("放款", "Drawn"), "case.mark_closed": ("结清", "Closed"),
    "warning.raised": ("预警产生", "Warning raised"),
    "warning.escalated": ("预警升级", "Warning escalated"),
    "warning.handled": ("预警处理", "Warning handled"),
    "warning.limit_action": ("额度措施报送总行", "Limit action reported"),
    "sla.breach": ("时效违约", "SLA breach"),
    "sla.penalty_lifted": ("解除时效处罚", "SLA penalty lifted"),
    "case.loan_status": ("总行贷款状态", "Loan status"),
    "case.reassigned": ("改派案件", "Case reassigned"),
    "case.attachment_added": ("上传核实附件", "Attachment added"),
    "case.attachment_downloaded": ("下载核实附件", "Attachment downloaded"),
    "case.mismatch_override": ("放行不一致项", "Mismatches overridden"),
    "retention.delete": ("数据到期删除", "Retention delete"),
    "user.created": ("新建用户", "User created"), "user.updated": ("修改用户", "User updated"),
    "user.password_changed": ("修改密码", "Password changed"),
    "user.password_reset": ("重置密码", "Password reset"),
    "user.locale": ("切换语言", "Language"),
    "export": ("导出", "Export"), "personal_data.view": ("查看个人信息", "Personal data viewed"),
    "outbox.retry": ("发件重试", "Outbox retry"),
    "flow_event.retry": ("延后事件重试", "Deferred event retry"),
    "retention.job_runs": ("作业运行记录到期删除", "Job runs pruned"),
    "retention.quarantine": ("隔离报文到期删除", "Quarantine pruned"),
    "backup.written": ("数据备份", "Backup written"),
    "backup.restored": ("数据恢复", "Backup restored"),
    "warning.updated": ("预警更新", "Warning updated"),
    "model.report": ("模型报告", "Model report"),
    "marketing.import": ("导入定点机构名单", "Institution list imported"),
    "marketing.campaign.create": ("新建营销活动", "Campaign created"),
    "marketing.assign": ("分派营销对象", "Campaign targets assigned"),
    "marketing.outreach": ("营销跟进", "Outreach recorded"),
    "marketing.authorization": ("营销对象授权", "Target authorized"),
    "marketing.do_not_contact": ("勿扰登记", "Do-not-contact recorded"),
}


def name(names: Names, code: str | None) -> tuple[str, str]:
    """Both names of ``code``; the code itself when it has none (never an error)."""
    if code is None:
        return ("", "")
    return names.get(code, (code, code))


def action_name(action: str) -> tuple[str, str]:
    if action in AUDIT_ACTIONS:
        return AUDIT_ACTIONS[action]
    if action.startswith("model."):
        return (f"模型版本：{action[6:]}", f"Model version: {action[6:]}")
    return (action, action)
