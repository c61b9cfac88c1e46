"""Sessions, CSRF, tokens, log-in and passwords over real HTTP: what a browser and an attacker
would see. Time moves on the simulated clock; nothing sleeps."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import Installation
from tests.integration.test_routes_by_role import admitted_cases
from yibaodai.auth.sessions import digest
from yibaodai.clock import SimulatedClock
from yibaodai.db.models import ApiTokenRow, AuditRow, CaseRow, UserRow, WebSessionRow
from yibaodai.errors import ConfigurationError
from yibaodai.settings import DEMO_SECRET, Settings
from yibaodai.sim.server import ServerThread
from yibaodai.web.app import create_app


def browser(server: ServerThread, installation: Installation, username: str) -> httpx.Client:
    """A client that signs in like the SPA: cookie plus the CSRF header it was given."""
    client = httpx.Client(base_url=server.url, timeout=30)
    r = client.post("/api/auth/login", json={
        "username": username, "password": installation.accounts[username].password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def audit_count(installation: Installation, action: str) -> int:
    with installation.bank.db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRow).where(
            AuditRow.action == action)) or 0)


def test_the_session_cookie_is_signed_httponly_strict_and_only_its_hash_is_stored(
        bank_server: ServerThread, installation: Installation) -> None:
    client = httpx.Client(base_url=bank_server.url)
    r = client.post("/api/auth/login", json={
        "username": "gm", "password": installation.accounts["gm"].password})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("yb_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; HTTPS requests get Secure
    secret = client.cookies["yb_session"].rsplit(".", 1)[0]
    with installation.bank.db.unit_of_work() as s:
        row = s.scalars(select(WebSessionRow)).one()
        assert row.token_hash == digest(secret) and secret not in row.token_hash
    me = client.get("/api/me").json()
    assert me["user"]["username"] == "gm" and me["csrf_token"] == r.json()["csrf_token"]
    assert "settlement.view" in me["permissions"] and "users.manage" not in me["permissions"]
    assert me["watermark"]["text"].endswith("请勿外传")
    assert me["watermark"]["staff_no"] in me["watermark"]["text"]
    # a cookie whose signature is wrong is nobody
    client.cookies.set("yb_session", secret + ".forged")
    assert client.get("/api/me").status_code == 401
    client.close()


def test_a_cross_site_form_post_with_the_cookie_fails_and_changes_nothing(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    case = admitted_cases(bank_server, installation, clock, count=2)[0]
    cm = browser(bank_server, installation, f"cm_{case.sub_branch_code.lower()}_1")
    token = cm.headers.pop("X-CSRF-Token")
    evil = {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    attempts = [
        cm.post(f"/api/cases/{case.id}/claim", content=b"x=1", headers=evil),  # a form post
        cm.post(f"/api/cases/{case.id}/claim"),                                # no token
        cm.post(f"/api/cases/{case.id}/claim", headers={"X-CSRF-Token": "forged"}),
        cm.post(f"/api/cases/{case.id}/claim",  # the right token from a foreign origin
                headers={"X-CSRF-Token": token, "Origin": "http://evil.example"}),
    ]
    for r in attempts:
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed", r.text
        assert r.json()["message_zh"] and r.json()["message_en"]
    with installation.bank.db.unit_of_work() as s:
        row = s.get(CaseRow, case.id)
        assert row is not None and row.state == "assigned" and row.claimed_at is None
    # the same call with the header, from our own origin, works
    r = cm.post(f"/api/cases/{case.id}/claim", headers={
        "X-CSRF-Token": token, "Origin": bank_server.url})
    assert r.status_code == 200 and r.json()["state"] == "claimed"
    cm.close()


def test_log_in_from_a_foreign_origin_is_refused(bank_server: ServerThread,
                                                 installation: Installation) -> None:
    r = httpx.post(f"{bank_server.url}/api/auth/login", headers={"Origin": "http://evil.example"},
                   json={"username": "gm", "password": installation.accounts["gm"].password})
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_log_out_revokes_the_session_on_the_server(bank_server: ServerThread,
                                                    installation: Installation) -> None:
    gm = browser(bank_server, installation, "gm")
    saved = gm.cookies["yb_session"]
    assert gm.post("/api/auth/logout").status_code == 204
    replay = httpx.Client(base_url=bank_server.url, cookies={"yb_session": saved})
    r = replay.get("/api/me")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert audit_count(installation, "auth.logout") == 1
    gm.close()
    replay.close()


def test_sessions_end_after_idle_time_and_absolutely(
        bank_server: ServerThread, installation: Installation, clock: SimulatedClock) -> None:
    idle = timedelta(minutes=installation.settings.session_idle_minutes)
    gm = browser(bank_server, installation, "gm")
    for _ in range(3):  # active use keeps it alive past one idle period...
        clock.advance(idle - timedelta(minutes=1))
        assert gm.get("/api/me").status_code == 200
    clock.advance(idle)  # ...a pause as long as the idle limit ends it
    r = gm.get("/api/me")
    assert r.status_code == 401 and r.json()["code"] == "session_expired"
    active = browser(bank_server, installation, "gm")
    end = clock.now() + timedelta(hours=installation.settings.session_max_hours)
    while clock.now() + idle / 2 < end:  # never idle, still ends at the absolute limit
        clock.advance(idle / 2)
        assert active.get("/api/me").status_code == 200
    clock.advance(idle / 2)
    assert active.get("/api/me").json()["code"] == "session_expired"
    gm.close()
    active.close()


def test_unknown_and_known_users_get_the_same_answer_and_failures_are_audited(
        bank_server: ServerThread, installation: Installation) -> None:
    base = bank_server.url
    unknown = httpx.post(f"{base}/api/auth/login", json={"username": "nobody", "password": "x"})
    known = httpx.post(f"{base}/api/auth/login", json={"username": "gm", "password": "x"})
    assert unknown.status_code == known.status_code == 422
    assert unknown.json() == known.json()
    assert known.json()["fields"][0]["field"] == "password"
    with installation.bank.db.unit_of_work() as s:
        reasons = [r.details["reason"] for r in s.scalars(select(AuditRow).where(
            AuditRow.action == "auth.failed").order_by(AuditRow.id))]
    assert reasons == ["unknown_user", "wrong_password"]


def test_repeated_failures_are_throttled_per_user_and_recorded(
        bank_server: ServerThread, installation: Installation) -> None:
    base = bank_server.url
    limit = installation.settings.login_failures_per_user
    for _ in range(limit):
        assert httpx.post(f"{base}/api/auth/login",
                          json={"username": "gm", "password": "guess"}).status_code == 422
    right = {"username": "gm", "password": installation.accounts["gm"].password}
    r = httpx.post(f"{base}/api/auth/login", json=right)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert httpx.post(f"{base}/api/auth/token", json=right).status_code == 429
    assert audit_count(installation, "auth.throttled") == 2
    # another user from the same address is not locked out by gm's failures
    other = {"username": "auditor", "password": installation.accounts["auditor"].password}
    assert httpx.post(f"{base}/api/auth/login", json=other).status_code == 200


def test_failures_from_one_address_are_throttled_across_usernames(
        bank_server: ServerThread, installation: Installation) -> None:
    base = bank_server.url
    limit = installation.settings.login_failures_per_address
    for n in range(limit):
        httpx.post(f"{base}/api/auth/login", json={"username": f"user{n}", "password": "x"})
    right = {"username": "gm", "password": installation.accounts["gm"].password}
    r = httpx.post(f"{base}/api/auth/login", json=right)
    assert r.status_code == 429


def test_a_password_change_follows_the_rules_and_ends_every_other_session_and_token(
        bank_server: ServerThread, installation: Installation) -> None:
    old = installation.accounts["gm"].password
    phone = httpx.post(f"{bank_server.url}/api/auth/token",
                       json={"username": "gm", "password": old}).json()["token"]
    laptop = browser(bank_server, installation, "gm")
    desk = browser(bank_server, installation, "gm")
    for new, why in (("short", "10"), ("GM", "10"), ("gmgmgmgmgm", "用户名"), (old, "最近")):
        if why == "用户名":
            new = "gm"  # equal to the username
        r = desk.post("/api/me/password", json={"current_password": old, "new_password": new})
        assert r.status_code == 422, new
        assert any(why in f["message_zh"] for f in r.json()["fields"]), (new, r.json())
    r = desk.post("/api/me/password", json={"current_password": "wrong", "new_password":
                                            "a-much-longer-one"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "current_password"
    assert desk.post("/api/me/password", json={"current_password": old,
                                               "new_password": "Harbour-View-2026"}
                     ).status_code == 204
    # the desk's browser got a fresh session; the laptop and the phone are out
    fresh = desk.get("/api/me")
    assert fresh.status_code == 200
    assert laptop.get("/api/me").status_code == 401
    assert httpx.get(f"{bank_server.url}/api/me",
                     headers={"Authorization": f"Bearer {phone}"}).status_code == 401
    desk.headers["X-CSRF-Token"] = fresh.json()["csrf_token"]
    history = ["Harbour-View-2026"]
    for n in range(5):  # not one of the last five
        new = f"Another-Pass-{n:02d}"
        assert desk.post("/api/me/password", json={"current_password": history[-1],
                                                   "new_password": new}).status_code == 204
        desk.headers["X-CSRF-Token"] = desk.get("/api/me").json()["csrf_token"]
        history.append(new)
    reuse = desk.post("/api/me/password", json={"current_password": history[-1],
                                                "new_password": history[-5]})
    assert reuse.status_code == 422
    assert desk.post("/api/me/password", json={"current_password": history[-1],
                                               "new_password": history[0]}).status_code == 204
    laptop.close()
    desk.close()


def test_bearer_tokens_are_stored_hashed_listed_and_revocable(
        bank_server: ServerThread, installation: Installation) -> None:
    base = bank_server.url
    body = {"username": "auditor", "password": installation.accounts["auditor"].password}
    first = httpx.post(f"{base}/api/auth/token", json=body).json()
    second = httpx.post(f"{base}/api/auth/token", json=body).json()
    with installation.bank.db.unit_of_work() as s:
        stored = set(s.scalars(select(ApiTokenRow.token_hash)))
    assert digest(first["token"]) in stored and first["token"] not in stored
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {first['token']}"})
    listed = client.get("/api/auth/tokens").json()
    assert {t["id"] for t in listed} == {first["token_id"], second["token_id"]}
    # a bearer request needs no CSRF header: there is no ambient credential to abuse
    assert client.delete(f"/api/auth/tokens/{second['token_id']}").status_code == 204
    assert httpx.get(f"{base}/api/me", headers={
        "Authorization": f"Bearer {second['token']}"}).status_code == 401
    assert client.get("/api/me").status_code == 200
    other = httpx.post(f"{base}/api/auth/token", json={
        "username": "gm", "password": installation.accounts["gm"].password}).json()
    assert client.delete(f"/api/auth/tokens/{other['token_id']}").status_code == 404
    client.close()


def test_the_language_preference_is_remembered_per_user(
        bank_server: ServerThread, installation: Installation) -> None:
    gm = browser(bank_server, installation, "gm")
    assert gm.get("/api/me").json()["user"]["locale"] == "zh-CN"
    assert gm.put("/api/me/locale", json={"locale": "en-US"}).json()["user"]["locale"] == "en-US"
    r = gm.put("/api/me/locale", json={"locale": "fr-FR"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "locale"
    again = browser(bank_server, installation, "gm")
    assert again.get("/api/me").json()["user"]["locale"] == "en-US"
    assert browser(bank_server, installation, "auditor").get("/api/me").json()["user"][
        "locale"] == "zh-CN"
    gm.close()
    again.close()


def test_the_app_refuses_the_demo_secret_outside_demo_mode(installation: Installation) -> None:
    ctx = installation.bank.context
    unsafe = Settings(database_url=ctx.settings.database_url, secret_key=DEMO_SECRET)
    assert unsafe.demo_mode is False  # the default
    with pytest.raises(ConfigurationError) as err:
        create_app(dataclasses.replace(ctx, settings=unsafe))
    assert err.value.code == "unsafe_secret"
    weak = Settings(database_url=ctx.settings.database_url, secret_key="short")
    with pytest.raises(ConfigurationError):
        create_app(dataclasses.replace(ctx, settings=weak))
    good = Settings(database_url=ctx.settings.database_url, secret_key="x" * 40)
    assert create_app(dataclasses.replace(ctx, settings=good)) is not None


def test_user_management_stays_within_the_admins_scope_and_is_audited(
        bank_server: ServerThread, installation: Installation) -> None:
    admin = browser(bank_server, installation, "admin")
    r = admin.post("/api/users", json={"username": "cm_dl004_9", "display_name": "新同事",
                                       "staff_no": "S09999", "role": "client_manager",
                                       "sub_branch_code": "DL004"})
    assert r.status_code == 200, r.text
    created, temporary = r.json()["user"], r.json()["temporary_password"]
    assert created["must_change_password"] is True and len(temporary) >= 10
    for body, status, field in (
            ({"username": "x!", "display_name": "a", "staff_no": "1", "role": "auditor"}, 422,
             "username"),
            ({"username": "mgr_x", "display_name": "a", "staff_no": "1",
              "role": "sub_branch_manager"}, 422, "sub_branch_code"),
            ({"username": "aud2", "display_name": "a", "staff_no": "1", "role": "auditor",
              "sub_branch_code": "DL001"}, 422, "sub_branch_code"),
            ({"username": "cm_x", "display_name": "a", "staff_no": "1",
              "role": "client_manager", "sub_branch_code": "DL999"}, 422, "sub_branch_code"),
            ({"username": "cm_dl004_9", "display_name": "a", "staff_no": "1",
              "role": "client_manager", "sub_branch_code": "DL004"}, 409, "username")):
        r = admin.post("/api/users", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["fields"][0]["field"] == field
    # the new user must change the temporary password before anything else
    newbie = httpx.Client(base_url=bank_server.url)
    me = newbie.post("/api/auth/login", json={"username": "cm_dl004_9", "password": temporary})
    newbie.headers["X-CSRF-Token"] = me.json()["csrf_token"]
    assert newbie.get("/api/cases").json()["code"] == "password_change_required"
    assert newbie.post("/api/me/password", json={"current_password": temporary,
                                                 "new_password": "First-Own-Pass-1"}
                       ).status_code == 204
    assert newbie.get("/api/cases").status_code == 200
    # move, deactivate (ends the user's sessions), reset
    uid = created["id"]
    moved = admin.patch(f"/api/users/{uid}", json={"sub_branch_code": "DL005"}).json()
    assert moved["sub_branch_code"] == "DL005"
    assert admin.patch(f"/api/users/{uid}", json={"active": False}).json()["active"] is False
    assert newbie.get("/api/me").status_code == 401
    with installation.bank.db.unit_of_work() as s:
        admin_id = s.scalars(select(UserRow.id).where(UserRow.username == "admin")).one()
    assert admin.patch(f"/api/users/{admin_id}", json={"active": False}).status_code == 409
    reset = admin.post(f"/api/users/{uid}/password-reset").json()["temporary_password"]
    assert reset != temporary
    actions = [a for a in ("user.created", "user.updated", "user.password_reset")
               if audit_count(installation, a)]
    assert actions == ["user.created", "user.updated", "user.password_reset"]
    # nobody but the administrator manages users
    gm = browser(bank_server, installation, "gm")
    assert gm.get("/api/users").status_code == 403
    admin.close()
    newbie.close()
    gm.close()
