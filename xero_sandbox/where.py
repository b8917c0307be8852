"""Xero's `where` and `order` query parameters, evaluated over records in their JSON shape.

Xero runs `where` as a .NET Dynamic LINQ expression (its 400 body says `QueryParseException`,
ErrorNumber 16, with the parser's message). This module implements the part of that language
Xero documents and clients send: comparisons (`==`, `=`, `!=`, `<>`, `<`, `>`, `<=`, `>=`),
`&&`/`AND`, `||`/`OR`, `!`/`NOT`, parentheses, `.Contains()`, `.StartsWith()`, `.EndsWith()`,
`.ToString()`, `.ToUpper()`, `.ToLower()`, `DateTime(y, m, d[, h, mi, s])`, `DateTime.Parse("...")`,
`Guid("...")`/`GUID("...")`, `null`, booleans, numbers, strings and nested fields
(`Contact.ContactID`). Property names are case-insensitive, as in Dynamic LINQ.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"]|"")*")
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<op>==|!=|<>|<=|>=|&&|\|\||[=<>!(),.])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
COMPARISONS = {"==", "=", "!=", "<>", "<", ">", "<=", ">="}
STRING_METHODS = {"contains", "startswith", "endswith"}
CASE_METHODS = {"tostring", "toupper", "tolower"}


class QueryError(ValueError):
    """An expression Xero would refuse (answered with its 400 QueryParseException body)."""


class Guid(str):
    """A GUID literal: compared with string fields case-insensitively."""


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"Syntax error '{text[pos]}'")
        kind = match.lastgroup
        assert kind is not None  # every alternative in TOKEN is a named group
        value = match.group(kind)
        if kind == "name" and value.lower() in WORD_OPS:
            kind, value = "op", WORD_OPS[value.lower()]
        out.append((kind, value))
        pos = match.end()
    return out


class Field:
    """A property path such as Contact.ContactID, with an optional case/ToString call."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.transform: str | None = None

    def value(self, record: dict, seen: set) -> object:
        current: object = record
        for depth, name in enumerate(self.path):
            if isinstance(current, dict):
                key = _key(current, name)
                if key is None:
                    return None
                seen.add(self.path[: depth + 1])
                current = current[key]
            else:
                return None
        if self.transform == "toupper" and isinstance(current, str):
            return current.upper()
        if self.transform == "tolower" and isinstance(current, str):
            return current.lower()
        return current


def _key(record: dict, name: str) -> str | None:
    if name in record:
        return name
    lower = name.lower()
    return next((k for k in record if k.lower() == lower), None)


class Parser:
    """Recursive descent over the token list; builds closures record -> value."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.fields: list[Field] = []

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("Expression expected")
        if value is not None and token[1] != value:
            raise QueryError(f"'{value}' expected")
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            raise QueryError("Expression expected")
        node = self.disjunction()
        extra = self.peek()
        if extra is not None:
            raise QueryError(f"Syntax error '{extra[1]}'")
        return node

    def disjunction(self):
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self):
        left = self.negation()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self):
        if self.peek() == ("op", "!"):
            self.take()
            inner = self.negation()
            return lambda r, s: not _truth(inner(r, s))
        return self.comparison()

    def comparison(self):
        left = self.operand()
        token = self.peek()
        if token and token[0] == "op" and token[1] in COMPARISONS:
            self.take()
            right = self.operand()
            return _compare(token[1], left, right)
        return left

    def operand(self):
        kind, value = self.take()
        if kind == "string":
            text = value[1:-1].replace('""', '"')
            return lambda r, s: text
        if kind == "number":
            number = float(value)
            return lambda r, s: number
        if kind == "op" and value == "(":
            node = self.disjunction()
            self.take(")")
            return node
        if kind != "name":
            raise QueryError("Expression expected")
        lower = value.lower()
        if lower in ("true", "false"):
            flag = lower == "true"
            return lambda r, s: flag
        if lower == "null":
            return lambda r, s: None
        if lower == "datetime":
            moment = self.datetime_literal()
            return lambda r, s: moment
        if lower == "guid":
            guid = self.guid_literal()
            return lambda r, s: guid
        return self.member(value)

    def arguments(self) -> list:
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            while True:
                kind, value = self.take()
                if kind == "string":
                    args.append(value[1:-1].replace('""', '"'))
                elif kind == "number":
                    args.append(value)
                else:
                    raise QueryError("Expression expected")
                if self.peek() != ("op", ","):
                    break
                self.take(",")
        self.take(")")
        return args

    def datetime_literal(self) -> datetime:
        if self.peek() == ("op", "."):
            self.take(".")
            if self.take()[1].lower() != "parse":
                raise QueryError("No applicable method exists in type 'DateTime'")
            args = self.arguments()
            if len(args) != 1:
                raise QueryError("No applicable method 'Parse' exists in type 'DateTime'")
            try:
                return _utc(datetime.fromisoformat(args[0].replace("Z", "+00:00")))
            except ValueError:
                raise QueryError(f"String '{args[0]}' was not recognized as a valid DateTime.") from None
        args = self.arguments()
        if len(args) not in (3, 6) or not all(a.isdigit() for a in args):
            raise QueryError("No matching constructor in type 'DateTime'")
        try:
            year, month, day, hour, minute, second = ([int(a) for a in args] + [0, 0, 0])[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError as bad:
            raise QueryError(str(bad)) from None

    def guid_literal(self) -> Guid:
        args = self.arguments()
        if len(args) != 1 or not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", args[0]):
            raise QueryError("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
        return Guid(args[0].lower())

    def member(self, first: str):
        path = [first]
        field = Field(())
        while self.peek() == ("op", "."):
            self.take(".")
            kind, name = self.take()
            if kind != "name":
                raise QueryError("Identifier expected")
            if self.peek() == ("op", "("):
                return self.method(field, path, name)
            path.append(name)
        field.path = tuple(path)
        self.fields.append(field)
        return field.value

    def method(self, field: Field, path: list[str], name: str):
        field.path = tuple(path)
        self.fields.append(field)
        lower = name.lower()
        args = self.arguments()
        if lower in CASE_METHODS and not args:
            field.transform = lower
            call = field.value
            if self.peek() == ("op", "."):  # e.g. Name.ToLower().Contains("x")
                self.take(".")
                _kind, then = self.take()
                if then.lower() not in STRING_METHODS:
                    raise QueryError(f"No applicable method '{then}' exists in type 'String'")
                return _string_method(then.lower(), call, self.arguments())
            return call
        if lower in STRING_METHODS:
            return _string_method(lower, field.value, args)
        raise QueryError(f"No applicable method '{name}' exists in type 'String'")


def _string_method(name: str, value, args: list):
    if len(args) != 1:
        raise QueryError(f"No applicable method '{name}' exists in type 'String'")
    needle = args[0]

    def check(record, seen) -> bool:
        text = value(record, seen)
        if text is None:
            return False
        if not isinstance(text, str):
            raise QueryError(f"No applicable method '{name}' exists in type '{_type_name(text)}'")
        if name == "contains":
            return needle in text
        if name == "startswith":
            return text.startswith(needle)
        return text.endswith(needle)

    return check


def _and(left, right):
    return lambda r, s: _truth(left(r, s)) and _truth(right(r, s))


def _or(left, right):
    return lambda r, s: _truth(left(r, s)) or _truth(right(r, s))


def _truth(value) -> bool:
    if isinstance(value, bool):
        return value
    raise QueryError(f"Expression of type '{_type_name(value)}' expected to be 'Boolean'")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Decimal"
    if isinstance(value, datetime):
        return "DateTime"
    if isinstance(value, dict | list):
        return "Object"
    return "String"


def as_value(value):
    """A field value as it compares: /Date(ms)/ strings are instants."""
    if isinstance(value, str) and value.startswith("/Date("):
        match = MS_DATE.match(value)
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    return value


def _compare(op: str, left, right):
    def check(record, seen) -> bool:
        a, b = as_value(left(record, seen)), as_value(right(record, seen))
        if isinstance(a, Guid) or isinstance(b, Guid):
            a = a.lower() if isinstance(a, str) else a
            b = b.lower() if isinstance(b, str) else b
        if a is None or b is None:
            if op in ("==", "="):
                return a is None and b is None
            if op in ("!=", "<>"):
                return not (a is None and b is None)
            return False
        if _type_name(a) != _type_name(b):
            raise QueryError(f"Operator '{op}' incompatible with operand types '{_type_name(a)}' and '{_type_name(b)}'")
        if op in ("==", "="):
            return a == b
        if op in ("!=", "<>"):
            return a != b
        if isinstance(a, bool):
            raise QueryError(f"Operator '{op}' incompatible with operand types 'Boolean' and 'Boolean'")
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        return a >= b

    return check


class Where:
    """A parsed `where`: call `.matches(record)`; `.check_fields(type_name)` after a pass."""

    def __init__(self, text: str) -> None:
        parser = Parser(text)
        self._test = parser.parse()
        self._fields = parser.fields
        self._seen: set = set()

    def matches(self, record: dict) -> bool:
        return _truth(self._test(record, self._seen))

    def check_fields(self, type_name: str, records_seen: int) -> None:
        """After filtering: a property no record has is an error, as in Xero (not an empty result)."""
        if not records_seen:
            return
        for field in self._fields:
            for depth in range(1, len(field.path) + 1):
                if field.path[:depth] not in self._seen:
                    owner = type_name if depth == 1 else field.path[depth - 2]
                    raise QueryError(f"No property or field '{field.path[depth - 1]}' exists in type '{owner}'")


def filter_records(text: str, records: list[dict], type_name: str) -> list[int]:
    """Positions of the records the expression keeps (QueryError when Xero would refuse it)."""
    where = Where(text)
    kept = [n for n, record in enumerate(records) if where.matches(record)]
    where.check_fields(type_name, len(records))
    return kept


def order_key(text: str, type_name: str, sample: dict | None) -> list[tuple[Callable[[dict], object], bool]]:
    """`order=Contact.Name DESC, Date` -> [(key(record), descending)]; QueryError on a bad field."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise QueryError(f"Syntax error in order '{part.strip()}'")
        field = Field(tuple(words[0].split(".")))
        if sample is not None:
            seen: set = set()
            field.value(sample, seen)
            if field.path not in seen:
                raise QueryError(f"No property or field '{words[0]}' exists in type '{type_name}'")
        keys.append((_sort_value(field), len(words) == 2 and words[1].upper() == "DESC"))
    return keys


def _sort_value(field: Field):
    def key(record: dict):
        value = as_value(field.value(record, set()))
        if isinstance(value, str) and not isinstance(value, Guid):
            return (1, value.lower())
        return (0, "") if value is None else (1, value)

    return key
