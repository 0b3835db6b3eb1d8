"""The vetting workflow through the services: every transition, every illegal one, every path, the audit.

``EXPECTED`` is written out here independently of ``domain.vetting``; the
tests check the domain table equals it, then exercise every (state, action)
pair through ``platform.therapists`` on a fresh platform.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from conftest import Kit, Person, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import InvalidTransition, PermissionDenied
from massage_core.domain.vetting import BackgroundOutcome, Party, VettingAction, VettingState, vetting_transitions
from therapist_kit import Catalogue, ScriptedBackgroundCheck, catalogue, cert, register

S, A = VettingState, VettingAction
EXPECTED: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("rejected", "submit"): "submitted",
    ("submitted", "start_review"): "document_review",
    ("submitted", "reject"): "rejected",
    ("document_review", "accept_documents"): "background_check",
    ("document_review", "reject"): "rejected",
    ("background_check", "pass_background_check"): "skill_test",
    ("background_check", "fail_background_check"): "rejected",
    ("background_check", "reject"): "rejected",
    ("skill_test", "pass_skill_test"): "approved",
    ("skill_test", "fail_skill_test"): "rejected",
    ("skill_test", "reject"): "rejected",
    ("approved", "suspend_badge"): "badge_suspended",
    ("badge_suspended", "restore_badge"): "approved",
}
CERT_EXPIRES = dt.date(2026, 3, 31)


@dataclass
class World:
    kit: Kit
    shop: Catalogue
    checker: ScriptedBackgroundCheck
    vetter: Person
    therapist: Person

    @property
    def state(self) -> str:
        return self.kit.platform.therapists.profile(self.therapist.actor, self.therapist.account_id).state


def new_world() -> World:
    clock, checker = FixedClock(), ScriptedBackgroundCheck()
    platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=fast_hasher(),
                                  background_check=checker)
    kit = Kit(platform, clock)
    shop = catalogue(kit)
    therapist, _ = register(kit, shop, certificates=[cert(CERT_EXPIRES.isoformat())])
    return World(kit, shop, checker, kit.support(), therapist)


def fire(w: World, action: str) -> object:
    """Perform ``action`` through the public services, the way its party would."""
    t, p, vetter, who = w.therapist, w.kit.platform.therapists, w.vetter.actor, w.therapist.account_id
    if action in ("pass_background_check", "fail_background_check"):
        w.checker.outcome = BackgroundOutcome.CLEAR if action.startswith("pass") else BackgroundOutcome.FLAGGED
    actions: dict[str, Callable[[], object]] = {
        "submit": lambda: p.submit(t.actor, who),
        "start_review": lambda: p.start_review(vetter, who),
        "accept_documents": lambda: p.accept_documents(vetter, who),
        "pass_background_check": lambda: p.run_background_check(vetter, who),
        "fail_background_check": lambda: p.run_background_check(vetter, who),
        "pass_skill_test": lambda: p.record_skill_test(vetter, who, score=86, pass_mark=70),
        "fail_skill_test": lambda: p.record_skill_test(vetter, who, score=55, pass_mark=70),
        "reject": lambda: p.reject(vetter, who, ["certificate photo unreadable"]),
        "suspend_badge": lambda: expire_and_sweep(w),
        "restore_badge": lambda: p.restore_badge(vetter, who),
    }
    return actions[action]()


def expire_and_sweep(w: World) -> object:
    """Let the certificate expire (in Asia/Shanghai) and run the daily sweep as the system."""
    if w.kit.clock.now().date() <= CERT_EXPIRES:
        w.kit.clock.set(dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC))
    swept = w.kit.platform.therapists.suspend_expired_badges(Actor.system())
    if w.therapist.account_id not in swept:
        # the sweep only touches approved therapists; for others it is the same illegal step
        raise InvalidTransition(w.state, "suspend_badge", [a for (s, a) in EXPECTED if s == w.state])
    return swept


def renew(w: World) -> None:
    w.kit.platform.therapists.update_profile(w.therapist.actor, w.therapist.account_id,
                                             certificates=[cert("2031-12-31")])


ROUTE: dict[str, list[str]] = {
    "draft": [],
    "submitted": ["submit"],
    "document_review": ["submit", "start_review"],
    "background_check": ["submit", "start_review", "accept_documents"],
    "skill_test": ["submit", "start_review", "accept_documents", "pass_background_check"],
    "approved": ["submit", "start_review", "accept_documents", "pass_background_check", "pass_skill_test"],
    "rejected": ["submit", "reject"],
    "badge_suspended": ["submit", "start_review", "accept_documents", "pass_background_check", "pass_skill_test",
                        "suspend_badge"],
}


def at(state: str) -> World:
    w = new_world()
    for action in ROUTE[state]:
        fire(w, action)
    assert w.state == state
    return w


def test_the_domain_table_is_exactly_the_expected_workflow() -> None:
    table = vetting_transitions()
    assert {(s.value, a.value): target.value for (s, a), (target, _) in table.items()} == EXPECTED
    assert {a for (s, a), (_, party) in table.items() if party is Party.OWNER} == {A.SUBMIT}
    assert set(S) == {s for (s, _) in table} | {target for target, _ in table.values()}


@pytest.mark.parametrize(("state", "action"), [(s.value, a.value) for s in S for a in A])
def test_every_action_in_every_state(state: str, action: str) -> None:
    w = at(state)
    audit_before = len(w.kit.audit_entries())
    if state == "badge_suspended" and action == "restore_badge":
        renew(w)
        audit_before = len(w.kit.audit_entries())
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as err:
            fire(w, action)
        allowed = sorted(a for (s, a) in EXPECTED if s == state)
        named = "run_background_check" if action.endswith("background_check") else action
        assert (err.value.state, err.value.action, list(err.value.allowed)) == (state, named, allowed)
        assert err.value.code == "invalid_transition"
        assert f"allowed: {', '.join(allowed) or 'none'}" in str(err.value)
        assert w.state == state
        assert [e for e in w.kit.audit_entries()[audit_before:] if e.outcome is AuditOutcome.OK] == []
        return
    fire(w, action)
    assert w.state == expected
    entry = [e for e in w.kit.audit_entries()[audit_before:] if e.outcome is AuditOutcome.OK][-1]
    details = dict(entry.details)
    assert (details["from_state"], details["to_state"]) == (state, expected)
    assert entry.target == w.therapist.account_id
    by = w.therapist if action == "submit" else w.vetter
    assert entry.actor == ("system" if action == "suspend_badge" else by.account_id)


def maximal_paths() -> Iterator[list[str]]:
    """Every path from draft that never visits a state twice, extended as far as it goes."""
    def walk(state: str, seen: list[str], path: list[str]) -> Iterator[list[str]]:
        steps = [(a, t) for (s, a), t in EXPECTED.items() if s == state and t not in seen]
        if not steps:
            yield path
        for action, target in steps:
            yield from walk(target, seen + [target], path + [action])
    yield from walk("draft", ["draft"], [])


PATHS = list(maximal_paths())


def test_the_paths_cover_every_transition() -> None:
    states = {"draft"}
    covered = set()
    for path in PATHS:
        state = "draft"
        for action in path:
            covered.add((state, action))
            state = EXPECTED[(state, action)]
            states.add(state)
    assert covered | {("rejected", "submit"), ("badge_suspended", "restore_badge")} == set(EXPECTED)
    assert len(PATHS) == 7


@pytest.mark.parametrize("path", PATHS, ids=["-".join(p) for p in PATHS])
def test_every_legal_path_then_resubmission(path: list[str]) -> None:
    w = new_world()
    history = ["draft"]
    for action in path:
        fire(w, action)
        history.append(w.state)
    if history[-1] == "rejected":  # resubmit and go all the way to approval
        profile = w.kit.platform.therapists.profile(w.therapist.actor, w.therapist.account_id)
        assert profile.rejection_reasons
        for action in ROUTE["approved"]:
            fire(w, action)
        assert w.state == "approved"
    view = w.kit.platform.therapists.profile(w.vetter.actor, w.therapist.account_id)
    assert [s.to_state for s in view.history][: len(history) - 1] == history[1:]
    assert all(s.actor in (w.therapist.account_id, w.vetter.account_id, "system") for s in view.history)


def test_approval_grants_the_therapist_role_and_the_badge() -> None:
    w = at("skill_test")
    assert "therapist" not in w.kit.refresh(w.therapist).actor.roles
    view = fire(w, "pass_skill_test")
    assert "therapist" in w.kit.refresh(w.therapist).actor.roles
    assert getattr(view, "certified") is True
    entry = w.kit.audit_entries()[-1]
    assert dict(entry.details)["role_granted"] == "therapist"
    assert dict(entry.details)["score"] == "86"


def test_a_skill_test_records_examiner_score_and_pass_mark() -> None:
    w = at("skill_test")
    fire(w, "fail_skill_test")
    view = w.kit.platform.therapists.profile(w.therapist.actor, w.therapist.account_id)
    assert (view.skill_examiner, view.skill_score, view.skill_pass_mark) == (w.vetter.account_id, 55, 70)
    assert view.rejection_reasons == ("skill test score 55 below pass mark 70",)


def test_the_background_check_sends_the_decrypted_identity_and_keeps_the_reference() -> None:
    w = at("background_check")
    fire(w, "fail_background_check")
    [request] = w.checker.requests
    assert request.therapist_id == w.therapist.account_id and request.real_name == "王小红"
    view = w.kit.platform.therapists.profile(w.therapist.actor, w.therapist.account_id)
    assert (view.background_outcome, view.background_reference) == ("flagged", "scripted-1")
    assert view.rejection_reasons == ("background check flagged: scripted finding",)


def test_nobody_vets_their_own_profile_and_only_vetters_vet() -> None:
    w = at("submitted")
    kit = w.kit
    kit.with_roles(w.therapist, ["customer", "admin"], ["support"])
    with pytest.raises(Exception) as own:
        kit.platform.therapists.start_review(w.therapist.actor, w.therapist.account_id)
    assert getattr(own.value, "code") == "therapist.self"
    for outsider in (kit.customer_by_phone().actor, kit.finance().actor, Actor.anonymous()):
        with pytest.raises(PermissionDenied):
            kit.platform.therapists.start_review(outsider, w.therapist.account_id)
    assert w.state == "submitted"


def test_a_badge_is_suspended_in_the_therapists_own_time_zone() -> None:
    w = at("approved")
    sweep = w.kit.platform.therapists.suspend_expired_badges
    w.kit.clock.set(dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC))  # 23:59 on the last valid day in Shanghai
    assert sweep(Actor.system()) == []
    w.kit.clock.set(dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC))  # midnight in Shanghai: expired
    assert sweep(Actor.system()) == [w.therapist.account_id]
    assert w.state == "badge_suspended"
    assert sweep(Actor.system()) == []  # nothing twice
    assert w.kit.platform.therapists.list_public(Actor.anonymous()) == []
    with pytest.raises(Exception) as still:
        w.kit.platform.therapists.restore_badge(w.vetter.actor, w.therapist.account_id)
    assert getattr(still.value, "code") == "certificate.expired"
    renew(w)
    w.kit.platform.therapists.restore_badge(w.vetter.actor, w.therapist.account_id)
    assert [v.id for v in w.kit.platform.therapists.list_public(Actor.anonymous())] == [w.therapist.account_id]
