"""A latitude-adjusted grid of points: the memory TherapistLocator's spatial index.

Cells are ``CELL_DEG`` (0.01 degree, ~1.1 km) of latitude high; each row of
cells is ``CELL_DEG / cos(row latitude)`` degrees of longitude wide, so cells
stay ~1.1 km square from the equator to the polar circles (rows near the poles
are capped at 1 degree wide).  A query reads only the cells under the
bounding box of its circle (split at the antimeridian) -- from the grid of all
public therapists, or from the grid of those offering the asked service --
and computes the exact haversine distance of each point in them.  A
k-nearest query starts with a 1 km circle and doubles it until it holds k
points (every point outside a circle is farther than every point inside).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator

from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.search import LocatorQuery, RadPoint, Rating, arc_m, bounding_box, rad_point, widening
from massage_core.domain.therapist_values import Gender

CELL_DEG = 0.01
MAX_WIDTH_DEG = 1.0
Cell = tuple[int, int]
Hit = tuple[float, str, "Entry"]


class Entry:
    """One indexed therapist: position, the filterable attributes and the cell it sits in."""

    __slots__ = ("id", "lat", "lng", "point", "gender", "level", "rating", "services", "cell")

    def __init__(self, therapist_id: AccountId, lat: float, lng: float, gender: Gender, level: str | None,
                 rating: Rating | None, services: frozenset[ServiceId]) -> None:
        self.id = therapist_id
        self.lat, self.lng = lat, lng
        self.point: RadPoint = rad_point(lat, lng)
        self.gender, self.level, self.rating, self.services = gender, level, rating, services
        self.cell: Cell = (0, 0)


class GridIndex:
    """Entries by cell, for all of them and per service; put / remove / search."""

    def __init__(self, cell_deg: float = CELL_DEG) -> None:
        self._deg = cell_deg
        self._widths: dict[int, float] = {}
        self._entries: dict[str, Entry] = {}
        self._all: dict[Cell, dict[str, Entry]] = {}
        self._by_service: dict[str, dict[Cell, dict[str, Entry]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, therapist_id: object) -> bool:
        return therapist_id in self._entries

    def _width(self, row: int) -> float:
        width = self._widths.get(row)
        if width is None:
            middle = min(90.0, abs((row + 0.5) * self._deg))
            width = min(MAX_WIDTH_DEG, self._deg / max(math.cos(math.radians(middle)), 1e-9))
            self._widths[row] = width
        return width

    def cell_of(self, lat: float, lng: float) -> Cell:
        """The (row, column) of a point."""
        row = math.floor(lat / self._deg)
        return row, math.floor(lng / self._width(row))

    def put(self, entry: Entry) -> None:
        """Insert or replace the entry of ``entry.id``."""
        self.remove(entry.id)
        entry.cell = self.cell_of(entry.lat, entry.lng)
        self._entries[entry.id] = entry
        self._all.setdefault(entry.cell, {})[entry.id] = entry
        for service in entry.services:
            self._by_service.setdefault(service, {}).setdefault(entry.cell, {})[entry.id] = entry

    def remove(self, therapist_id: str) -> None:
        """Drop the entry of ``therapist_id`` (nothing when absent)."""
        old = self._entries.pop(therapist_id, None)
        if old is None:
            return
        self._drop(self._all, old)
        for service in old.services:
            self._drop(self._by_service[service], old)

    @staticmethod
    def _drop(grid: dict[Cell, dict[str, Entry]], entry: Entry) -> None:
        cell = grid[entry.cell]
        del cell[entry.id]
        if not cell:
            del grid[entry.cell]

    def load(self, entries: Iterable[Entry]) -> None:
        """Replace everything with ``entries`` (the rebuild path, so ``put`` is inlined)."""
        found: dict[str, Entry] = {}
        every: dict[Cell, dict[str, Entry]] = {}
        by_service: dict[str, dict[Cell, dict[str, Entry]]] = {}
        deg, width, floor = self._deg, self._width, math.floor
        for entry in entries:
            row = floor(entry.lat / deg)
            cell = entry.cell = (row, floor(entry.lng / width(row)))
            found[entry.id] = entry
            here = every.get(cell)
            if here is None:
                here = every[cell] = {}
            here[entry.id] = entry
            for service in entry.services:
                grid = by_service.get(service)
                if grid is None:
                    grid = by_service[service] = {}
                there = grid.get(cell)
                if there is None:
                    there = grid[cell] = {}
                there[entry.id] = entry
        self._entries, self._all, self._by_service = found, every, by_service

    def _cells(self, lat: float, lng: float, radius_m: float,
               grid: dict[Cell, dict[str, Entry]]) -> Iterator[dict[str, Entry]]:
        """The non-empty cells of ``grid`` under the bounding box of the circle."""
        low, high, spans = bounding_box(lat, lng, radius_m)
        for row in range(math.floor(low / self._deg), math.floor(high / self._deg) + 1):
            width = self._width(row)
            for west, east in spans:
                for col in range(math.floor(west / width), math.floor(east / width) + 1):
                    cell = grid.get((row, col))
                    if cell:
                        yield cell

    def _within(self, query: LocatorQuery, radius_m: float, accept: Callable[[str], bool] | None) -> list[Hit]:
        grid = self._all if query.service_id is None else self._by_service.get(query.service_id)
        if not grid:
            return []
        centre = rad_point(query.lat, query.lng)
        gender, levels, min_rating = query.gender, query.levels, query.min_rating
        hits: list[Hit] = []
        for cell in self._cells(query.lat, query.lng, radius_m, grid):
            for entry in cell.values():
                if gender is not None and entry.gender is not gender:
                    continue
                if levels is not None and entry.level not in levels:
                    continue
                if min_rating is not None and (entry.rating is None or entry.rating.average < min_rating):
                    continue
                distance = arc_m(centre, entry.point)
                if distance <= radius_m and (accept is None or accept(entry.id)):
                    hits.append((distance, entry.id, entry))
        return hits

    def search(self, query: LocatorQuery, *, limit: int | None = None,
               accept: Callable[[str], bool] | None = None) -> list[Hit]:
        """``(distance, id, entry)`` of the matching entries, nearest first then by id; ``limit`` nearest only.

        ``accept`` is a last check on the id (the memory locator asks whether the account is active).
        """
        if limit is None:
            return sorted(self._within(query, query.radius_m, accept), key=_hit_key)
        hits: list[Hit] = []
        for radius in widening(query.radius_m):
            hits = self._within(query, radius, accept)
            if len(hits) >= limit:
                break
        return heapq.nsmallest(limit, hits, key=_hit_key)


def _hit_key(hit: Hit) -> tuple[float, str]:
    return hit[0], hit[1]
