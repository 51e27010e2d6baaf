"""Benchmark: the insight page over a region with 1 000 000 historical cases, on PostgreSQL.

    .venv/bin/python bench/insight_scale.py [--cases 1000000] [--url postgres://postgres@127.0.0.1:5432/postgres] [--keep]

Creates its own database (th_bench_insight), migrates it, and generates with
INSERT … SELECT generate_series a region of 19 municipalities (Region Midtjylland) with
1 000 000 children and cases referred over ten years, in every outcome the figures know:
re-referrals, no consent, other routes decided by the committee, joint pathways with their
agenda item and decision, start meetings on time and late (with their meeting and plan
version), assessing interventions, follow-ups (meeting, plan version and the next agreed
date), closing meetings; about 5 % still open. Then it

1. builds the case facts (`insight.facts.facts_refresh(full=True)`, the background job's work);
2. measures the insight page — the real view through the Django test client, charts and
   all — for a municipality's last 12 months, a municipality's ten years, and the whole
   region's ten years (the worst case), each the median of 5 warm requests;
3. builds the daily roll-up the background loop keeps (`insight.rollup`), which periods
   running to today read, and measures the background refresh when 1 000 open cases
   changed and when none did; past periods are computed from the facts as of their end,
   and the page is measured for those too;

and drops the database. Budget: the page under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "th_bench_insight"
BUDGET_SECONDS = 1.0
CSV = ROOT.parent / "shared" / "data" / "municipalities.csv"


def _admin_conn(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL",
                                                        "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the page on the database a --keep run left (no generation)")
    args = parser.parse_args()

    bench_url = urlunsplit(urlsplit(args.url)._replace(path=f"/{DB_NAME}"))
    if not args.reuse:
        with _admin_conn(args.url) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tovholder.settings_test"
    sys.path.insert(0, str(ROOT))
    try:
        return _run(args.cases, reuse=args.reuse)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with _admin_conn(args.url) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def _timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    print(f"  {label:58s} {seconds:7.2f} s")
    return result, seconds


def _generate(n: int) -> dict:
    """The region, its staff (through the demo's services) and n cases (in bulk SQL)."""
    from django.db import connection

    from tovholder.audit.actor import Actor
    from tovholder.demo.region import build_region
    from tovholder.organisations.models import Municipality
    from tovholder.organisations.services import municipality_create

    demo = build_region(csv_path=CSV)
    have = set(Municipality.objects.values_list("code", flat=True))
    import csv

    with CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["region"] == "Region Midtjylland" and row["code"] not in have:
                municipality_create(actor=Actor(system="bench"), region=demo.region, name=row["name"],
                                    code=row["code"])
    municipalities = list(Municipality.objects.filter(region=demo.region).order_by("code").values_list("pk", flat=True))
    school = demo.units["706:school:0"].pk
    lead = demo.users["lars"].pk
    chair = demo.users["karen"].pk
    m = "(ARRAY[" + ",".join(str(x) for x in municipalities) + "])"
    nm = len(municipalities)
    with connection.cursor() as c:
        # Each case's story from one hash of its number: h picks the outcome, d the durations.
        c.execute("""
            CREATE TEMP TABLE plan AS
            SELECT g, h, d,
                   now() - make_interval(days => (30 + (g::bigint * 7919) %% 3650)::int, hours => g %% 9) AS opened,
                   CASE WHEN h < 2 THEN 're' WHEN h < 11 THEN 'no_consent' WHEN h < 15 THEN 'other'
                        ELSE 'pathway' END AS story
            FROM (SELECT g, ((g::bigint * 2654435761) %% 100)::int AS h,
                         ((g::bigint * 40503) %% 1000)::int AS d FROM generate_series(1, %s) g) x""", [n])
        c.execute("""INSERT INTO children_child (cpr, given_name, family_name, birth_date, municipality_id, created_at)
                     SELECT lpad(g::text, 10, '0'), 'Barn', 'Nr ' || g,
                            opened::date - (4 * 365 + (d * 53) %% (13 * 365)), %s, now()
                     FROM plan ORDER BY g""", [municipalities[0]])
        c.execute("SELECT min(id) FROM children_child")
        first_child = c.fetchone()[0]
        c.execute(f"""
            INSERT INTO cases_case (municipality_id, child_id, stage, closed_reason, referral_channel, referrer_unit_id,
                                    is_re_referral, opened_at, consent_completed_at, committee_decided_at, closed_at,
                                    next_deadline, next_deadline_kind, exempt_from_deadlines, exemption_reason, version)
            SELECT {m}[1 + g %% {nm}], {first_child} + g - 1,
                   CASE WHEN story = 'no_consent' THEN 'closed' WHEN story = 'other' THEN 'closed'
                        WHEN opened + interval '420 days' < now() THEN 'closed' ELSE 'active' END,
                   CASE WHEN story = 'no_consent' THEN 'no_consent' WHEN story = 'other' THEN 'ordinary_route'
                        WHEN opened + interval '420 days' < now() THEN 'pathway_completed' ELSE '' END,
                   (ARRAY['gp','gp','parents_via_gp','school','hospital','bua'])[1 + d %% 6], NULL,
                   story = 're', opened,
                   CASE WHEN story <> 'no_consent' THEN opened + make_interval(days => 2 + d %% 18) END,
                   CASE WHEN story <> 'no_consent' THEN opened + make_interval(days => 4 + d %% 18 + d %% 9) END,
                   CASE WHEN story = 'no_consent' THEN opened + interval '22 days'
                        WHEN story = 'other' THEN opened + make_interval(days => 4 + d %% 18 + d %% 9)
                        WHEN opened + interval '420 days' < now() THEN opened + interval '420 days' END,
                   NULL, '', d %% 97 = 0, '', 3
            FROM plan ORDER BY g""", [])
        c.execute("SELECT min(id) FROM cases_case")
        first_case = c.fetchone()[0]
        c.execute("""
            INSERT INTO committee_agendaitem (case_id, municipality_id, origin, ready_at, return_reason, state, due_on,
                                              decided_on, compliance, late_explanation, created_at, version)
            SELECT c.id, c.municipality_id, 'consent', c.consent_completed_at, '', 'decided',
                   (c.consent_completed_at + interval '12 days')::date, c.committee_decided_at::date,
                   CASE WHEN c.committee_decided_at <= c.consent_completed_at + interval '12 days' THEN 'met'
                        ELSE 'missed' END,
                   CASE WHEN c.committee_decided_at <= c.consent_completed_at + interval '12 days' THEN ''
                        ELSE 'Ferie' END, c.consent_completed_at, 2
            FROM cases_case c WHERE c.consent_completed_at IS NOT NULL""", [])
        c.execute(f"""
            INSERT INTO committee_committeedecision (item_id, kind, conclusion, reason, exemption_ground, lead_user_id,
                                                     unit_id, referred_to, decided_by_id, decided_at, recorded_at)
            SELECT a.id, CASE WHEN p.story = 'other' THEN 'ordinary_route' ELSE 'pathway' END, 'Afgjort', '', '',
                   CASE WHEN p.story = 'other' THEN NULL ELSE {lead} END, {school}, '', {chair},
                   c.committee_decided_at, c.committee_decided_at
            FROM committee_agendaitem a JOIN cases_case c ON c.id = a.case_id
            JOIN plan p ON p.g = c.id - {first_case} + 1""", [])
        c.execute(f"""
            INSERT INTO pathway_pathway (case_id, lead_user_id, lead_unit_id, lead_since, started_at, decided_on,
                                         start_meeting_on, needs_assessment, intervention_started_on,
                                         first_follow_up_on, last_meeting_on, next_meeting_on, closed_on,
                                         everyday_support, version)
            SELECT c.id, {lead}, {school}, c.committee_decided_at, c.committee_decided_at, c.committee_decided_at::date,
                   s.start_on, p.d %% 10 <> 0,
                   CASE WHEN p.d %% 10 <> 0 AND p.d %% 3 <> 0 THEN s.start_on + (5 + p.d %% 50) END,
                   CASE WHEN p.d %% 4 <> 0 THEN s.start_on + (20 + p.d %% 120) END,
                   s.start_on + (20 + p.d %% 120), s.start_on + (60 + p.d %% 120),
                   CASE WHEN c.stage = 'closed' THEN c.closed_at::date END, '', 5
            FROM cases_case c JOIN plan p ON p.g = c.id - {first_case} + 1
            CROSS JOIN LATERAL (SELECT c.committee_decided_at::date + (7 + p.d %% 45) AS start_on) s
            WHERE p.story IN ('pathway', 're')""", [])
        # The start meeting and the first follow-up, each with its version of the plan and the
        # next meeting's agreed date (what the next-follow-up clock counts).
        for kind, held, number, agreed in (
                ("start", "p.start_meeting_on", 1, "COALESCE(p.first_follow_up_on, p.start_meeting_on + 42)"),
                ("follow_up", "p.first_follow_up_on", 2, "p.first_follow_up_on + 42")):
            c.execute(f"""
                INSERT INTO pathway_meeting (pathway_id, kind, starts_at, ends_at, place, video_link, status,
                                             child_statement, uid, sequence, created_by_id, created_at, idempotency_key)
                SELECT p.id, '{kind}', {held} + time '14:00', {held} + time '15:00', 'Skolen', '', 'held', '',
                       'bench-{kind}-' || p.id, 0, {lead}, now(), ''
                FROM pathway_pathway p WHERE {held} IS NOT NULL""", [])
            c.execute(f"""
                INSERT INTO pathway_planversion (pathway_id, number, meeting_id, meeting_kind, held_on, next_meeting_on,
                                                 parents_agree, content, created_by_id, created_at)
                SELECT m.pathway_id, {number}, m.id, '{kind}', {held}, {agreed},
                       (ARRAY['yes','yes','partly','no'])[1 + m.id %% 4], '{{}}', {lead}, now()
                FROM pathway_meeting m JOIN pathway_pathway p ON p.id = m.pathway_id WHERE m.kind = '{kind}'""", [])
        c.execute("ANALYZE")
    return {"demo": demo}


def _page(client, params: dict) -> float:
    t0 = time.perf_counter()
    response = client.get("/indsigt/", params)
    seconds = time.perf_counter() - t0
    assert response.status_code == 200, response.status_code
    return seconds


def _run(n: int, *, reuse: bool = False) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from tovholder.cases.models import Case
    from tovholder.insight.facts import facts_refresh
    from tovholder.insight.models import CaseFact, FactRollup
    from tovholder.insight.rollup import rollup_rebuild, rollup_update
    from tovholder.organisations.models import Region, User

    if reuse:
        n = CaseFact.objects.count()
        print(f"Insight over {n:,} cases (PostgreSQL, {os.cpu_count()} cores), reusing {DB_NAME}")
        call_command("migrate", verbosity=0)
        _timed("build the daily roll-up (as of today)", rollup_rebuild)
        print(f"  {'':58s} {FactRollup.objects.count():,} roll-up rows")
        return _measure(n, Region.objects.get(name="Region Midtjylland").pk, User.objects.get(username="karen"),
                        User.objects.filter(username="bench-admin").first())
    print(f"Insight over {n:,} cases (PostgreSQL, {os.cpu_count()} cores)")
    _timed("migrate", lambda: call_command("migrate", verbosity=0))
    world, _s = _timed(f"generate the region and {n:,} cases (SQL)", lambda: _generate(n))
    demo = world["demo"]

    written, build = _timed("build the case facts (full refresh)", lambda: facts_refresh(full=True))
    assert written == n == CaseFact.objects.count(), (written, n)
    with connection.cursor() as c:
        c.execute("ANALYZE insight_casefact")
    _, daily = _timed("build the daily roll-up (as of today)", rollup_rebuild)
    print(f"  {'':58s} {FactRollup.objects.count():,} roll-up rows")
    with connection.cursor() as c:
        c.execute("ANALYZE insight_factrollup")

    def refresh():
        ids: list[int] = []
        facts_refresh(written_ids=ids)
        rollup_update(case_ids=ids)
        return ids

    _, nothing = _timed("background refresh, nothing changed", refresh)
    open_ids = list(Case.objects.exclude(stage="closed").values_list("pk", flat=True)[:1000])
    Case.objects.filter(pk__in=open_ids).update(version=99)
    changed, some = _timed(f"background refresh, {len(open_ids):,} open cases changed", refresh)
    assert len(changed) == len(open_ids), len(changed)

    print(f"\n  facts built in {build:.1f} s, daily roll-up in {daily:.1f} s; background refresh with nothing "
          f"changed {nothing:.2f} s, with 1 000 cases changed {some:.2f} s")
    return _measure(n, demo.region.pk, demo.users["karen"], None)


def _measure(n: int, region: int, chair, superuser) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tovholder.insight.models import CaseFact
    from tovholder.organisations.models import User

    client = Client()
    client.force_login(chair)
    admin = Client()
    superuser = superuser or User.objects.create_superuser("bench-admin", password=None)
    admin.force_login(superuser)
    today = timezone.localdate()
    last_year = today.replace(year=today.year - 1)
    cases = [
        ("Syddjurs, the last 12 months", client, {"omraade": "706"}),
        ("Syddjurs, ten years", client, {"omraade": "706", "fra": "2015-01-01", "til": today.isoformat()}),
        ("the region (19 municipalities), ten years", admin,
         {"omraade": f"region-{region}", "fra": "2015-01-01", "til": today.isoformat()}),
        ("Syddjurs, last calendar year (live, as of its end)", client,
         {"omraade": "706", "fra": f"{last_year.year}-01-01", "til": f"{last_year.year}-12-31"}),
        ("the region, last calendar year (live, as of its end)", admin,
         {"omraade": f"region-{region}", "fra": f"{last_year.year}-01-01", "til": f"{last_year.year}-12-31"}),
    ]
    results = []
    print("\n  The insight page (median of 5 warm requests, the real view with its charts):")
    for label, who, params in cases:
        _page(who, params)  # warm
        times = [_page(who, params) for _ in range(5)]
        with CaptureQueriesContext(connection) as ctx:
            _page(who, params)
        cohort = CaseFact.objects.filter(
            **({"region_id": region} if params["omraade"].startswith("region") else
               {"municipality__code": params["omraade"]}),
            opened_on__gte=params.get("fra", (today.replace(year=today.year - 1)).isoformat()),
            opened_on__lte=params.get("til", today.isoformat()))
        median = statistics.median(times)
        results.append(median)
        print(f"  {label:44s} {median:6.3f} s  (max {max(times):.3f} s, {len(ctx.captured_queries)} queries, "
              f"{cohort.count():,} cases)")
    worst = max(results)
    ok = worst < BUDGET_SECONDS
    print(f"  budget {BUDGET_SECONDS:.0f} s for the page: {'met' if ok else 'NOT MET'} (worst {worst:.3f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
