"""Benchmark: the daily deadline sweep over 100 000 active pathways on PostgreSQL.

    .venv/bin/python bench/pathway_sweep.py [--pathways 100000] [--url postgres://postgres@127.0.0.1:5432/postgres]

Creates its own database (th_bench_pathway), migrates it, generates the rows in bulk with
INSERT … SELECT generate_series (children, cases, pathways in every state the clocks know,
three municipalities with different clock settings, 1 % exempt), then times
`tovholder.pathway.clocks.sweep_deadlines`:

- cold: every case's stored next deadline is wrong (all 100 000 rows are rewritten);
- warm: the next day's run, when nothing changed (only reading and comparing);
- after a municipality changes its start-meeting clock (a third of the rows change).

It checks a sample against the per-case computation, then drops the database.
Budget: under 10 s for a sweep on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "th_bench_pathway"
BUDGET_SECONDS = 10.0


def _admin_conn(url: str):
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin, autocommit=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pathways", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")
    args = parser.parse_args()

    parts = urlsplit(args.url)
    bench_url = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    with _admin_conn(args.url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tovholder.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("DEBUG", "True")
    sys.path.insert(0, str(ROOT))
    try:
        return _run(args.pathways)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with _admin_conn(args.url) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def _run(n: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute("INSERT INTO organisations_region (name) VALUES ('Region Midtjylland') RETURNING id")
        region = c.fetchone()[0]
        municipalities = []
        for code, name, weeks in (("706", "Syddjurs", 4), ("707", "Norddjurs", 5), ("710", "Favrskov", 3)):
            c.execute(
                """INSERT INTO organisations_municipality (region_id, name, code, closed_constitution_day,
                   closed_christmas_eve, closed_new_years_eve, committee_working_days, start_meeting_weeks,
                   intervention_weeks, first_follow_up_weeks, consent_answer_days, consent_reminder_days,
                   consent_validity_days) VALUES (%s, %s, %s, true, true, true, 8, %s, 4, 6, 14, 7, 365)
                   RETURNING id""", [region, name, code, weeks])
            municipalities.append(c.fetchone()[0])
        c.execute("""INSERT INTO organisations_unit (kind, name, region_id, municipality_id, sor_id, gln, phone,
                     email, address) VALUES ('school', 'Rønde Skole', %s, %s, '', '', '', '', '') RETURNING id""",
                  [region, municipalities[0]])
        unit = c.fetchone()[0]
        c.execute("""INSERT INTO organisations_user (password, is_superuser, username, first_name, last_name, email,
                     is_staff, is_active, date_joined, title, phone)
                     SELECT '!', false, 'lead' || g, 'Lead', 'Nr ' || g, '', false, true, now(), 'Lærer', ''
                     FROM generate_series(1, 500) g""")
        c.execute("SELECT min(id) FROM organisations_user")
        first_user = c.fetchone()[0]
        c.execute("""INSERT INTO children_child (cpr, given_name, family_name, birth_date, municipality_id, created_at)
                     SELECT lpad(g::text, 10, '0'), 'Barn', 'Nr ' || g, DATE '2012-01-01' + (g %% 3000), %s, now()
                     FROM generate_series(1, %s) g""", [municipalities[0], n])
        c.execute("SELECT min(id) FROM children_child")
        first_child = c.fetchone()[0]
        # Cases: a third in each municipality; 1 % exempt; a quarter still awaiting the start meeting.
        c.execute(f"""INSERT INTO cases_case (municipality_id, child_id, stage, closed_reason, referral_channel,
                     is_re_referral, opened_at, consent_completed_at, committee_decided_at, next_deadline,
                     next_deadline_kind, exempt_from_deadlines, exemption_reason, version)
                     SELECT (ARRAY[{municipalities[0]}, {municipalities[1]}, {municipalities[2]}])[1 + g %% 3],
                            {first_child} + g - 1,
                            CASE WHEN g %% 4 = 0 THEN 'awaiting_start' ELSE 'active' END, '', 'gp', false,
                            now() - interval '200 days', now() - interval '190 days',
                            now() - make_interval(days => g %% 150), NULL, '', g %% 100 = 0, '', 1
                     FROM generate_series(1, %s) g""", [n])
        c.execute("SELECT min(id) FROM cases_case")
        first_case = c.fetchone()[0]
        # Pathways in every state: awaiting start; started (with or without an assessing
        # intervention, or none needed); followed up with an agreed next meeting.
        c.execute(f"""INSERT INTO pathway_pathway (case_id, lead_user_id, lead_unit_id, lead_since, started_at,
                     decided_on, start_meeting_on, needs_assessment, intervention_started_on, first_follow_up_on,
                     last_meeting_on, next_meeting_on, closed_on, everyday_support, version)
                     SELECT {first_case} + g - 1, {first_user} + g %% 500, {unit}, now(), now(),
                            current_date - (g %% 150),
                            CASE WHEN g %% 4 = 0 THEN NULL ELSE current_date - (g %% 150) + 20 END,
                            g %% 5 <> 0,
                            CASE WHEN g %% 4 <> 0 AND g %% 3 = 0 THEN current_date - (g %% 150) + 30 END,
                            CASE WHEN g %% 4 <> 0 AND g %% 2 = 0 THEN current_date - (g %% 150) + 60 END,
                            CASE WHEN g %% 4 = 0 THEN NULL ELSE current_date - (g %% 150) + 20 END,
                            CASE WHEN g %% 4 = 0 THEN NULL ELSE current_date - (g %% 150) + 100 END,
                            NULL, '', 1
                     FROM generate_series(1, %s) g""", [n])
        c.execute("ANALYZE")
    print(f"generated {n:,} children, cases and pathways in {time.perf_counter() - t0:.1f} s")

    from tovholder.cases.models import Case
    from tovholder.pathway.clocks import sweep_deadlines

    results = {}
    t0 = time.perf_counter()
    changed = sweep_deadlines()
    results["cold"] = (time.perf_counter() - t0, changed)
    t0 = time.perf_counter()
    changed = sweep_deadlines()
    results["warm"] = (time.perf_counter() - t0, changed)
    with connection.cursor() as c:
        c.execute("UPDATE organisations_municipality SET start_meeting_weeks = 6 WHERE code = '706'")
    t0 = time.perf_counter()
    changed = sweep_deadlines()
    results["clock changed"] = (time.perf_counter() - t0, changed)

    # A sample checked against the per-case computation (every provider, in Python).
    from tovholder.deadlines.services import case_refresh_deadline

    wrong = 0
    for case in Case.objects.select_related("municipality").order_by("?")[:300]:
        stored = (case.next_deadline, case.next_deadline_kind)
        case_refresh_deadline(case=case)
        wrong += stored != (case.next_deadline, case.next_deadline_kind)

    print(f"\nDeadline sweep over {n:,} active pathways (PostgreSQL, {os.cpu_count()} cores):")
    for name, (seconds, rows) in results.items():
        print(f"  {name:14s} {seconds:6.2f} s   {rows:>7,} cases updated")
    print(f"  sample of 300 checked against case_refresh_deadline: {300 - wrong} agree")
    worst = max(seconds for seconds, _ in results.values())
    ok = worst < BUDGET_SECONDS and wrong == 0
    print(f"  budget {BUDGET_SECONDS:.0f} s: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
