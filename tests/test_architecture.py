"""SQL runs only in `sentd.db`: no other module calls a connection's query methods.

import-linter (`make lint`, contracts in pyproject.toml) checks the imports between layers; it
cannot see a service that runs its own SQL on the connection it was handed. This test reads the
source: a call of `.fetch`, `.fetchrow`, `.fetchval`, `.execute`, `.executemany` or a `copy_*`
method outside `src/sentd/db/` is a query outside the database layer.

`KNOWN` lists today's exceptions, file by file with their count (#15: they move into
`db/repos`). The list only shrinks: a new file or a higher count fails, and so does an entry that
no longer matches (lower the count, or drop the entry), so the list stays what the code is."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sentd"
DATABASE_LAYER = PACKAGE / "db"
QUERY_METHODS = frozenset(
    {
        "fetch",
        "fetchrow",
        "fetchval",
        "execute",
        "executemany",
        "copy_records_to_table",
        "copy_from_query",
        "copy_from_table",
        "copy_to_table",
    }
)

KNOWN: dict[str, int] = {
    "api/mutation.py": 5,  # the send path's idempotency and final statement (#15, #16)
    "api/routes/health.py": 1,  # the readiness probe's SELECT 1
    "services/accounts.py": 2,
    "services/inbound.py": 1,
    "services/lifecycle.py": 3,
    "services/plans.py": 2,
    "services/quotas.py": 2,
    "workers/dispatcher.py": 6,
}


def queries_outside(package: Path, database_layer: Path) -> Counter[str]:
    """Query calls per module of `package`, outside `database_layer`."""
    found: Counter[str] = Counter()
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(database_layer):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_METHODS
            ):
                found[path.relative_to(package).as_posix()] += 1
    return found


def test_sql_runs_only_in_the_database_layer() -> None:
    found = queries_outside(PACKAGE, DATABASE_LAYER)
    new = {f: n for f, n in found.items() if n > KNOWN.get(f, 0)}
    assert not new, f"Queries outside sentd.db (move them into db/repos): {new}"
    stale = {f: (n, found.get(f, 0)) for f, n in KNOWN.items() if found.get(f, 0) != n}
    assert not stale, f"KNOWN is out of date (listed, found): {stale}; lower or drop the entries"


def test_the_scan_finds_queries_outside_the_database_layer_only(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "repo.py").write_text("async def f(conn):\n    await conn.fetch('q')\n")
    (tmp_path / "service.py").write_text(
        "async def f(conn, db):\n"
        "    await conn.fetchrow('q')\n"
        "    async with db.transaction() as c:\n"
        "        await c.execute('q')\n"
        "    await emit(conn)\n"
    )
    assert queries_outside(tmp_path, tmp_path / "db") == Counter({"service.py": 2})
