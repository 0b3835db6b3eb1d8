"""``massage therapists``: list, show, vet (review, approve, reject), suspend, reinstate, set levels."""

from __future__ import annotations

from typing import Any

import attrs
import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.access import Actor
from massage_core.services.therapist_views import TherapistView

LIST_COLUMNS = ["id", "state", "certified", "public", "level", "real_name", "gender", "years_experience",
                "suspended", "created_at"]
PUBLIC_COLUMNS = ["id", "name", "gender", "level", "certified", "years_experience", "specialties", "services",
                  "area_lat", "area_lng", "radius_km"]
REVIEW_STEPS = ("start", "documents", "background")


def _row(view: TherapistView) -> dict[str, Any]:
    row = attrs.asdict(view, recurse=False)
    row["certificates"] = [f"{c.issuer} {c.number} until {c.expires_on}" for c in view.certificates]
    row.pop("history")
    return row


def _done(obj: CliContext, view: TherapistView) -> None:
    if obj.output == "table":
        extra = f" ({'; '.join(view.rejection_reasons)})" if view.state == "rejected" else ""
        click.echo(f"{view.id} is {view.state}{extra}")
        return
    emit_one(_row(view), obj.output)


@click.group()
def therapists() -> None:
    """Therapist profiles and their vetting."""


@therapists.command("list")
@click.option("--state", default=None, help="draft, submitted, document_review, background_check, skill_test, "
                                             "approved, rejected or badge_suspended.")
@click.option("--public", "public", is_flag=True, help="What customers see (no token needed).")
@click.option("--service", default=None, help="With --public: offering this service id.")
@click.option("--level", default=None, help="With --public: of this level.")
@click.option("--offset", default=0, show_default=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def list_therapists(obj: CliContext, state: str | None, public: bool, service: str | None, level: str | None,
                    offset: int, limit: int) -> None:
    """List profiles (masked) for admins, or the public directory with --public."""
    platform = obj.platform()
    if public:
        actor = obj.actor() if obj.token else Actor.anonymous()
        cards = platform.therapists.list_public(actor, service=service, level=level, offset=offset, limit=limit)
        emit([attrs.asdict(c) for c in cards], PUBLIC_COLUMNS, obj.output)
        return
    views = platform.therapists.list(obj.actor(), state=state, offset=offset, limit=limit)
    emit([_row(v) for v in views], LIST_COLUMNS, obj.output)


@therapists.command("show")
@click.argument("therapist_id")
@click.option("--history/--no-history", default=True, show_default=True, help="Show the vetting steps.")
@click.pass_obj
def show(obj: CliContext, therapist_id: str, history: bool) -> None:
    """One profile (masked) and its vetting history."""
    view = obj.platform().therapists.profile(obj.actor(), therapist_id)
    emit_one(_row(view), obj.output)
    if history:
        if obj.output == "table":
            click.echo("")
        emit([attrs.asdict(step) for step in view.history], ["at", "action", "actor", "from_state", "to_state",
                                                              "note"], obj.output)


@therapists.command("review")
@click.argument("therapist_id")
@click.option("--step", type=click.Choice(REVIEW_STEPS), required=True,
              help="start: begin the document review; documents: accept them; background: run the check.")
@click.pass_obj
def review(obj: CliContext, therapist_id: str, step: str) -> None:
    """Take a submitted profile through document review and the background check."""
    p, actor = obj.platform().therapists, obj.actor()
    methods = {"start": p.start_review, "documents": p.accept_documents, "background": p.run_background_check}
    _done(obj, methods[step](actor, therapist_id))


@therapists.command("approve")
@click.argument("therapist_id")
@click.option("--score", type=int, required=True, help="Skill test score 0..100 (you are the examiner).")
@click.option("--pass-mark", type=int, default=60, show_default=True)
@click.pass_obj
def approve(obj: CliContext, therapist_id: str, score: int, pass_mark: int) -> None:
    """Record the skill test: a pass approves (certified badge), a fail rejects."""
    _done(obj, obj.platform().therapists.record_skill_test(obj.actor(), therapist_id, score=score,
                                                           pass_mark=pass_mark))


@therapists.command("reject")
@click.argument("therapist_id")
@click.option("--reason", "reasons", multiple=True, required=True, help="Repeat for several reasons.")
@click.pass_obj
def reject(obj: CliContext, therapist_id: str, reasons: tuple[str, ...]) -> None:
    """Reject a profile under review; the therapist may fix it and resubmit."""
    _done(obj, obj.platform().therapists.reject(obj.actor(), therapist_id, list(reasons)))


@therapists.command("suspend")
@click.argument("therapist_id")
@click.option("--reason", required=True)
@click.pass_obj
def suspend(obj: CliContext, therapist_id: str, reason: str) -> None:
    """Hide a therapist from customers."""
    view = obj.platform().therapists.suspend(obj.actor(), therapist_id, reason)
    click.echo(f"{view.id} suspended: {view.suspended_reason}")


@therapists.command("reinstate")
@click.argument("therapist_id")
@click.pass_obj
def reinstate(obj: CliContext, therapist_id: str) -> None:
    """Lift a suspension."""
    view = obj.platform().therapists.reinstate(obj.actor(), therapist_id)
    click.echo(f"{view.id} reinstated ({'public' if view.public else 'not public: ' + view.state})")


@therapists.command("set-level")
@click.argument("therapist_id")
@click.argument("level")
@click.pass_obj
def set_level(obj: CliContext, therapist_id: str, level: str) -> None:
    """Assign a level (it decides the price of each service)."""
    view = obj.platform().therapists.set_level(obj.actor(), therapist_id, level)
    click.echo(f"{view.id} is now {view.level}")


@therapists.command("restore-badge")
@click.argument("therapist_id")
@click.pass_obj
def restore_badge(obj: CliContext, therapist_id: str) -> None:
    """Re-check a badge suspended for an expired certificate (after the therapist renewed it)."""
    _done(obj, obj.platform().therapists.restore_badge(obj.actor(), therapist_id))


@therapists.command("suspend-expired-badges")
@click.pass_obj
def suspend_expired_badges(obj: CliContext) -> None:
    """The daily job: suspend the badge of every therapist with an expired certificate."""
    ids = obj.platform().therapists.suspend_expired_badges(obj.actor())
    emit([{"id": i} for i in ids], ["id"], obj.output)


from massage_cli.commands_search import search as _search  # noqa: E402  (the customer's search, in its own module)

therapists.add_command(_search)
