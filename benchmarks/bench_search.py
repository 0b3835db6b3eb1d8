"""Therapist search: 100,000 therapists over a 40 x 40 km city; the 20 nearest within 5 km offering a service.

Memory: the grid locator (``MemoryTherapistLocator``) after ``rebuild()`` from 100,000 profiles in the
memory tables; SQLite: the bounding-box locator on a file database filled by bulk inserts.  Each beside a
brute-force scan of every therapist in the same run, and the ratio.  Targets (issue 3): memory median
<= 0.3 ms and p95 <= 1 ms, SQLite <= 5 ms, rebuild <= 0.5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs
from sqlalchemy import insert

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.locator import MemoryTherapistLocator
from massage_core.adapters.memory.store import Tables
from massage_core.adapters.sql.fields import THERAPIST_ID_NUMBER, THERAPIST_REAL_NAME, FieldCodec
from massage_core.adapters.sql.migrate import upgrade
from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_therapists import therapist_profiles, therapist_services
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.accounts import Account, LoginMethod
from massage_core.domain.catalog import Category, Service, TherapistLevel
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.identity_documents import ResidentIdNumber, check_digit
from massage_core.domain.ids import AccountId, CategoryId, ServiceId
from massage_core.domain.search import LocatorQuery, haversine_m
from massage_core.domain.therapist_values import Certificate, Gender, ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.domain.vetting import VettingState

CENTRE = (31.2304, 121.4737)
HALF_LAT, HALF_LNG = 0.18, 0.21  # ~40 x 40 km
LEVELS = ("junior", "senior", "expert")
RADIUS_M, K = 5000.0, 20
ID_BODY = "11010119900307651"


def stats(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def line(label: str, median: float, p95: float) -> None:
    print(f"  {label:<58} median {median:8.3f} ms   p95 {p95:8.3f} ms")


def people(n: int, services: list[str], rng: random.Random) -> list[tuple[str, float, float, str, str, tuple[str, ...]]]:
    rows = []
    for i in range(n):
        lat = round(CENTRE[0] + rng.uniform(-HALF_LAT, HALF_LAT), 6)
        lng = round(CENTRE[1] + rng.uniform(-HALF_LNG, HALF_LNG), 6)
        offered = tuple(sorted(rng.sample(services, rng.randint(1, 3))))
        rows.append((f"acc_{i:026d}", lat, lng, rng.choice(("female", "male")), rng.choice(LEVELS), offered))
    return rows


def queries(count: int, services: list[str], rng: random.Random) -> list[LocatorQuery]:
    return [LocatorQuery(CENTRE[0] + rng.uniform(-0.12, 0.12), CENTRE[1] + rng.uniform(-0.14, 0.14), RADIUS_M,
                         service_id=ServiceId(rng.choice(services))) for _ in range(count)]


def brute_force(rows: list[tuple[str, float, float, str, str, tuple[str, ...]]]) -> Callable[[LocatorQuery], list[str]]:
    def scan(q: LocatorQuery) -> list[str]:
        found = sorted((haversine_m(q.lat, q.lng, lat, lng), tid) for tid, lat, lng, _, _, offered in rows
                       if q.service_id in offered)
        return [tid for d, tid in found if d <= q.radius_m][:K]
    return scan


def memory(rows: list[tuple[str, float, float, str, str, tuple[str, ...]]], qs: list[LocatorQuery],
           runs: int, now: Instant) -> None:
    print(f"memory grid locator, {len(rows):,} therapists")
    template = TherapistProfile.register(AccountId("acc_template"), now, real_name="王小红",
                                         id_number=ResidentIdNumber.parse(ID_BODY + check_digit(ID_BODY)), gender="female", years_experience=5,
                                         area=ServiceArea(*CENTRE, 8),
                                         certificates=(Certificate("人社部", "CERT-001", "2030-06-30"),))
    template = attrs.evolve(template, state=VettingState.APPROVED, events=())
    account = Account.register(AccountId("acc_template"), now, LoginMethod.PHONE,
                               phone=PhoneNumber.parse("13900000000")).clear_events()
    tables = Tables()
    for tid, lat, lng, gender, level, offered in rows:
        tables.therapists[tid] = attrs.evolve(template, id=AccountId(tid), area=ServiceArea(lat, lng, 8),
                                              gender=Gender(gender), level=level,
                                              services=frozenset(ServiceId(s) for s in offered))
        tables.accounts[tid] = account
    locator = MemoryTherapistLocator(tables)
    start = time.perf_counter()
    indexed = locator.rebuild()
    print(f"  rebuild(): {indexed:,} public therapists indexed in {time.perf_counter() - start:.3f} s")
    scan = brute_force(rows)
    for q in qs[:20]:
        assert [c.therapist_id for c in locator.search(q, limit=K)] == scan(q)
    it = iter(qs * (runs // len(qs) + 1))
    lib = stats(runs, lambda: locator.search(next(it), limit=K))
    line("locator.search(20 nearest within 5 km, service)", *lib)
    it_all = iter(qs * (runs // len(qs) + 1))
    line("locator.search(all within 5 km, service) -- for totals", *stats(runs // 4, lambda: locator.search(next(it_all))))
    it2 = iter(qs)
    brute = stats(max(5, runs // 50), lambda: scan(next(it2)))
    line("brute force: haversine of every therapist", *brute)
    print(f"  ratio brute force / grid (median): {brute[0] / lib[0]:,.0f}x")


def sqlite(rows: list[tuple[str, float, float, str, str, tuple[str, ...]]], services: list[str],
           qs: list[LocatorQuery], runs: int, folder: Path, now: Instant) -> None:
    print(f"SQLite bounding-box locator, {len(rows):,} therapists")
    url = f"sqlite:///{folder / 'search.db'}"
    upgrade(url)
    platform = Platform.from_url(url, keyring=KeyRing.generate(), hasher=Argon2idPasswordHasher.for_tests())
    engine = platform.engine
    with platform.deps.uow() as uow:
        for rank, code in enumerate(LEVELS, start=1):
            uow.levels.add(TherapistLevel(code, code.title(), rank * 10))
        category = uow.categories.add(Category(CategoryId("cat_" + "0" * 26), now, "Full body"))
        for sid in services:
            uow.catalog_services.add(Service(ServiceId(sid), now, category.id, f"Service {sid[-2:]}", 60,
                                             {code: 19_800 + 6_000 * n for n, code in enumerate(LEVELS)}))
        uow.commit()
    common = {"created_at": now, "version": 1}
    codec = FieldCodec(platform.deps.cipher)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": tid, "roles": "customer,therapist", "admin_roles": "",
                                         "status": "active", "display_name": "", "suspended_reason": "", **common}
                                        for tid, *_ in rows])
        conn.execute(insert(therapist_profiles), [
            {"account_id": tid, "id_number_idx": f"bench-{tid}",
             "real_name_enc": codec.seal(THERAPIST_REAL_NAME, (tid,), "王小红"),
             "id_number_enc": codec.seal(THERAPIST_ID_NUMBER, (tid,), ID_BODY + check_digit(ID_BODY)), "gender": gender, "years_experience": 5,
             "specialties": "[]", "bio": "", "area_lat_e6": round(lat * 1e6), "area_lng_e6": round(lng * 1e6),
             "area_radius_m": 8000, "time_zone": "Asia/Shanghai", "level_code": level, "vetting_state": "approved",
             "rejection_reasons": "[]", "background_reference": "", "background_outcome": "", "active": True,
             "suspended": False, "suspended_reason": "", "updated_at": now, **common}
            for tid, lat, lng, gender, level, _ in rows])
        conn.execute(insert(therapist_services), [{"account_id": tid, "service_id": s}
                                                  for tid, *_, offered in rows for s in offered])
    scan = brute_force(rows)
    with platform.deps.uow() as uow:
        print(f"  rebuild(): {uow.locator.rebuild():,} public therapists (SQL indexes are always current)")
        for q in qs[:20]:
            assert [c.therapist_id for c in uow.locator.search(q, limit=K)] == scan(q)
        it = iter(qs * (runs // len(qs) + 1))
        lib = stats(runs, lambda: uow.locator.search(next(it), limit=K))
        line("locator.search(20 nearest within 5 km, service)", *lib)
        it_all = iter(qs * (runs // len(qs) + 1))
        line("locator.search(all within 5 km, service) -- for totals",
             *stats(runs // 10, lambda: uow.locator.search(next(it_all))))
    raw = engine.raw_connection()

    def sql_scan(q: LocatorQuery) -> list[str]:
        cursor = raw.cursor()
        cursor.execute("SELECT p.account_id, p.area_lat_e6, p.area_lng_e6 FROM therapist_profiles p JOIN "
                       "therapist_services s ON s.account_id = p.account_id WHERE s.service_id = ?", (q.service_id,))
        found = sorted((haversine_m(q.lat, q.lng, la / 1e6, ln / 1e6), tid) for tid, la, ln in cursor.fetchall())
        return [tid for d, tid in found if d <= q.radius_m][:K]

    it2 = iter(qs)
    brute = stats(max(5, runs // 50), lambda: sql_scan(next(it2)))
    line("brute force: every row offering the service + haversine", *brute)
    print(f"  ratio brute force / bounding box (median): {brute[0] / lib[0]:,.0f}x")
    raw.close()
    q0 = qs[0]
    line("platform.search.therapists (page of 20 + total, SQLite)", *stats(10, lambda: platform.search.therapists(
        Actor.anonymous(), lat=q0.lat, lng=q0.lng, radius_km=5, limit=20)))
    platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--therapists", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--services", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(2026)
    services = [f"svc_{i:026d}" for i in range(args.services)]
    rows = people(args.therapists, services, rng)
    qs = queries(200, services, rng)
    now = Platform.in_memory().deps.clock.now()
    memory(rows, qs, args.runs, now)
    sqlite(rows, services, qs, args.runs, Path(tempfile.mkdtemp(prefix="massage-bench-")), now)


if __name__ == "__main__":
    main()
