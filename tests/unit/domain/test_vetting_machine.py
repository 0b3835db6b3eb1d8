"""Stateful property test of the vetting workflow on the domain aggregate.

Random sequences of every action (by its rightful party) against a model
written out independently of ``domain.vetting``: each step either moves to
the model's next state or raises InvalidTransition naming exactly the
actions the model allows; the history always replays the path taken.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from massage_core.domain.errors import Conflict, InvalidTransition, PermissionDenied
from massage_core.domain.identity_documents import ResidentIdNumber, check_digit
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.therapist_values import Certificate, ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import BackgroundOutcome, Party, SkillTest, VettingAction, VettingState, next_state

MODEL: dict[str, dict[str, str]] = {
    "draft": {"submit": "submitted"},
    "submitted": {"start_review": "document_review", "reject": "rejected"},
    "document_review": {"accept_documents": "background_check", "reject": "rejected"},
    "background_check": {"pass_background_check": "skill_test", "fail_background_check": "rejected",
                         "reject": "rejected"},
    "skill_test": {"pass_skill_test": "approved", "fail_skill_test": "rejected", "reject": "rejected"},
    "approved": {"suspend_badge": "badge_suspended"},
    "rejected": {"submit": "submitted"},
    "badge_suspended": {"restore_badge": "approved"},
}
NOW = pendulum.datetime(2026, 1, 5, 2, tz="UTC")
BODY = "11010119900307123"


class Vetting(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.profile = TherapistProfile.register(
            AccountId("acc_" + "0" * 25 + "1"), NOW, real_name="王小红", id_number=_id(), gender="female",
            years_experience=3, area=ServiceArea(39.9, 116.4, 5),
            certificates=(Certificate("MOHRSS", "ZY-1", dt.date(2030, 1, 1)),),
            services=frozenset({ServiceId("svc_" + "0" * 25 + "1")}))
        self.state = "draft"
        self.path: list[str] = []

    def _fire(self, action: str) -> None:
        p, who = self.profile, "acc_vetter"
        steps = {
            "submit": lambda: p.submit(p.id, NOW),
            "start_review": lambda: p.start_review(who, NOW),
            "accept_documents": lambda: p.accept_documents(who, NOW),
            "pass_background_check": lambda: p.background_checked(BackgroundOutcome.CLEAR, "r", "", who, NOW),
            "fail_background_check": lambda: p.background_checked(BackgroundOutcome.FLAGGED, "r", "x", who, NOW),
            "pass_skill_test": lambda: p.skill_tested(SkillTest(who, 80, 60), who, NOW),
            "fail_skill_test": lambda: p.skill_tested(SkillTest(who, 40, 60), who, NOW),
            "reject": lambda: p.reject(["reason"], who, NOW),
            "suspend_badge": lambda: p.suspend_badge("system", NOW),
            "restore_badge": lambda: p.restore_badge(who, NOW),
        }
        expected = MODEL[self.state].get(action)
        try:
            self.profile = steps[action]()
        except InvalidTransition as err:
            assert expected is None, f"{action} refused in {self.state}"
            assert (err.state, err.action) == (self.state, action)
            assert set(err.allowed) == set(MODEL[self.state])
            return
        assert expected is not None, f"{action} accepted in {self.state}"
        self.state = expected
        self.path.append(action)

    @rule(action=st.sampled_from([a.value for a in VettingAction]))
    def act(self, action: str) -> None:
        self._fire(action)

    @rule(action=st.sampled_from([a.value for a in VettingAction]))
    def the_wrong_party_is_refused(self, action: str) -> None:
        wrong = Party.VETTER if action == "submit" else Party.OWNER
        try:
            next_state(VettingState(self.state), VettingAction(action), wrong)
        except InvalidTransition:
            assert action not in MODEL[self.state]
        except PermissionDenied:
            assert action in MODEL[self.state]
        else:
            raise AssertionError("a step fired by the wrong party")

    @invariant()
    def state_and_history_agree(self) -> None:
        assert self.profile.state.value == self.state
        assert [s.action.value for s in self.profile.history] == self.path
        assert self.profile.certified == (self.state == "approved")
        assert self.profile.is_public == (self.state == "approved")


def _id() -> ResidentIdNumber:
    return ResidentIdNumber.parse(BODY + check_digit(BODY))


Vetting.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
TestVetting = Vetting.TestCase


def test_restoring_a_badge_needs_valid_certificates() -> None:
    machine = Vetting()
    for action in ("submit", "start_review", "accept_documents", "pass_background_check", "pass_skill_test",
                   "suspend_badge"):
        machine._fire(action)
    expired = machine.profile.update(NOW, certificates=())
    try:
        expired.restore_badge("acc_vetter", NOW)
    except Conflict as err:
        assert err.code == "certificate.expired"
    else:
        raise AssertionError("restored without a valid certificate")
