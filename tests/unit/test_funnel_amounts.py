"""The campaign funnel's amounts and the leaderboard's order and attainment (docs/marketing.md,
"Campaigns and the funnel"): limits add up from admission on, the drawn stage shows the drawn
amount, ties share a rank, attainment is drawn against target; an authorization is credited to
the latest outreach at or after the campaign's start and strictly before it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from yibaodai.clock import SHANGHAI
from yibaodai.domain.marketing.funnel import (
    Progress,
    Stage,
    Target,
    creditable_outreach,
    funnel,
    funnel_by_sub_branch,
    leaderboard,
)

D = Decimal


def test_amounts_add_up_from_admission_and_drawn_shows_what_was_drawn() -> None:
    steps = funnel([
        Progress("A", Stage.ADMITTED, D("300000")),
        Progress("A", Stage.REPORTED, D("200000")),
        Progress("A", Stage.DRAWN, D("500000"), D("450000")),
        Progress("A", Stage.INTERESTED),
    ])
    got = {s.stage: (s.count, s.amount) for s in steps}
    assert got == {
        Stage.LISTED: (4, None), Stage.CONTACTED: (4, None), Stage.INTERESTED: (4, None),
        Stage.AUTHORIZED: (3, None), Stage.ADMITTED: (3, D("1000000")),
        Stage.REPORTED: (2, D("700000")), Stage.DRAWN: (1, D("450000"))}
    assert [s.stage for s in steps] == list(Stage)
    assert funnel([Progress("A", Stage.LISTED)])[1].count == 0


def test_sub_branches_get_their_own_funnels_and_prospects_without_one_only_the_total() -> None:
    by_sub = funnel_by_sub_branch([Progress("B", Stage.DRAWN, D("1"), D("1")),
                                   Progress(None, Stage.DRAWN, D("5"), D("5")),
                                   Progress("A", Stage.LISTED)])
    assert list(by_sub) == ["A", "B"]
    assert by_sub["B"][-1].amount == D("1") and by_sub["A"][0].count == 1


def _steps(drawn_amount: str, drawn: int, authorized: int) -> list[Progress]:
    out = [Progress("x", Stage.DRAWN, D(drawn_amount), D(drawn_amount) / max(drawn, 1))
           for _ in range(drawn)]
    out += [Progress("x", Stage.AUTHORIZED) for _ in range(authorized - drawn)]
    return out


def test_the_leaderboard_ranks_by_amount_then_count_then_authorizations() -> None:
    by_sub = {
        "S1": funnel(_steps("100", 1, 1)),
        "S2": funnel(_steps("100", 2, 2)),   # same amount, more loans: ahead of S1
        "S3": funnel(_steps("100", 2, 5)),   # and more authorizations: ahead of S2
        "S4": funnel(_steps("900", 1, 1)),
        "S5": funnel(_steps("100", 2, 2)),   # the same as S2: shares its rank
    }
    board = leaderboard(by_sub, targets={}, sub_branches=["S1", "S2", "S3", "S4", "S5", "S6"])
    assert [(s.rank, s.sub_branch) for s in board] == [
        (1, "S4"), (2, "S3"), (3, "S2"), (3, "S5"), (5, "S1"), (6, "S6")]
    assert board[-1].drawn_amount == D("0.00") and board[-1].drawn_count == 0
    # more loans beat more authorizations at the same amount
    board = leaderboard({"A": funnel(_steps("100", 2, 2)), "B": funnel(_steps("100", 1, 3))},
                        targets={}, sub_branches=["B", "A"])
    assert [s.sub_branch for s in board] == ["A", "B"]


def test_attainment_is_drawn_against_target() -> None:
    by_sub = {"S1": funnel(_steps("300000", 2, 3))}
    board = leaderboard(by_sub, targets={"S1": Target(3, D("900000")), "S2": Target(0, D(0))},
                        sub_branches=["S1", "S2"])
    s1, s2 = board
    assert (s1.target_count, s1.target_amount) == (3, D("900000"))
    assert s1.count_attainment == 0.6667 and s1.amount_attainment == 0.3333
    assert (s2.target_count, s2.target_amount) == (0, D(0))
    assert s2.count_attainment is None and s2.amount_attainment is None
    bare = leaderboard(by_sub, targets={}, sub_branches=["S1"])[0]
    assert (bare.target_count, bare.target_amount, bare.count_attainment) == (None, None, None)
    precise = leaderboard({"S1": funnel(_steps("100000", 1, 1))},
                          targets={"S1": Target(7, D("700000"))}, sub_branches=["S1"])[0]
    assert precise.count_attainment == 0.1429 and precise.amount_attainment == 0.1429


START = datetime(2026, 11, 1, tzinfo=SHANGHAI)
AUTH = datetime(2026, 11, 20, 10, tzinfo=SHANGHAI)


def test_an_authorization_is_credited_to_the_latest_outreach_in_its_window() -> None:
    assert creditable_outreach([(1, START), (2, START - timedelta(seconds=1))],
                               authorized_at=AUTH, since=START) == 1  # the start is inside
    assert creditable_outreach([(1, AUTH), (2, START + timedelta(days=1))],
                               authorized_at=AUTH, since=START) == 2  # not at the same instant
    same = START + timedelta(days=3)
    assert creditable_outreach([(5, same), (3, same)], authorized_at=AUTH, since=START) == 5
    assert creditable_outreach([(3, same), (5, same)], authorized_at=AUTH, since=START) == 5
    assert creditable_outreach([(9, START - timedelta(days=1))], authorized_at=AUTH,
                               since=START) is None
