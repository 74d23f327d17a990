"""
`$filter` as Graph clients write it, translated by odata-query into a Django Q over the scoped querysets.

odata-query parses the expression and walks its boolean structure (and, or, not, parentheses); the leaves are
checked here against the resource's property catalogue (GraphProperty: incidents.graph.properties, ...), so that a
filter names only properties that can be filtered by, compares each with a value of its type, and never reaches the
database as an error: an unknown property, a wrong type, an unsupported operator or function answers 400 saying
which. Graph's spellings
become stored values on the way (camelCase names to model fields, enum aliases, null for "unassigned").
"""

import re
from collections import deque
from collections.abc import Iterator, Mapping
from copy import copy
from datetime import datetime, time

from django.db.models import Q
from odata_query import ast
from odata_query.django import AstToDjangoQVisitor
from odata_query.exceptions import ODataException, ParsingException, TokenizingException, UnknownFunctionException
from odata_query.grammar import ODataLexer, ODataParser

from portal.graph.errors import BadRequest
from portal.graph.literals import MAX_ID, literal_moment, literal_text
from portal.graph.properties import GraphProperty, Kind

__all__ = ("MAX_FILTER_LENGTH", "filter_q")

MAX_FILTER_LENGTH = 4000
# Each and, or, not nests the expression one level deeper; translating it recurses once per level.
MAX_FILTER_DEPTH = 100
# odata-query reads dates with years 1000 to 9999, months 01-12, hours 00-23 and offsets up to ±23:59 only; any other
# date stops its reading midway (at "-13-01" of 2026-13-01), which is better said as a date it cannot read.
DATE_LIKE = re.compile(r"^\d+-\d")
LITERAL_END = " ,()"

COMPARATORS = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.In: "in",
}
LOOKUPS = {"lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}
ALLOWED = {
    Kind.STRING: {"eq", "ne", "in"},
    Kind.ENUM: {"eq", "ne", "in"},
    Kind.DATETIME: {"eq", "ne", "lt", "le", "gt", "ge"},
    Kind.ID: {"eq", "ne", "in", "lt", "le", "gt", "ge"},
}
# Text search functions are case-insensitive, as people search names ("powershell" finds "PowerShell").
FUNCTIONS = {"startswith": "istartswith", "endswith": "iendswith", "contains": "icontains"}
CONDITIONS = (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Call, ast.CollectionLambda)


def filter_q(expression: str, properties: Mapping[str, GraphProperty], *, noun: str) -> Q:
    """The Q of a `$filter` expression over the properties of `noun` ("incidents"); BadRequest when invalid."""
    if len(expression) > MAX_FILTER_LENGTH:
        raise BadRequest(f"The $filter is longer than {MAX_FILTER_LENGTH} characters.")
    literal_text(expression, "The $filter")
    expression = expression.strip()
    try:
        tree = ODataParser().parse(_with_one_item_lists(iter(ODataLexer().tokenize(expression))))
        if not isinstance(tree, CONDITIONS):
            raise BadRequest("The $filter must be a condition, such as status eq 'active'.")
        return _Translator(properties, noun).visit(tree)
    except (ParsingException, TokenizingException) as error:
        if error.token is None:
            raise BadRequest("The $filter ends before its expression is complete.") from error
        raise _unreadable(expression, error.token.index) from error
    except ODataException as error:
        if isinstance(error, UnknownFunctionException) and error.function_name == "not":
            # OData's not takes a space; not(...) reads as a call of a function named not.
            raise BadRequest("Write not with a space before its parenthesis: not (status eq 'resolved').") from error
        message = str(error)
        raise BadRequest(f"The $filter is not valid: {message.rstrip('.')}.") from error


def _with_one_item_lists(tokens: Iterator) -> Iterator:
    """
    odata-query's tokens, with the comma its parser needs after the value of a one-value list: OData writes it
    `status in ('active')`, which odata-query would read as a value in parentheses, not as a list. Read as the
    parser asks for them, so that an error is still met where the parser meets it.
    """
    ahead = deque()

    def take():
        return ahead.popleft() if ahead else next(tokens, None)

    while (token := take()) is not None:
        yield token
        if token.type != "IN":
            continue
        following = []  # up to the third token after `in` that is not white space
        while sum(item.type != "WS" for item in following) < 3 and (item := take()) is not None:
            following.append(item)
        kinds = [item.type for item in following if item.type != "WS"]
        if len(kinds) == 3 and kinds[0] == "(" and kinds[1] not in ("(", ")", ",") and kinds[2] == ")":
            comma = copy(following[-1])
            comma.type = comma.value = ","
            following.insert(len(following) - 1, comma)
        ahead.extendleft(reversed(following))


def _unreadable(expression: str, start: int) -> BadRequest:
    """The error for the text odata-query could not read from `start`: a date it cannot read, or where it stopped."""
    begin, end = start, start
    while begin > 0 and expression[begin - 1] not in LITERAL_END:
        begin -= 1
    while end < len(expression) and expression[end] not in LITERAL_END:
        end += 1
    literal = expression[begin:end]
    if DATE_LIKE.match(literal):
        return BadRequest(
            f"{literal[:40]} is not a date and time the $filter can read: write 2026-11-20 or 2026-11-20T08:05:54Z "
            "(years 1000 to 9999, offsets up to ±23:59)."
        )
    return BadRequest(f"The $filter cannot be read from position {start + 1}: {expression[start : start + 30]!r}.")


class _Translator(AstToDjangoQVisitor):
    """odata-query's Django visitor, with every leaf checked against the property catalogue."""

    def __init__(self, properties: Mapping[str, GraphProperty], noun: str):
        super().__init__(root_model=None)
        self.properties = properties
        self.noun = noun

    def visit(self, node):
        if self._depth >= MAX_FILTER_DEPTH:
            raise BadRequest(
                f"The $filter nests more than {MAX_FILTER_DEPTH} conditions; give lists of values with in (...)."
            )
        return super().visit(node)

    # --- Leaves -------------------------------------------------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> Q:
        if isinstance(node.left, ast.Call) and isinstance(node.right, ast.Boolean):
            # startswith(displayName, 'x') eq true
            if not isinstance(node.comparator, ast.Eq | ast.NotEq):
                raise BadRequest("Compare a function's result with eq or ne only.")
            condition = self.visit_Call(node.left)
            positive = (node.right.py_val is True) == isinstance(node.comparator, ast.Eq)
            return condition if positive else ~condition
        if not isinstance(node.left, ast.Identifier):
            raise BadRequest("Put a property on the left of each comparison, such as status eq 'active'.")
        prop = self._property(node.left)
        operator = COMPARATORS[type(node.comparator)]
        if prop.kind is Kind.TAGS:
            raise BadRequest(f"Filter {prop.name} with {prop.name}/any(t: t eq 'value').")
        if operator not in ALLOWED[prop.kind]:
            allowed = ", ".join(sorted(ALLOWED[prop.kind]))
            raise BadRequest(f"{prop.name} cannot be compared with {operator}; use {allowed}.")
        if operator == "in":
            if not isinstance(node.right, ast.List):
                raise BadRequest(f"Give {prop.name} in a list of values, such as ('a', 'b').")
            values = [value for item in node.right.val for value in self._values(prop, item)]
            return self._matching(prop, values)
        values = self._values(prop, node.right)
        if operator == "eq":
            return self._matching(prop, values)
        if operator == "ne":
            return ~self._matching(prop, values)
        if values == [None]:
            raise BadRequest(f"{prop.name} cannot be compared with {operator} null.")
        return Q(**{f"{prop.field}__{LOOKUPS[operator]}": values[0]})

    def visit_Call(self, node: ast.Call) -> Q:
        name = node.func.full_name()
        lookup = FUNCTIONS.get(name)
        if lookup is None:
            supported = ", ".join(sorted(FUNCTIONS))
            raise BadRequest(f"The function {name}() is not supported in $filter; use {supported}.")
        target, text = node.args
        if not isinstance(target, ast.Identifier):
            raise BadRequest(f"The first argument of {name}() must be a property.")
        prop = self._property(target)
        if prop.kind is not Kind.STRING:
            raise BadRequest(f"{name}() applies to text properties; {prop.name} is not one.")
        if not isinstance(text, ast.String):
            raise BadRequest(f"The second argument of {name}() must be a string in single quotes.")
        return Q(**{f"{prop.field}__{lookup}": literal_text(text.val, f"The value of {name}()")})

    def visit_CollectionLambda(self, node: ast.CollectionLambda) -> Q:
        if not isinstance(node.owner, ast.Identifier):
            raise BadRequest("any() and all() apply to a property, such as customTags/any(t: t eq 'x').")
        prop = self._property(node.owner)
        if prop.kind is not Kind.TAGS:
            raise BadRequest(f"{prop.name} is not a collection; any() and all() apply to tag lists.")
        quantifier = "any" if isinstance(node.operator, ast.Any) else "all"
        if node.lambda_ is None:
            if quantifier == "all":
                raise BadRequest(f"{prop.name}/all() needs a condition, such as all(t: t eq 'x').")
            return Q(**{f"{prop.field}__len__gt": 0})
        values = self._tag_values(prop, node.lambda_.identifier, node.lambda_.expression, quantifier)
        # any: some tag is one of the values; all: every tag is (vacuously true for no tags, as in OData).
        lookup = "overlap" if quantifier == "any" else "contained_by"
        return Q(**{f"{prop.field}__{lookup}": values})

    def visit_Identifier(self, node: ast.Identifier):
        raise BadRequest(f"{node.full_name()} alone is not a condition; compare it with a value.")

    def visit_Attribute(self, node: ast.Attribute):
        raise BadRequest(f"{self._path(node)} is not a property you can filter {self.noun} by.")

    def visit_BinOp(self, node: ast.BinOp):
        raise BadRequest("Arithmetic is not supported in $filter.")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Q:
        if not isinstance(node.op, ast.Not) or not isinstance(node.operand, CONDITIONS):
            raise BadRequest("not applies to a condition, such as not (status eq 'resolved').")
        return ~self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> Q:
        if not isinstance(node.left, CONDITIONS) or not isinstance(node.right, CONDITIONS):
            raise BadRequest("and and or join conditions, such as status eq 'active' and severity eq 'high'.")
        return super().visit_BoolOp(node)

    # --- Helpers ------------------------------------------------------------------------------------------------

    def _property(self, node: ast.Identifier) -> GraphProperty:
        name = node.full_name()
        prop = self.properties.get(name)
        if prop is None:
            known = ", ".join(sorted(self.properties))
            raise BadRequest(f"{name} is not a property you can filter {self.noun} by; use one of: {known}.")
        return prop

    def _path(self, node) -> str:
        if isinstance(node, ast.Attribute):
            return f"{self._path(node.owner)}/{node.attr}"
        return node.full_name() if isinstance(node, ast.Identifier) else str(node)

    def _matching(self, prop: GraphProperty, values: list) -> Q:
        """Rows whose property is one of `values` (None standing for null)."""
        present = list(dict.fromkeys(value for value in values if value is not None))
        condition = Q(**{f"{prop.field}__in": present}) if present else Q(pk__in=[])
        if None in values:
            condition |= Q(**{f"{prop.field}__isnull": True})
        return condition

    def _values(self, prop: GraphProperty, node) -> list:
        """The stored values a literal stands for (several for unknownFutureValue, [None] for null)."""
        if isinstance(node, ast.Null):
            if prop.kind is Kind.STRING:
                return [""]  # Graph's null is Vigil's blank: unassigned, no category
            if prop.kind is Kind.ID and prop.nullable:
                return [None]
            raise BadRequest(f"{prop.name} is never null.")
        match prop.kind:
            case Kind.STRING:
                if not isinstance(node, ast.String):
                    raise BadRequest(f"Compare {prop.name} with a string in single quotes.")
                return [literal_text(node.val, f"The value of {prop.name}")]
            case Kind.ENUM:
                if not isinstance(node, ast.String) or node.val not in prop.values:
                    given = f"'{node.val}'" if isinstance(node, ast.String) else "That"
                    known = ", ".join(value for value in prop.values)
                    raise BadRequest(f"{given} is not a value of {prop.name}; use one of: {known}.")
                return list(prop.values[node.val])
            case Kind.DATETIME:
                return [self._datetime(prop, node)]
            case Kind.ID:
                text = node.val if isinstance(node, ast.Integer | ast.String) else ""
                if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
                    raise BadRequest(f"Compare {prop.name} with an id, such as {prop.name} eq '42'.")
                return [int(text)]
        raise AssertionError(prop.kind)

    def _datetime(self, prop: GraphProperty, node) -> datetime:
        try:
            if isinstance(node, ast.DateTime):
                moment = node.py_val
            elif isinstance(node, ast.Date):
                moment = datetime.combine(node.py_val, time())
            else:
                raise BadRequest(
                    f"Compare {prop.name} with an ISO 8601 date and time, such as {prop.name} ge 2026-11-20T08:00:00Z."
                )
        except ValueError as error:
            raise BadRequest(f"{node.val} is not a valid date and time.") from error
        return literal_moment(moment, node.val)

    def _tag_values(self, prop: GraphProperty, variable: ast.Identifier, expression, quantifier: str) -> list[str]:
        """The tags a lambda body names: `t eq 'a'`, `t in ('a', 'b')`, joined with or."""
        usage = f"Inside {prop.name}/{quantifier}(), compare the tag with eq or in, joined with or."
        if isinstance(expression, ast.BoolOp) and isinstance(expression.op, ast.Or):
            return self._tag_values(prop, variable, expression.left, quantifier) + self._tag_values(
                prop, variable, expression.right, quantifier
            )
        if not isinstance(expression, ast.Compare) or expression.left != variable:
            raise BadRequest(usage)
        if isinstance(expression.comparator, ast.Eq) and isinstance(expression.right, ast.String):
            items = [expression.right]
        elif isinstance(expression.comparator, ast.In) and isinstance(expression.right, ast.List):
            items = expression.right.val
        else:
            raise BadRequest(usage)
        if not all(isinstance(item, ast.String) for item in items):
            raise BadRequest(usage)
        return [literal_text(item.val, f"A value of {prop.name}") for item in items]
