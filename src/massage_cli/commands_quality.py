"""``massage therapists rank``: the quality ranking of a city and service (decision 0039); a token with
``quality.read`` (support, auditor, superadmin)."""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit

COLUMNS = ["position", "therapist", "score", "rating", "acceptance", "reliability", "punctuality", "safety",
           "complaints", "sanctions", "reviews"]


@click.command("rank")
@click.option("--city", required=True, help="A city of the ranking gazetteer, e.g. shanghai.")
@click.option("--service", required=True, help="A catalogue service id.")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=20)
@click.pass_obj
def rank(obj: CliContext, city: str, service: str, offset: int, limit: int) -> None:
    """Rank the therapists of CITY offering SERVICE by quality score (ties: more reviews, then id)."""
    page = obj.platform().quality.ranking(obj.actor(), city, service, offset=offset, limit=limit)
    emit([{"position": e.position, "therapist": e.therapist_id, "score": f"{e.score.score:.2f}",
           "rating": e.score.rating, "acceptance": e.score.acceptance, "reliability": e.score.reliability,
           "punctuality": e.score.punctuality, "safety": e.score.safety, "complaints": e.score.upheld_complaints,
           "sanctions": e.score.standing_sanctions, "reviews": e.score.review_count} for e in page.entries],
         COLUMNS, obj.output)
    if obj.output == "table":
        click.echo(f"{page.total} ranked in {page.city}")
