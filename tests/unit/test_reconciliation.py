"""Reconciliation as a pure comparison: what the outbox says against what receivers recorded,
and what the gateway accepted against what was stored."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yibaodai.domain.reconciliation import Push, Queued, Recorded, inbound, outbound, report

KEYS = st.lists(st.text("abcdef0123456789-", min_size=1, max_size=12), unique=True,
                max_size=30)


@given(keys=KEYS, repeats=st.lists(st.integers(min_value=1, max_value=5), max_size=30))
def test_every_sent_key_applied_once_is_ok_however_often_it_was_delivered(
        keys: list[str], repeats: list[int]) -> None:
    deliveries = [repeats[i] if i < len(repeats) else 1 for i in range(len(keys))]
    result = report([Queued("bureau", k, "sent") for k in keys],
                    {"bureau": [Recorded(k, n, 1) for k, n in zip(keys, deliveries, strict=True)]},
                    [])
    assert result["ok"]
    if keys:
        bureau = result["receivers"]["bureau"]
        assert (bureau["sent"], bureau["received"]) == (len(keys), len(keys))
        assert bureau["redelivered"] == sum(n > 1 for n in deliveries)


@given(keys=KEYS.filter(lambda k: len(k) >= 2), data=st.data())
def test_one_lost_or_doubly_applied_message_makes_it_not_ok_and_is_named(
        keys: list[str], data: st.DataObject) -> None:
    victim = data.draw(st.sampled_from(keys))
    lost = data.draw(st.booleans())
    recorded = [Recorded(k, 2 if k == victim else 1, 2 if k == victim else 1) for k in keys
                if not (lost and k == victim)]
    result = report([Queued("headoffice", k, "sent") for k in keys],
                    {"headoffice": recorded}, [])
    ho = result["receivers"]["headoffice"]
    assert not result["ok"]
    if lost:
        assert (ho["missing"], ho["faults"]["missing"]) == (1, [victim])
    else:
        assert (ho["duplicates"], ho["faults"]["duplicates"]) == (1, [victim])


def test_a_dead_letter_or_an_unknown_key_at_the_receiver_is_not_ok() -> None:
    dead = outbound([Queued("bureau", "a", "sent"), Queued("bureau", "b", "dead")],
                    {"bureau": [Recorded("a", 1, 1)]})["bureau"]
    assert (dead["dead"], dead["ok"]) == (1, False)
    stranger = outbound([], {"bureau": [Recorded("x", 1, 1)]})["bureau"]
    assert (stranger["unexpected"], stranger["ok"]) == (1, False)


def test_pending_messages_the_receiver_already_has_are_in_flight_not_faults() -> None:
    result = outbound([Queued("bureau", "a", "pending")], {"bureau": [Recorded("a", 1, 1)]})
    assert result["bureau"]["ok"] and result["bureau"]["pending"] == 1


@given(expected=st.integers(min_value=1, max_value=2000), stored=st.integers(0, 2000),
       superseded=st.booleans())
def test_an_accepted_push_is_stored_when_its_rows_are_all_there(
        expected: int, stored: int, superseded: bool) -> None:
    kind = inbound([Push("m1", "8301", answered=True, accepted=True, expected_rows=expected,
                         stored_rows=stored, superseded=superseded)])["8301"]
    if stored == expected:
        assert (kind["stored"], kind["ok"]) == (1, True)
    elif stored > expected:
        assert (kind["duplicated"], kind["ok"]) == (1, False)
    elif superseded:  # a later message replaced some of its rows
        assert (kind["superseded"], kind["ok"]) == (1, True)
    else:
        assert (kind["missing"], kind["ok"], kind["faults"]) == (
            1, False, [{"msgid": "m1", "fault": "missing"}])


def test_unanswered_pushes_and_missing_decisions_are_faults_refused_pushes_are_not() -> None:
    kinds = inbound([
        Push("a", "8101", answered=False, accepted=False),
        Push("b", "8101", answered=True, accepted=False),
        Push("c", "8201", answered=True, accepted=True, decision_id=7, decision_found=False),
        Push("d", "8201", answered=True, accepted=True, decision_id=8),
    ])
    assert kinds["8101"] | {"faults": []} == {
        "archived": 2, "accepted": 0, "refused": 1, "unanswered": 1, "stored": 0,
        "superseded": 0, "missing": 0, "duplicated": 0, "rows_expected": 0, "rows_stored": 0,
        "faults": [], "ok": False}
    assert (kinds["8201"]["stored"], kinds["8201"]["missing"]) == (1, 1)


def _keys(prefix: str, n: int = 21) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def test_the_outbound_report_counts_every_kind_of_fault_and_names_at_most_twenty() -> None:
    """21 sent keys the bureau never saw, one it saw but never applied, 21 it applied twice
    (after three deliveries) and 21 it has that were never queued; and a receiver with no
    records at all (the CRM) whose one sent key is missing."""
    queued = [Queued("bureau", k, "sent") for k in _keys("s") + _keys("dup") + ["z"]]
    queued += [Queued("bureau", "p1", "pending"), Queued("bureau", "d1", "dead"),
               Queued("crm", "c1", "sent")]
    recorded = {"bureau": [Recorded(k, 1, 1) for k in _keys("u")]
                + [Recorded(k, 3, 2) for k in _keys("dup")] + [Recorded("z", 1, 0)]}
    assert outbound(queued, recorded) == {
        "bureau": {"queued": 45, "sent": 43, "pending": 1, "dead": 1,
                   "received": 42,            # z was delivered but never applied
                   "deliveries": 21 + 63 + 1, "redelivered": 21,
                   "missing": 22, "duplicates": 21, "unexpected": 21,
                   "faults": {"missing": _keys("s", 20), "duplicates": _keys("dup", 20),
                              "unexpected": _keys("u", 20)},
                   "ok": False},
        "crm": {"queued": 1, "sent": 1, "pending": 0, "dead": 0, "received": 0,
                "deliveries": 0, "redelivered": 0, "missing": 1, "duplicates": 0,
                "unexpected": 0, "faults": {"missing": ["c1"], "duplicates": [],
                                            "unexpected": []},
                "ok": False},
    }


def test_the_inbound_report_counts_each_push_once_by_its_fate_and_names_twenty() -> None:
    pushes = [
        Push("ok1", "2201", True, True, expected_rows=3, stored_rows=3),
        Push("ok2", "2201", True, True),                       # a kind without rows
        Push("old1", "2201", True, True, expected_rows=4, stored_rows=2, superseded=True),
        Push("old2", "2201", True, True, expected_rows=1, stored_rows=0, superseded=True),
        Push("lost", "2201", True, True, expected_rows=2, stored_rows=0),
        Push("twice", "2201", True, True, expected_rows=1, stored_rows=2),
        Push("nodecision", "2201", True, True, decision_id=7, decision_found=False),
        Push("no1", "2201", True, False), Push("no2", "2201", True, False),
        *(Push(k, "2201", False, False) for k in _keys("un")),
        Push("fine", "2202", True, True, decision_id=8),
    ]
    result = report([], {}, pushes)
    assert result == {"ok": False, "receivers": {}, "pushes": {
        "2201": {"archived": 30, "accepted": 7, "refused": 2, "unanswered": 21, "stored": 2,
                 "superseded": 2, "missing": 2, "duplicated": 1,
                 "rows_expected": 3 + 4 + 1 + 2 + 1, "rows_stored": 3 + 2 + 0 + 0 + 2,
                 "faults": [{"msgid": "lost", "fault": "missing"},
                            {"msgid": "twice", "fault": "duplicated"},
                            {"msgid": "nodecision", "fault": "missing"},
                            *({"msgid": k, "fault": "unanswered"} for k in _keys("un", 17))],
                 "ok": False},
        "2202": {"archived": 1, "accepted": 1, "refused": 0, "unanswered": 0, "stored": 1,
                 "superseded": 0, "missing": 0, "duplicated": 0, "rows_expected": 0,
                 "rows_stored": 0, "faults": [], "ok": True}}}
    assert report([], {}, pushes[-1:])["ok"] is True
