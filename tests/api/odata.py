"""
Hypothesis strategies for the OData options of the Graph-compatible API, which its OpenAPI description names by
format (incidents.graph.openapi: odata-filter, odata-orderby) because no JSON Schema pattern can hold them. They
draw valid values of both lists (incidents and alerts_v2) from the property catalogue the API itself reads, so that
the fuzzing sends filters and orderings the API must accept.
"""

from datetime import UTC, datetime

from hypothesis import strategies as st

from incidents.graph.properties import ALERT_PROPERTIES, INCIDENT_PROPERTIES, Kind
from portal.graph.odata import MAX_ORDER_KEYS

__all__ = ("filters", "orderings")

# The properties both lists have alike: a value valid for one is valid for the other.
COMMON = {
    name: prop
    for name, prop in INCIDENT_PROPERTIES.items()
    if name in ALERT_PROPERTIES
    and ALERT_PROPERTIES[name].kind == prop.kind
    and (prop.kind is not Kind.ENUM or list(ALERT_PROPERTIES[name].values) == list(prop.values))
}
SORTABLE = sorted(name for name, prop in COMMON.items() if prop.order_by and ALERT_PROPERTIES[name].order_by)

# Letters, digits and spaces: text that needs no escaping inside OData's single quotes.
_words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "), max_size=12)
_moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def _quoted(text: str) -> str:
    return f"'{text}'"


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _comparison(name: str) -> st.SearchStrategy[str]:
    prop = COMMON[name]
    match prop.kind:
        case Kind.ENUM:
            values = st.sampled_from(list(prop.values)).map(_quoted)
            return st.one_of(
                st.tuples(st.sampled_from(["eq", "ne"]), values).map(lambda pair: f"{name} {pair[0]} {pair[1]}"),
                st.lists(values, min_size=1, max_size=3).map(lambda items: f"{name} in ({', '.join(items)})"),
            )
        case Kind.DATETIME:
            operators = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])
            return st.tuples(operators, _moments).map(lambda pair: f"{name} {pair[0]} {_moment(pair[1])}")
        case Kind.STRING:
            return st.one_of(
                _words.map(lambda text: f"{name} eq {_quoted(text)}"),
                st.tuples(st.sampled_from(["startswith", "endswith", "contains"]), _words).map(
                    lambda pair: f"{pair[0]}({name}, {_quoted(pair[1])})"
                ),
            )
        case Kind.ID:
            ids = st.integers(min_value=0, max_value=10**9).map(lambda pk: _quoted(str(pk)))
            return st.tuples(st.sampled_from(["eq", "ne", "lt", "ge"]), ids).map(
                lambda pair: f"{name} {pair[0]} {pair[1]}"
            )
    return st.nothing()


_leaves = st.sampled_from(sorted(COMMON)).flatmap(_comparison)


def _joined(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda parts: f"({parts[0]}) {parts[1]} ({parts[2]})"
        ),
        children.map(lambda condition: f"not ({condition})"),
    )


filters = st.recursive(_leaves, _joined, max_leaves=4)

_order_key = st.tuples(st.sampled_from(SORTABLE), st.sampled_from(["", " asc", " desc", " DESC"]))
orderings = st.lists(_order_key, min_size=1, max_size=MAX_ORDER_KEYS, unique_by=lambda key: key[0]).map(
    lambda keys: ",".join(f"{name}{direction}" for name, direction in keys)
)
