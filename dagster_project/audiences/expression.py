"""Static checks of the SQL boolean expressions used in `rule.profile`.

The expression is parsed with DuckDB's own parser (`json_serialize_sql`), so the column
references are exact (string literals, function names and lambda parameters are not mistaken
for columns) and no type information is needed.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb


def profile_expression_columns(expression: str) -> set[str]:
    """Parse a profile expression with DuckDB's parser and return the columns it uses.

    Args:
        expression: A single SQL boolean expression.

    Returns:
        Unqualified column names referenced (lambda parameters left out).

    Raises:
        ValueError: If it does not parse as exactly one plain expression.
    """
    if ";" in expression or "--" in expression or "/*" in expression:
        raise ValueError("must be a single expression without ';' or comments")
    con = duckdb.connect()
    try:
        raw = con.execute("SELECT json_serialize_sql(?)", [f"SELECT ({expression})"]).fetchone()
    finally:
        con.close()
    tree = json.loads(raw[0])
    if tree.get("error"):
        raise ValueError(f"does not parse: {tree.get('error_message')}")
    statements = tree.get("statements", [])
    node = statements[0]["node"] if len(statements) == 1 else {}
    if node.get("type") != "SELECT_NODE" or len(node.get("select_list", [])) != 1:
        raise ValueError("must be a single expression")
    refs: set[str] = set()
    lambda_params: set[str] = set()
    subqueries: list[Any] = []
    _walk(node["select_list"][0], refs, lambda_params, subqueries)
    if subqueries:
        raise ValueError("subqueries are not allowed; use events/no_events for event conditions")
    return refs - lambda_params


def _walk(obj: Any, refs: set[str], lambda_params: set[str], subqueries: list[Any]) -> None:
    """Collect column references, lambda parameters and subqueries of a parsed expression."""
    if isinstance(obj, list):
        for item in obj:
            _walk(item, refs, lambda_params, subqueries)
        return
    if not isinstance(obj, dict):
        return
    cls = obj.get("class")
    if cls == "SUBQUERY":
        subqueries.append(obj)
        return
    if cls == "COLUMN_REF":
        names = obj.get("column_names", [])
        refs.add(".".join(names) if len(names) != 1 else names[0])
        return
    if cls == "LAMBDA":
        params: set[str] = set()
        _walk(obj.get("lhs"), params, set(), subqueries)
        lambda_params.update(params)
    for value in obj.values():
        _walk(value, refs, lambda_params, subqueries)
