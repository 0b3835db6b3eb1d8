"""``massage therapists search``: the customer's search, from the command line (no token needed)."""

from __future__ import annotations

from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit
from massage_core.domain.access import Actor
from massage_core.domain.money import Money
from massage_core.services.search import SearchResult

SEARCH_COLUMNS = ["id", "name", "gender", "level", "distance_m", "price", "rating", "reviews", "score"]


def _row(r: SearchResult) -> dict[str, Any]:
    card = r.therapist
    return {"id": card.id, "name": card.name, "gender": card.gender, "level": card.level,
            "distance_m": r.distance_m, "price": str(r.price) if r.price is not None else None,
            "rating": f"{r.rating.average:.2f}" if r.rating is not None else None,
            "reviews": r.rating.count if r.rating is not None else 0, "score": f"{r.score:.4f}"}


@click.command("search")
@click.option("--lat", type=float, required=True, help="Latitude of the customer (WGS-84 degrees).")
@click.option("--lng", type=float, required=True, help="Longitude of the customer.")
@click.option("--radius-km", type=float, default=10.0, show_default=True, help="Up to 50 km.")
@click.option("--service", default=None, help="Offering this service id (needed by prices, price order, --free-at).")
@click.option("--min-price", default=None, help="Yuan, e.g. 150 or 150.50 (the price at the therapist's level).")
@click.option("--max-price", default=None, help="Yuan.")
@click.option("--min-rating", type=float, default=None, help="0..5 stars; unrated therapists are left out.")
@click.option("--gender", default=None, help="female or male.")
@click.option("--level", default=None, help="Level code, e.g. senior.")
@click.option("--free-at", default=None, help="ISO 8601 time with offset, e.g. 2026-01-06T14:00+08:00.")
@click.option("--sort", type=click.Choice(["distance", "price", "rating", "score"]), default="distance",
              show_default=True)
@click.option("--offset", default=0, show_default=True)
@click.option("--limit", default=20, show_default=True, help="1..100.")
@click.pass_obj
def search(obj: CliContext, lat: float, lng: float, radius_km: float, service: str | None, min_price: str | None,
           max_price: str | None, min_rating: float | None, gender: str | None, level: str | None,
           free_at: str | None, sort: str, offset: int, limit: int) -> None:
    """Therapists near a point, as customers find them; each result with its distance in metres."""
    actor = obj.actor() if obj.token else Actor.anonymous()
    page = obj.platform().search.therapists(
        actor, lat=lat, lng=lng, radius_km=radius_km, service=service,
        min_price=Money.parse_yuan(min_price) if min_price is not None else None,
        max_price=Money.parse_yuan(max_price) if max_price is not None else None,
        min_rating=min_rating, gender=gender, level=level, free_at=free_at, sort=sort, offset=offset, limit=limit)
    emit([_row(r) for r in page.results], SEARCH_COLUMNS, obj.output)
    if obj.output == "table":
        shown = f"{offset + 1}..{offset + len(page.results)}" if page.results else "none"
        click.echo(f"{page.total} found within {radius_km:g} km; showing {shown} by {page.sort}")
