"""Set-based writes for the hot paths (ingestion, correlation, rollups): one statement for many rows."""

from psycopg2 import sql
from psycopg2.extras import Json, execute_values

__all__ = ("rows_update",)


def rows_update(cursor, *, table: str, columns: dict[str, str], rows: list[tuple]) -> None:
    """
    `UPDATE table SET column = value, ... FROM (VALUES ...) WHERE id = ...` for many rows in one statement.

    `columns` maps each column to its SQL type (the VALUES list carries no types of its own); each row is the id
    followed by the values in the order of `columns`. Dicts are sent as JSON. Django's `bulk_update` builds a CASE
    expression per column and row instead, which costs more to compile than the update costs to run.
    """
    if not rows:
        return
    statement = sql.SQL("UPDATE {table} AS t SET {assignments} FROM (VALUES %s) AS v(id, {names}) WHERE t.id = v.id")
    statement = statement.format(
        table=sql.Identifier(table),
        assignments=sql.SQL(", ").join(
            sql.SQL("{column} = v.{column}::{type}").format(column=sql.Identifier(name), type=sql.SQL(sql_type))
            for name, sql_type in columns.items()
        ),
        names=sql.SQL(", ").join(map(sql.Identifier, columns)),
    )
    execute_values(
        cursor,
        statement.as_string(cursor.connection),
        [tuple(Json(value) if isinstance(value, dict) else value for value in row) for row in rows],
        page_size=len(rows),
    )
