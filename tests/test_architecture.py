"""SQL runs only in `sentd.db`: no other module calls a connection's query methods.

import-linter (`make lint`, contracts in pyproject.toml) checks the imports between layers; it
cannot see a service that runs its own SQL on the connection it was handed. This test reads the
source: a call of `.fetch`, `.fetchrow`, `.fetchval`, `.execute`, `.executemany` or a `copy_*`
method outside `src/sentd/db/` is a query outside the database layer; so is a string literal
(not a docstring) that reads as a statement (`SELECT … FROM`, `INSERT INTO`, `UPDATE … SET`,
`DELETE FROM`, `WITH x AS (`, `BEGIN`, …): SQL handed to a repository to run counts as well.

`KNOWN` lists today's exceptions, file by file with their count (#15: they move into
`db/repos`). The list only shrinks: a new file or a higher count fails, and so does an entry that
no longer matches (lower the count, or drop the entry), so the list stays what the code is.

The same ratchet holds the connection's type: a parameter `conn` or `db` annotated `Any` (mypy
then checks nothing done with it) is listed in `UNTYPED_CONNECTIONS`; everywhere else it is
`sentd.db.types.Connection` or `sentd.db.database.Database`. `make lint` runs this module."""

from __future__ import annotations

import ast
import re
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
        "cursor",
        "copy_records_to_table",
        "copy_from_query",
        "copy_from_table",
        "copy_to_table",
    }
)

KNOWN: dict[str, int] = {}
# Calls of the same names that are not SQL, per module.
NOT_SQL: dict[str, int] = {
    "guards/limiter.py": 1,  # a Redis pipeline's execute()
}

# `conn: Any` / `db: Any` parameters left, per module (#15). Only lower counts are accepted.
UNTYPED_CONNECTIONS: dict[str, int] = {
    # Providers may not import sentd.db (contract providers-no-db): the connection they hand
    # back to the inbound actions is opaque to them.
    "providers/inbound.py": 3,
    "providers/whatsapp_messages.py": 3,
    "providers/whatsapp_webhook.py": 2,
}
UNTYPED_NAMES = frozenset({"conn", "db"})
# A string that reads as a statement (not prose): the keyword, then what must follow it.
STATEMENT = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|SELECT\s+(pg_\w+|\d)|INSERT\s+INTO\s|UPDATE\s+\w+\s.*\bSET\s"
    r"|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\(|BEGIN\b|COMMIT\b|ROLLBACK\b)",
    re.DOTALL,
)


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
    new = {f: n for f, n in found.items() if n > KNOWN.get(f, 0) + NOT_SQL.get(f, 0)}
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


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal but docstrings, with its line; an f-string with `x` for what it
    interpolates."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "x" for v in node.values]
            skip.update(id(v) for v in node.values)
            out.append((node.lineno, "".join(str(p) for p in parts)))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            out.append((node.lineno, node.value))
    return out


def statements_outside(package: Path, database_layer: Path) -> list[str]:
    """`module:line: text` of every statement's text in `package`, outside `database_layer`."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(database_layer):
            continue
        module = path.relative_to(package).as_posix()
        for line, text in _texts(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if STATEMENT.match(text):
                found.append(f"{module}:{line}: {text.strip()[:40]!r}")
    return found


def test_sql_lives_in_db_layer() -> None:
    """No statement's text outside `sentd.db` either (but in the files `KNOWN` still lists)."""
    found = [f for f in statements_outside(PACKAGE, DATABASE_LAYER) if f.split(":")[0] not in KNOWN]
    assert not found, f"SQL outside sentd.db (move it into db/repos): {found}"


def test_the_statement_pattern_tells_sql_from_prose(tmp_path: Path) -> None:
    assert STATEMENT.match("SELECT id FROM customers WHERE id = $1")
    assert STATEMENT.match("  UPDATE messages SET status = $2 WHERE id = $1")
    assert STATEMENT.match("SELECT pg_advisory_xact_lock(hashtext($1))")
    assert STATEMENT.match("SELECT 1")
    assert STATEMENT.match("DELETE FROM early_receipts e USING unnest($1::text[])")
    assert not STATEMENT.match("Select a plan from the list")
    assert not STATEMENT.match("Update the webhook's settings")
    assert not STATEMENT.match("delete from the list")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "repo.py").write_text("Q = 'SELECT id FROM t'\n")
    (tmp_path / "service.py").write_text(
        '"""SELECT a docstring FROM prose."""\n'
        "COUNT = 'SELECT count(*) FROM contacts WHERE organization_id = $1'\n"
        "def f(cols):\n"
        "    return f'SELECT {cols} FROM messages WHERE id = $1'\n"
    )
    assert [f.split(":")[1] for f in statements_outside(tmp_path, tmp_path / "db")] == ["2", "4"]


def _is_any(annotation: ast.expr | None) -> bool:
    return (isinstance(annotation, ast.Name) and annotation.id == "Any") or (
        isinstance(annotation, ast.Attribute) and annotation.attr == "Any"
    )


def untyped_connections(package: Path) -> Counter[str]:
    """Parameters named `conn` or `db` annotated `Any`, per module of `package`."""
    found: Counter[str] = Counter()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                args = node.args
                for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                    if arg.arg in UNTYPED_NAMES and _is_any(arg.annotation):
                        found[path.relative_to(package).as_posix()] += 1
    return found


def test_connections_are_typed() -> None:
    found = untyped_connections(PACKAGE)
    new = {f: n for f, n in found.items() if n > UNTYPED_CONNECTIONS.get(f, 0)}
    assert not new, f"`conn: Any`/`db: Any` (type it Connection or Database): {new}"
    stale = {
        f: (n, found.get(f, 0)) for f, n in UNTYPED_CONNECTIONS.items() if found.get(f, 0) != n
    }
    assert not stale, f"UNTYPED_CONNECTIONS is out of date (listed, found): {stale}; lower it"


def test_the_scan_finds_untyped_connections(tmp_path: Path) -> None:
    (tmp_path / "service.py").write_text(
        "import typing\n"
        "from typing import Any\n"
        "async def f(conn: Any, db: typing.Any, other: Any) -> Any: ...\n"
        "async def g(conn: Connection, *, db: Database) -> None: ...\n"
        "class C:\n"
        "    def h(self, conn: Any) -> None: ...\n"
    )
    assert untyped_connections(tmp_path) == Counter({"service.py": 3})
