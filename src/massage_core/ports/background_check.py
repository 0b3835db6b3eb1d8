"""The BackgroundCheck port: a third-party criminal-record and identity check of a therapist."""

from __future__ import annotations

import abc

from attrs import frozen

from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.vetting import BackgroundOutcome


@frozen
class BackgroundCheckRequest:
    """Who to check: the therapist's account id (our reference), real name and resident ID number."""

    therapist_id: str
    real_name: str
    id_number: ResidentIdNumber


@frozen
class BackgroundCheckReport:
    """The provider's answer: its reference for the check, the outcome, and a short reason when flagged."""

    reference: str
    outcome: BackgroundOutcome
    details: str = ""


class BackgroundCheck(abc.ABC):
    """A background-check provider."""

    @abc.abstractmethod
    def check(self, request: BackgroundCheckRequest) -> BackgroundCheckReport:
        """Run the check and return its report (never None).

        Raises ``MassageError`` (code ``background_check.unavailable``) when the
        provider cannot be reached or refuses the request; nothing is recorded then
        and the vetter may try again.
        """
