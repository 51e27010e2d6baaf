"""Benchmark: receiving MedCom messages at the single entry, JSON and XML, SQLite and PostgreSQL.

    .venv/bin/python bench/inbox_intake.py [--messages 400] [--backends sqlite,postgres]
                                          [--url postgres://postgres@127.0.0.1:5432/postgres]

The PostgreSQL server is --url, else BENCH_DATABASE_URL, else DATABASE_URL when it points at
PostgreSQL; the benchmark creates its own databases there (th_bench, th_bench_raw) and drops
them afterwards. The database name in the URL is not touched.

Each backend runs in its own process on a database of its own (SQLite: var/bench/*.sqlite3;
PostgreSQL: th_bench, created and dropped here), migrated and loaded with the demo region
and MedCom's test receivers as aliases.

What is timed: `tovholder.inbox.services.medcom_receive` called in-process — the service
the HTTP endpoint calls, without the HTTP layer (the endpoint adds only reading the body).
One message = store the arrival (own transaction) → parse → duplicate table → validate →
route → file thread, message, segments, inbox item, audit row and acknowledgement (second
transaction) → the acknowledgement bytes. The messages are MedCom's samples S-C-new (JSON,
19 KB) and S-Tek-A (XML, 22 KB), each copy with its own Bundle.id, MessageHeader.id and
thread id, so every one is new work (a new thread and an inbox item).

Next to it, the raw cost of the same rows: every INSERT the intake executed (captured
with its parameters) is replayed with plain cursor.execute into a copy of the database as
it was before the timed run, in the same two transactions per message — no parsing, no
ORM, no checks.

Budget (issue 3), checked on PostgreSQL: p99 under 50 ms per message, and the mean within 3x
the raw-insert cost. SQLite is reported beside it (its commits are nearly free, so its raw
floor is below the cost of parsing a message at all). Results are printed and written to
var/bench/inbox_intake.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
PG_NAME, PG_RAW = "th_bench", "th_bench_raw"
BUDGET_P99_MS = 50.0
BUDGET_RATIO = 3.0
SAMPLES = {"json": "send/Bundle-S-C-new-aca3d03a-febd-4b88-ad53-ac1bc36da615.json",
           "xml": "send/Bundle-S-Tek-A-new-episodeOfCare-b43146a2-99ec-4b05-bb8f-5b44af4fe424.xml"}


# --------------------------------------------------------------------------- the parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400, help="timed messages per format")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--url", default=_server_url(), help="a PostgreSQL server to create th_bench on "
                        "(default: BENCH_DATABASE_URL, else DATABASE_URL when it is PostgreSQL, else localhost)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.messages, args.url)))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for backend in args.backends.split(","):
        run = subprocess.run([sys.executable, __file__, "--child", backend, "--messages", str(args.messages),
                              "--url", args.url], capture_output=True, text=True, cwd=ROOT)
        if run.returncode != 0:
            print(f"{backend}: failed\n{run.stderr[-3000:]}", file=sys.stderr)
            return 1
        results.extend(json.loads(run.stdout.strip().splitlines()[-1]))
    report(results)
    (OUT / "inbox_intake.json").write_text(json.dumps(results, indent=2))
    pg = [r for r in results if r["backend"] == "postgresql"]
    ok = all(r["p99_ms"] < BUDGET_P99_MS and r["mean_ratio"] <= BUDGET_RATIO for r in pg)
    print(f"\nBudget on PostgreSQL (p99 < {BUDGET_P99_MS:.0f} ms; mean within {BUDGET_RATIO:.0f}x the raw inserts): "
          f"{'met' if ok else 'NOT met'}{'' if pg else ' (PostgreSQL not run)'}")
    return 0 if ok else 2


def _server_url() -> str:
    for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def report(results: list[dict]) -> None:
    print("| database | format | body | msg/s | p50 ms | p99 ms | max ms | raw inserts msg/s | raw p50 ms | "
          "raw p99 ms | mean vs raw | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['backend']} {r['server']} | {r['format']} | {r['body_bytes'] // 1024} KB | {r['per_second']:.0f} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['raw_per_second']:.0f} | "
              f"{r['raw_p50_ms']:.2f} | {r['raw_p99_ms']:.2f} | {r['mean_ratio']:.1f}x | {r['load_average']:.1f} |")
    print(f"\n{results[0]['messages']} timed messages per row. Rows per message: "
          f"{results[0]['inserts_per_message']} INSERTs ({', '.join(results[0]['tables'])}) in 2 transactions. "
          f"'load' is the machine's 1-minute load average at the end of the row.")


# --------------------------------------------------------------------------- the child


def _pg_admin(url: str):
    import psycopg

    return psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True)


def child(backend: str, n: int, url: str) -> list[dict]:
    # Production settings (DEBUG off: no query log), plain HTTP, quiet logs.
    os.environ.update(DJANGO_SETTINGS_MODULE="tovholder.settings", SECRET_KEY="bench-only-" + "k" * 50,
                      DEBUG="False", SECURE="False", LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        main_db, raw_db = OUT / "inbox_intake.sqlite3", OUT / "inbox_intake_raw.sqlite3"
        for path in OUT.glob("inbox_intake*.sqlite3*"):
            path.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{main_db}"
    else:
        with _pg_admin(url) as conn:
            for name in (PG_RAW, PG_NAME):
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {PG_NAME}")
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{PG_NAME}"))

    from django.conf import settings

    raw = dict(settings.DATABASES["default"])
    raw["NAME"] = str(raw_db) if backend == "sqlite" else PG_RAW
    settings.DATABASES["raw"] = raw
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        call_command("migrate", verbosity=0)
        _setup_region()
        messages = {fmt: _copies(fmt, n + 20) for fmt in ("json", "xml")}
        for fmt in messages:  # warm-up: imports, caches, the first rows of every table
            _intake(messages[fmt][:20])
        server = _sqlite_version() if backend == "sqlite" else f"{connection.pg_version // 10000}.{connection.pg_version % 100}"
        connections.close_all()
        if backend == "sqlite":
            shutil.copyfile(main_db, raw_db)
        else:
            with _pg_admin(url) as conn:
                conn.execute(f"CREATE DATABASE {PG_RAW} TEMPLATE {PG_NAME}")
        results = []
        for fmt in ("json", "xml"):
            latencies, wall, raw_latencies, raw_wall, first = _timed(messages[fmt][20:])
            tables = sorted({sql.split('"')[1] for group in first for sql, _, _ in group})
            results.append({
                "backend": connection.vendor, "server": server, "format": fmt, "messages": n,
                "per_second": n / wall, "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
                "max_ms": max(latencies), "mean_ms": statistics.fmean(latencies),
                "raw_per_second": n / raw_wall, "raw_p50_ms": _pct(raw_latencies, 50),
                "raw_p99_ms": _pct(raw_latencies, 99), "raw_mean_ms": statistics.fmean(raw_latencies),
                "mean_ratio": statistics.fmean(latencies) / statistics.fmean(raw_latencies),
                "p99_ratio": _pct(latencies, 99) / _pct(raw_latencies, 99),
                "inserts_per_message": sum(len(g) for g in first), "tables": tables,
                "body_bytes": len(messages[fmt][0][0]), "load_average": os.getloadavg()[0],
            })
        return results
    finally:
        connections.close_all()
        if backend != "sqlite":
            with _pg_admin(url) as conn:
                for name in (PG_RAW, PG_NAME):
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
        else:
            for path in OUT.glob("inbox_intake*.sqlite3*"):
                path.unlink()


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _setup_region() -> None:
    from django.db import transaction

    from tovholder.demo.region import build_region
    from tovholder.inbox.demo import medcom_test_receivers_add

    with transaction.atomic():
        demo = build_region(password="bench-password-1")
        medcom_test_receivers_add(entry=demo.units["706:single_entry"])


def _copies(fmt: str, count: int) -> list[tuple[bytes, str]]:
    """The sample with new Bundle.id, MessageHeader.id and thread id for each copy."""
    from tovholder.inbox.demo import samples_dir
    from tovholder.medcom import content_type_for, parse_bundle, serialize

    path = samples_dir() / SAMPLES[fmt]
    template = parse_bundle(path.read_bytes(), content_type_for(fmt))
    text = json.dumps(template)
    header_id = template["entry"][0]["resource"]["id"]
    thread_id = next(e["resource"]["identifier"][0]["value"] for e in template["entry"]
                     if e["resource"]["resourceType"] == "Communication")
    out = []
    for _ in range(count):
        copy = json.loads(text.replace(header_id, str(uuid.uuid4())).replace(thread_id, f"urn:uuid:{uuid.uuid4()}"))
        copy["id"] = str(uuid.uuid4())
        out.append((serialize(copy, fmt), content_type_for(fmt)))
    return out


def _intake(messages) -> list[float]:
    from tovholder.inbox.services import medcom_receive

    latencies = []
    for body, content_type in messages:
        start = time.perf_counter()
        reception = medcom_receive(body=body, content_type=content_type, channel="http")
        latencies.append((time.perf_counter() - start) * 1000)
        assert reception.ack_code == "ok", reception.ack_code
    return latencies


def _timed(messages):
    """Time the intake of each message, and right after it the raw replay of the INSERTs it
    executed (captured with their parameters; the arrival committed on its own, the rest in
    a second transaction, as the intake commits them) into the copy. Interleaving puts both under the
    same load, so their ratio holds even on a busy machine."""
    from django.db import connection, connections, transaction

    from tovholder.inbox.services import medcom_receive

    current: list[list[tuple[str, tuple, bool]]] = [[], []]

    def capture(execute, sql, params, many, context):
        if sql.startswith("INSERT"):
            current[0 if sql.startswith('INSERT INTO "inbox_arrival"') else 1].append((sql, params, many))
        return execute(sql, params, many, context)

    raw = connections["raw"]
    latencies, raw_latencies, first = [], [], None
    wall = raw_wall = 0.0
    for body, content_type in messages:
        current[0], current[1] = [], []
        with connection.execute_wrapper(capture):
            start = time.perf_counter()
            reception = medcom_receive(body=body, content_type=content_type, channel="http")
            elapsed = time.perf_counter() - start
        assert reception.ack_code == "ok", reception.ack_code
        latencies.append(elapsed * 1000)
        wall += elapsed
        first = first or [list(group) for group in current]
        start = time.perf_counter()
        for group in current:
            # A lone INSERT commits by itself (autocommit), as the intake stores the arrival.
            with (transaction.atomic(using="raw") if len(group) > 1 else nullcontext()), raw.cursor() as cursor:
                for sql, params, many in group:
                    (cursor.executemany if many else cursor.execute)(sql, params)
        elapsed = time.perf_counter() - start
        raw_latencies.append(elapsed * 1000)
        raw_wall += elapsed
    return latencies, wall, raw_latencies, raw_wall, first


if __name__ == "__main__":
    sys.exit(main())
