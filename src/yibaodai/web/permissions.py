"""The one permission table: every API route -> the permission it needs -> the roles that
hold it. ``deps.authorize`` enforces it for every request; ``/api/me`` lists the caller's
permissions (the front-end builds its menus from them, never from role names); the route x
role test checks every route against it. Export is a permission of its own, granted apart
from viewing. A route missing from ``ROUTES`` stops the app at start-up (``check_routes``)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from yibaodai.auth.roles import Role
from yibaodai.errors import ConfigurationError


class Permission(StrEnum):
    PUBLIC = "public"                    # no sign-in (log-in, health, signed gateway envelopes)
    SELF = "self"                        # any signed-in user: me, password, locale, tokens
    DASHBOARD_VIEW = "dashboard.view"
    OPTIONS_VIEW = "options.view"
    CASES_VIEW = "cases.view"
    CASES_EXPORT = "cases.export"
    CASES_CLAIM = "cases.claim"
    CASES_VERIFY = "cases.verify"
    CASES_CONFIRM = "cases.confirm"
    CASES_REASSIGN = "cases.reassign"
    CASES_OVERRIDE = "cases.override"
    CASES_ATTACH = "cases.attach"
    WARNINGS_VIEW = "warnings.view"
    WARNINGS_EXPORT = "warnings.export"
    WARNINGS_HANDLE = "warnings.handle"
    WARNINGS_LABELS = "warnings.labels"
    SETTLEMENT_VIEW = "settlement.view"
    MODELS_VIEW = "models.view"
    MODELS_MANAGE = "models.manage"
    MODELS_EXPORT = "models.export"
    PERFORMANCE_VIEW = "performance.view"
    PERFORMANCE_EXPORT = "performance.export"
    SLA_PENALTY_LIFT = "sla.penalty_lift"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    OUTBOX_VIEW = "outbox.view"
    OUTBOX_RETRY = "outbox.retry"
    USERS_MANAGE = "users.manage"
    MARKETING_VIEW = "marketing.view"
    MARKETING_EXPORT = "marketing.export"
    MARKETING_OUTREACH = "marketing.outreach"
    MARKETING_MANAGE = "marketing.manage"
    MARKETING_IMPORT = "marketing.import"


P = Permission
_EVERYONE = frozenset(Role)
_GRANTS: dict[Permission, frozenset[Role]] = {
    P.SELF: _EVERYONE,
    P.DASHBOARD_VIEW: _EVERYONE,
    P.OPTIONS_VIEW: _EVERYONE,
    P.CASES_VIEW: _EVERYONE,
    P.CASES_EXPORT: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER,
                               Role.CLIENT_MANAGER, Role.AUDITOR}),
    P.CASES_CLAIM: frozenset({Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER}),
    P.CASES_VERIFY: frozenset({Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER}),
    # the branch confirms when the sub-branch has nobody left who may (four eyes)
    P.CASES_CONFIRM: frozenset({Role.SUB_BRANCH_MANAGER, Role.BRANCH_MANAGER}),
    # branch: anywhere; sub-branch manager: within the sub-branch (cases.reassignment)
    P.CASES_REASSIGN: frozenset({Role.SUB_BRANCH_MANAGER, Role.BRANCH_MANAGER}),
    # department managers let mismatched findings through, with a reason (cases.overrides)
    P.CASES_OVERRIDE: frozenset({Role.SUB_BRANCH_MANAGER, Role.BRANCH_MANAGER}),
    # the holder attaches on-site evidence (cases.attachments checks that it is the holder)
    P.CASES_ATTACH: frozenset({Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER}),
    P.WARNINGS_VIEW: _EVERYONE,
    P.WARNINGS_EXPORT: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER,
                                  Role.CLIENT_MANAGER, Role.AUDITOR}),
    # the branch manager: only warnings escalated to the branch (monitoring.handling_refusal)
    P.WARNINGS_HANDLE: frozenset({Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER,
                                  Role.BRANCH_MANAGER}),
    # the outcomes per rule, to tune the rules on: department managers and above
    P.WARNINGS_LABELS: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    # department managers and above: settlement data and whitelist settings (DESIGN step 9)
    P.SETTLEMENT_VIEW: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    P.MODELS_VIEW: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    P.MODELS_MANAGE: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    # the workbench's reports as Excel (validation): the same people, as a permission apart
    P.MODELS_EXPORT: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    P.PERFORMANCE_VIEW: frozenset({Role.BRANCH_ADMIN, Role.BRANCH_MANAGER, Role.AUDITOR}),
    P.PERFORMANCE_EXPORT: frozenset({Role.BRANCH_MANAGER, Role.AUDITOR}),
    P.SLA_PENALTY_LIFT: frozenset({Role.BRANCH_MANAGER}),
    P.AUDIT_VIEW: frozenset({Role.BRANCH_ADMIN, Role.AUDITOR}),
    # separation of duties: the administrator reads the log but only the auditor exports it
    P.AUDIT_EXPORT: frozenset({Role.AUDITOR}),
    P.OUTBOX_VIEW: frozenset({Role.BRANCH_ADMIN}),
    P.OUTBOX_RETRY: frozenset({Role.BRANCH_ADMIN}),
    P.USERS_MANAGE: frozenset({Role.BRANCH_ADMIN}),
    # marketing (docs/marketing.md "Who may do what"): everyone reads within their data scope
    # (the auditor read-only); the sub-branch's staff work the call lists; department managers
    # and above run campaigns; the branch's administrator and manager import the bureau's list
    P.MARKETING_VIEW: _EVERYONE,
    P.MARKETING_EXPORT: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER,
                                   Role.CLIENT_MANAGER, Role.AUDITOR}),
    P.MARKETING_OUTREACH: frozenset({Role.SUB_BRANCH_MANAGER, Role.CLIENT_MANAGER}),
    P.MARKETING_MANAGE: frozenset({Role.BRANCH_MANAGER, Role.SUB_BRANCH_MANAGER}),
    P.MARKETING_IMPORT: frozenset({Role.BRANCH_ADMIN, Role.BRANCH_MANAGER}),
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    role: frozenset(p for p, roles in _GRANTS.items() if role in roles) for role in Role}


def _exports(path: str, permission: Permission) -> dict[tuple[str, str], Permission]:
    return {("GET", f"{path}/export.xlsx"): permission, ("GET", f"{path}/export.csv"): permission}


#: (method, path template) -> permission. Every API and gateway route, nothing else.
ROUTES: dict[tuple[str, str], Permission] = {
    # the bureau and head office: authenticated by SM2-signed envelopes, not by staff
    ("POST", "/fsi/api/bank/callService"): P.PUBLIC,
    ("POST", "/fsi/api/bank/headoffice/callService"): P.PUBLIC,
    ("GET", "/api/health"): P.PUBLIC,
    ("POST", "/api/auth/login"): P.PUBLIC,
    ("POST", "/api/auth/token"): P.PUBLIC,
    ("POST", "/api/auth/logout"): P.SELF,
    ("GET", "/api/auth/tokens"): P.SELF,
    ("DELETE", "/api/auth/tokens/{token_id}"): P.SELF,
    ("GET", "/api/me"): P.SELF,
    ("POST", "/api/me/password"): P.SELF,
    ("PUT", "/api/me/locale"): P.SELF,
    ("GET", "/api/options"): P.OPTIONS_VIEW,
    ("GET", "/api/dashboard"): P.DASHBOARD_VIEW,
    ("GET", "/api/cases"): P.CASES_VIEW,
    **_exports("/api/cases", P.CASES_EXPORT),
    ("GET", "/api/cases/{case_id}"): P.CASES_VIEW,
    ("POST", "/api/cases/{case_id}/claim"): P.CASES_CLAIM,
    ("POST", "/api/cases/{case_id}/verification"): P.CASES_VERIFY,
    ("POST", "/api/cases/{case_id}/confirmation"): P.CASES_CONFIRM,
    ("POST", "/api/cases/{case_id}/reassignment"): P.CASES_REASSIGN,
    ("POST", "/api/cases/{case_id}/mismatch-override"): P.CASES_OVERRIDE,
    ("GET", "/api/cases/{case_id}/attachments"): P.CASES_VIEW,
    ("POST", "/api/cases/{case_id}/attachments"): P.CASES_ATTACH,
    ("GET", "/api/cases/{case_id}/attachments/{attachment_id}"): P.CASES_VIEW,
    ("GET", "/api/cases/{case_id}/limit-actions"): P.CASES_VIEW,
    ("GET", "/api/warnings"): P.WARNINGS_VIEW,
    **_exports("/api/warnings", P.WARNINGS_EXPORT),
    ("GET", "/api/warnings/outcomes"): P.WARNINGS_LABELS,
    ("GET", "/api/warnings/{warning_id}"): P.WARNINGS_VIEW,
    ("POST", "/api/warnings/{warning_id}/outcome"): P.WARNINGS_HANDLE,
    ("GET", "/api/institutions/{code}"): P.SETTLEMENT_VIEW,
    ("GET", "/api/institutions/{code}/settlement"): P.SETTLEMENT_VIEW,
    ("GET", "/api/data-quality"): P.SETTLEMENT_VIEW,
    ("GET", "/api/models"): P.MODELS_VIEW,
    ("GET", "/api/models/diff"): P.MODELS_VIEW,
    ("GET", "/api/models/shadow"): P.MODELS_VIEW,
    ("GET", "/api/models/{version_id}"): P.MODELS_VIEW,
    ("POST", "/api/models"): P.MODELS_MANAGE,
    ("POST", "/api/models/{version_id}/actions"): P.MODELS_MANAGE,
    ("GET", "/api/models/{version_id}/validation"): P.MODELS_VIEW,
    ("GET", "/api/models/{version_id}/validation.xlsx"): P.MODELS_EXPORT,
    ("GET", "/api/models/{version_id}/monitoring"): P.MODELS_VIEW,
    ("POST", "/api/models/builds"): P.MODELS_MANAGE,
    ("GET", "/api/performance"): P.PERFORMANCE_VIEW,
    **_exports("/api/performance", P.PERFORMANCE_EXPORT),
    ("GET", "/api/sla/penalties"): P.PERFORMANCE_VIEW,
    ("POST", "/api/sla/penalties/{penalty_id}/lift"): P.SLA_PENALTY_LIFT,
    ("GET", "/api/sla/calendar"): P.OPTIONS_VIEW,
    ("GET", "/api/me/notifications"): P.SELF,
    ("POST", "/api/me/notifications/read"): P.SELF,
    ("GET", "/api/audit"): P.AUDIT_VIEW,
    **_exports("/api/audit", P.AUDIT_EXPORT),
    ("GET", "/api/outbox"): P.OUTBOX_VIEW,
    ("POST", "/api/outbox/{outbox_id}/retry"): P.OUTBOX_RETRY,
    ("GET", "/api/outbox/events"): P.OUTBOX_VIEW,
    ("POST", "/api/outbox/events/{event_id}/retry"): P.OUTBOX_RETRY,
    ("GET", "/api/users"): P.USERS_MANAGE,
    ("POST", "/api/users"): P.USERS_MANAGE,
    ("PATCH", "/api/users/{user_id}"): P.USERS_MANAGE,
    ("POST", "/api/users/{user_id}/password-reset"): P.USERS_MANAGE,
    ("GET", "/api/marketing/prospects"): P.MARKETING_VIEW,
    ("GET", "/api/marketing/prospects/{prospect_id}"): P.MARKETING_VIEW,
    ("POST", "/api/marketing/prospects/{prospect_id}/outcome"): P.MARKETING_OUTREACH,
    ("GET", "/api/marketing/call-list"): P.MARKETING_VIEW,
    **_exports("/api/marketing/call-list", P.MARKETING_EXPORT),
    ("GET", "/api/marketing/campaigns"): P.MARKETING_VIEW,
    ("POST", "/api/marketing/campaigns"): P.MARKETING_MANAGE,
    ("GET", "/api/marketing/campaigns/{campaign_id}"): P.MARKETING_VIEW,
    ("GET", "/api/marketing/imports"): P.MARKETING_IMPORT,
    ("POST", "/api/marketing/imports"): P.MARKETING_IMPORT,
    ("GET", "/api/marketing/imports/{import_id}"): P.MARKETING_IMPORT,
    ("GET", "/api/marketing/imports/{import_id}/report.xlsx"): P.MARKETING_IMPORT,
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


def may(role: Role, permission: Permission) -> bool:
    return permission is Permission.PUBLIC or permission in ROLE_PERMISSIONS[role]


def governed(path: str) -> bool:
    """Routes the table must cover: the JSON API and the gateway."""
    return path.startswith(("/api/", "/fsi/"))


def check_routes(served: Iterable[tuple[str, str]]) -> None:
    """Refuse to start when a served API route has no line in the table (it would be refused
    at every request anyway; this says so at once). Lines without a route are caught by the
    route x role test."""
    missing = {r for r in served if governed(r[1])} - ROUTES.keys()
    if missing:
        raise ConfigurationError("权限表缺少路由", "routes without a line in the permission "
                                 f"table: {sorted(missing)}", code="permission_table")
