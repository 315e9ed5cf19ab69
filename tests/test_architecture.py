"""Rules of the layering that a reading of the source can check (no database, no server)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sentd

PACKAGE = Path(sentd.__file__).parent

# asyncpg's ways of sending SQL: a call of one of these methods outside `sentd.db` is SQL outside
# the database layer.
_SQL_METHODS = frozenset(
    {
        "fetch",
        "fetchrow",
        "fetchval",
        "fetchmany",
        "execute",
        "executemany",
        "cursor",
        "copy_from_query",
        "copy_from_table",
        "copy_records_to_table",
        "copy_to_table",
    }
)
# A string that reads as a statement (not prose): the keyword, then what must follow it.
_SQL_TEXT = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|SELECT\s+(pg_\w+|\d)|INSERT\s+INTO\s|UPDATE\s+\w+\s.*\bSET\s"
    r"|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\(|BEGIN\b|COMMIT\b|ROLLBACK\b)",
    re.DOTALL,
)

# The send path, reworked on its own (issue #15): `api/mutation.py` sends the COMMIT with the
# final statement itself today. Shrink this as that work lands; add nothing else.
ALLOWED = ("api/mutation.py", "services/messages.py", "api/routes/messages.py", "guards/")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal but docstrings, with its line; an f-string with `x` for what it
    interpolates."""
    skip = _docstrings(tree)
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


def sql_outside_db() -> list[str]:
    """`path:line: what` for every SQL call or statement text outside `sentd/db`."""
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("db/", *ALLOWED)):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _SQL_METHODS
            ):
                found.append(f"{relative}:{node.lineno}: .{node.func.attr}(…)")
        for line, text in _texts(tree):
            if _SQL_TEXT.match(text):
                found.append(f"{relative}:{line}: {text.strip()[:40]!r}")
    return found


def test_sql_lives_in_db_layer() -> None:
    assert sql_outside_db() == []


def test_the_check_sees_sql() -> None:
    """The patterns catch what they are meant to, and not prose."""
    assert _SQL_TEXT.match("SELECT id FROM customers WHERE id = $1")
    assert _SQL_TEXT.match("  UPDATE messages SET status = $2 WHERE id = $1")
    assert _SQL_TEXT.match("SELECT pg_advisory_xact_lock(hashtext($1))")
    assert _SQL_TEXT.match("SELECT 1")
    assert _SQL_TEXT.match("DELETE FROM early_receipts e USING unnest($1::text[])")
    assert not _SQL_TEXT.match("Select a plan from the list")
    assert not _SQL_TEXT.match("Update the webhook's settings")
    assert not _SQL_TEXT.match("delete from the list")
