"""Defences against hostile form definitions and hostile payloads.

Definitions are written by administrators in many localities and payloads by anyone holding a login, so neither is
trusted. The promises kept here:

* nothing is ever fetched: only local ``#…`` references are allowed, nested ``$id`` s (which would re-base a local
  reference onto a remote URI) are refused, and the validator's ``referencing`` registry refuses every retrieval;
* a schema is bounded in nesting depth, node count and pattern length;
* a ``pattern`` that can backtrack catastrophically (nested quantifiers such as ``(a+)+``, overlapping alternatives
  under a repeat such as ``(a|a)*``, back-references) is refused at publish time, **and** at run time every pattern is
  matched by a linear-time engine (RE2, when installed) on a string whose length is capped first, so validating any
  payload takes bounded time whatever slipped through;
* a payload is bounded in size, depth, string length and array length before any schema keyword looks at it, with a
  Chinese error instead of a crash or a long stall.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import referencing
import referencing.jsonschema
from referencing.exceptions import NoSuchResource

try:  # RE2 runs in time linear in the input: no pattern can stall a request.
    import re2 as _re2

    _RE2_OPTIONS: Any = _re2.Options()
    _RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the designer, not logged to stderr
except ImportError:  # pragma: no cover - exercised only where google-re2 is absent
    _re2 = None
    _RE2_OPTIONS = None

__all__ = [
    "LIMITS",
    "PAYLOAD_CLEAN",
    "PAYLOAD_HAS_NULLS",
    "PAYLOAD_UNSAFE",
    "SafetyLimits",
    "check_pattern",
    "check_schema_safety",
    "local_registry",
    "pattern_matcher",
    "payload_problem",
    "payload_scan",
]

try:
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
    from re._constants import (  # type: ignore[attr-defined]
        BRANCH,
        GROUPREF,
        GROUPREF_EXISTS,
        MAX_REPEAT,
        MAXREPEAT,
        MIN_REPEAT,
        POSSESSIVE_REPEAT,
        SUBPATTERN,
    )
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre_parse  # type: ignore[no-redef]
    from sre_constants import (  # type: ignore[no-redef]
        BRANCH,
        GROUPREF,
        GROUPREF_EXISTS,
        MAX_REPEAT,
        MAXREPEAT,
        MIN_REPEAT,
        SUBPATTERN,
    )

    POSSESSIVE_REPEAT = MAX_REPEAT


@dataclass(frozen=True, slots=True)
class SafetyLimits:
    """Bounds on definitions and payloads. Generous for real forms (a 60-field 立项申请 with three repeating groups
    is about 900 schema nodes, depth 6, and a payload of a few thousand values)."""

    schema_max_depth: int = 32
    schema_max_nodes: int = 20_000
    pattern_max_length: int = 500
    #: a counted repeat above this is treated as unbounded when looking for nested quantifiers.
    pattern_repeat_bound: int = 100
    #: strings longer than this never reach a regular expression (they fail ``pattern``).
    pattern_input_max: int = 10_000
    payload_max_depth: int = 16
    payload_max_nodes: int = 100_000
    payload_max_string: int = 100_000
    payload_max_array: int = 2_000
    payload_max_keys: int = 1_000
    #: validation stops collecting after this many errors (one more says how many were left out).
    max_errors: int = 100


LIMITS = SafetyLimits()

_LOCAL_REF_KEYS = ("$ref", "$dynamicRef")
_PATTERN_KEYS = ("pattern",)


def check_schema_safety(schema: Any, limits: SafetyLimits = LIMITS) -> list[tuple[str, str]]:
    """Problems that make ``schema`` unsafe to validate with, as ``(json_pointer, message)`` pairs.

    Walks iteratively (a hostile schema may be deeper than Python's recursion limit) and stops counting at the
    node bound, so the check itself is bounded.
    """
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(schema, "", 0)]
    nodes = 0
    while stack:
        node, pointer, depth = stack.pop()
        nodes += 1
        if nodes > limits.schema_max_nodes:
            problems.append(("", f"表单定义过大：超过 {limits.schema_max_nodes} 个节点"))
            return problems
        if depth > limits.schema_max_depth:
            problems.append((pointer, f"表单定义嵌套过深：超过 {limits.schema_max_depth} 层"))
            return problems
        if isinstance(node, Mapping):
            for key, value in node.items():
                child = f"{pointer}/{_escape(str(key))}"
                if key in _LOCAL_REF_KEYS and isinstance(value, str) and not value.startswith("#"):
                    problems.append((child, f"只允许引用本定义内的位置（以 # 开头），不允许 {value!r}"))
                elif key == "$id" and pointer and isinstance(value, str):
                    problems.append((child, "只允许在根节点声明 $id（嵌套 $id 会改变引用的解析基准）"))
                elif key in _PATTERN_KEYS and isinstance(value, str):
                    problems.extend((child, message) for message in check_pattern(value, limits))
                elif key == "patternProperties" and isinstance(value, Mapping):
                    for regex in value:
                        problems.extend(
                            (f"{child}/{_escape(str(regex))}", message)
                            for message in check_pattern(str(regex), limits)
                        )
                if isinstance(value, Mapping | list):
                    stack.append((value, child, depth + 1))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, Mapping | list):
                    stack.append((value, f"{pointer}/{index}", depth + 1))
    return problems


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


# -- regular expressions ---------------------------------------------------------------------------------------------


def check_pattern(pattern: str, limits: SafetyLimits = LIMITS) -> list[str]:
    """Why ``pattern`` is refused (empty when it is acceptable).

    The rules are syntactic and conservative: a repeat that is unbounded (or counted above
    ``pattern_repeat_bound``) may contain neither another such repeat, nor an alternation; back-references are
    refused everywhere, and with RE2 installed so is any syntax RE2 lacks (look-around), since run-time matching uses
    RE2. Conservative means some harmless patterns are refused too (``^[a-z]+(-[a-z]+)*$``); form patterns are
    short codes and numbers, and the message says how to rewrite (a character class, a single repeat).
    """
    if len(pattern) > limits.pattern_max_length:
        return [f"正则表达式过长（超过 {limits.pattern_max_length} 个字符）"]
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return [f"正则表达式无效：{error}"]
    if _re2 is not None:
        try:
            _re2.compile(pattern, _RE2_OPTIONS)
        except Exception:  # re2 raises its own error type
            return ["正则表达式使用了不支持的语法（如前瞻、后顾或反向引用）"]
    problem = _dangerous(list(parsed), limits, repeated=False, unbounded=False)
    return [problem] if problem else []


def _dangerous(items: list[Any], limits: SafetyLimits, *, repeated: bool, unbounded: bool) -> str | None:
    """``repeated``: inside some repeat that can match more than once; ``unbounded``: inside an unbounded one."""
    for op, av in items:
        if op in (GROUPREF, GROUPREF_EXISTS):
            return "正则表达式不能使用反向引用"
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            _low, high, body = av
            is_unbounded = high == MAXREPEAT or high > limits.pattern_repeat_bound
            if (
                is_unbounded and repeated
            ):  # (a+)+, (.*a){20}: exponential or high-degree polynomial backtracking
                return "正则表达式含嵌套的重复（如 (a+)+），可能导致灾难性回溯；请改写为单层重复"
            problem = _dangerous(
                list(body), limits, repeated=repeated or high > 1, unbounded=unbounded or is_unbounded
            )
            if problem:
                return problem
        elif op == SUBPATTERN:
            problem = _dangerous(list(av[-1]), limits, repeated=repeated, unbounded=unbounded)
            if problem:
                return problem
        elif op == BRANCH:
            if unbounded:  # (a|a)*: every overlapping choice doubles the paths to try
                return "正则表达式在重复内使用了分支（如 (a|b)*），可能导致灾难性回溯；请改用字符类 [ab]*"
            for branch in av[1]:
                problem = _dangerous(list(branch), limits, repeated=repeated, unbounded=unbounded)
                if problem:
                    return problem
    return None


@lru_cache(maxsize=1024)
def pattern_matcher(pattern: str, limits: SafetyLimits = LIMITS) -> Callable[[str], bool]:
    """A ``search``-semantics predicate for ``pattern`` that takes bounded time on any string.

    RE2 is linear-time; without it Python's ``re`` runs only on patterns that :func:`check_pattern` accepted. Either
    way a string longer than ``pattern_input_max`` is refused without matching. A pattern neither engine compiles
    never matches (the definition check reports it before publishing).
    """
    cap = limits.pattern_input_max
    compiled: Any = None
    linear = _linear_form(pattern)
    if linear is not None:  # provably linear under backtracking: Python's re is ~20x faster to call than RE2
        compiled = re.compile(linear, re.ASCII)
    elif _re2 is not None:
        try:
            compiled = _re2.compile(pattern, _RE2_OPTIONS)
        except Exception:  # fall through to re for syntax re2 lacks; check_pattern reports it
            compiled = None
    if compiled is None and not check_pattern(pattern, limits):
        try:
            compiled = re.compile(pattern, re.ASCII)
        except re.error:
            compiled = None
    if compiled is None:
        return lambda text: False
    search = compiled.search

    def matches(text: str) -> bool:
        return len(text) <= cap and search(text) is not None

    return matches


_ATOMS = frozenset({"LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY"})


def _linear_form(pattern: str) -> str | None:
    """``pattern`` rewritten for Python's ``re`` when backtracking on it is linear, else None.

    Linear means: anchored at the start, a flat sequence of single-character atoms and repeats of one atom, with at
    most one repeat of variable length (so there is never more than one way to split the input), and ``$`` only
    at the very end — rewritten to ``\\Z``, because Python's ``$`` also matches before a final newline and
    ECMA-262's (and RE2's) does not. Compiled with ``re.ASCII`` so ``\\d`` means 0–9 as in ECMA-262 and RE2.
    """
    try:
        items = list(_sre_parse.parse(pattern))
    except (re.error, RecursionError, OverflowError):
        return None
    if not items or str(items[0][0]) != "AT" or str(items[0][1]) != "AT_BEGINNING":
        return None
    variable = 0
    for position, (op, av) in enumerate(items[1:], start=1):
        name = str(op)
        if name in _ATOMS:
            continue
        if name == "AT" and str(av) == "AT_END" and position == len(items) - 1:
            continue
        if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            low, high, body = av
            if len(body) != 1 or str(body[0][0]) not in _ATOMS:
                return None
            variable += low != high
            continue
        return None
    if variable > 1:
        return None
    if str(items[-1][0]) == "AT":
        if not pattern.endswith("$") or pattern.endswith("\\$"):
            return None
        return pattern[:-1] + "\\Z"
    return pattern


# -- references ------------------------------------------------------------------------------------------------------


def _refuse(uri: str) -> referencing.Resource[Any]:
    raise NoSuchResource(ref=uri)


def local_registry() -> referencing.Registry[Any]:
    """A registry that knows no external schema and refuses to retrieve one (jsonschema would otherwise fetch
    unknown ``$ref`` URIs over the network)."""
    return referencing.Registry(retrieve=_refuse)  # type: ignore[call-arg]


# -- payloads --------------------------------------------------------------------------------------------------------

_SCALARS = (str, bool, int, type(None))


def payload_problem(data: Any, limits: SafetyLimits = LIMITS) -> tuple[str, str, str] | None:
    """The first reason ``data`` may not be validated at all, as ``(path, message, code)``, or None.

    Accepts exactly what a JSON parser with ``parse_float=Decimal`` produces (dict with string keys, list, str,
    int, bool, None, Decimal) plus finite floats (rejected later, field by field, where money is concerned).
    Runs on every submission, so scalars are checked inline and only containers and numbers go on the stack.
    """
    max_string = limits.payload_max_string
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    nodes = 0
    while stack:
        node, path, depth = stack.pop()
        cls = node.__class__
        if cls is dict or cls is list:
            if depth >= limits.payload_max_depth:
                return path, f"提交的数据嵌套过深：超过 {limits.payload_max_depth} 层", "payload_too_deep"
            nodes += len(node)
            if nodes > limits.payload_max_nodes:
                return "", f"提交的数据过大：超过 {limits.payload_max_nodes} 个值", "payload_too_large"
            if cls is dict:
                if len(node) > limits.payload_max_keys:
                    return path, f"提交的数据字段过多：超过 {limits.payload_max_keys} 个", "payload_too_large"
                pairs: Any = node.items()
            else:
                if len(node) > limits.payload_max_array:
                    return path, f"列表过长：最多 {limits.payload_max_array} 项", "payload_too_large"
                pairs = enumerate(node)
            for key, value in pairs:
                if cls is dict and key.__class__ is not str:
                    return path, "字段名必须是文本", "payload_invalid"
                kind = value.__class__
                if kind is str:
                    if len(value) > max_string:
                        where = (
                            f"{path}.{key}"
                            if cls is dict and path
                            else (key if cls is dict else f"{path}[{key}]")
                        )
                        return where, f"文本过长：最多 {max_string} 个字", "payload_too_large"
                elif kind is int or kind is bool or value is None:
                    continue
                else:
                    where = (f"{path}.{key}" if path else key) if cls is dict else f"{path}[{key}]"
                    stack.append((value, where, depth + 1))
        elif cls is str:
            if len(node) > max_string:
                return path, f"文本过长：最多 {max_string} 个字", "payload_too_large"
        elif cls is Decimal or cls is float:
            if not (node.is_finite() if cls is Decimal else math.isfinite(node)):
                return path, "数值无效（不能是 NaN 或无穷大）", "payload_invalid"
        elif cls not in (bool, int, type(None)):
            return path, f"不支持的数据类型：{cls.__name__}", "payload_invalid"
    return None


#: :func:`payload_scan` verdicts.
PAYLOAD_UNSAFE = -1
PAYLOAD_CLEAN = 0
PAYLOAD_HAS_NULLS = 1


def payload_scan(data: Any, limits: SafetyLimits = LIMITS) -> int:
    """:data:`PAYLOAD_UNSAFE` exactly when :func:`payload_problem` finds a problem; otherwise whether some object
    holds a ``None`` value (:data:`PAYLOAD_HAS_NULLS`), which the validator must drop before validating.

    This is the per-submission walk, so it keeps no paths (a problem is rare: :func:`payload_problem` is run again
    to say where) and walks level by level, which tracks depth without a tuple per container. Noticing nulls here
    spares the validator a second walk just to learn that there is nothing to drop.
    """
    cls = data.__class__
    if cls is not dict and cls is not list:
        return PAYLOAD_UNSAFE if payload_problem(data, limits) is not None else PAYLOAD_CLEAN
    max_string, max_keys, max_array = (
        limits.payload_max_string,
        limits.payload_max_keys,
        limits.payload_max_array,
    )
    max_nodes = limits.payload_max_nodes
    nulls = False
    nodes = 0
    level: list[Any] = [data]
    for _depth in range(limits.payload_max_depth):
        below: list[Any] = []
        push = below.append
        for node in level:
            size = len(node)
            nodes += size
            if nodes > max_nodes:
                return PAYLOAD_UNSAFE
            if node.__class__ is dict:
                if size > max_keys:
                    return PAYLOAD_UNSAFE
                for key, value in node.items():
                    if key.__class__ is not str:
                        return PAYLOAD_UNSAFE
                    kind = value.__class__
                    if kind is str:
                        if len(value) > max_string:
                            return PAYLOAD_UNSAFE
                    elif kind is dict or kind is list:
                        push(value)
                    elif kind is Decimal:
                        if not value.is_finite():
                            return PAYLOAD_UNSAFE
                    elif value is None:
                        nulls = True
                    elif (
                        kind is not int and kind is not bool and not (kind is float and math.isfinite(value))
                    ):
                        return PAYLOAD_UNSAFE
            else:
                if size > max_array:
                    return PAYLOAD_UNSAFE
                for value in node:
                    kind = value.__class__
                    if kind is str:
                        if len(value) > max_string:
                            return PAYLOAD_UNSAFE
                    elif kind is dict or kind is list:
                        push(value)
                    elif kind is Decimal:
                        if not value.is_finite():
                            return PAYLOAD_UNSAFE
                    elif (
                        kind is not int
                        and kind is not bool
                        and value is not None
                        and not (kind is float and math.isfinite(value))
                    ):
                        return PAYLOAD_UNSAFE
        if not below:
            return PAYLOAD_HAS_NULLS if nulls else PAYLOAD_CLEAN
        level = below
    return PAYLOAD_UNSAFE  # containers remain at depth payload_max_depth: too deep


def iter_patterns(schema: Any) -> Iterator[str]:
    """Every ``pattern`` string in ``schema`` (used by tests and the designer's live checks)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    yield value
                elif isinstance(value, Mapping | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, Mapping | list))
