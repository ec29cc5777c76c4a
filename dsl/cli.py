"""Command line: ``python -m dsl check|eval …`` (also reachable as ``taizhang dsl …`` through Django).

For administrators trying a rule and for tests driving the language from outside. Works without Django configured.

* ``check [--schema S.json] [--expect bool] [--json] [--lang en] EXPR`` — exit 0 and print the inferred type, or exit
  1 and print every diagnostic (``--json``: a list of ``{line, column, end_column, code, message, message_en}``;
  an empty list on success).
* ``eval [--schema S.json] --data D.json [--today YYYY-MM-DD] [--explain] [--lang en] EXPR`` — print the result as
  JSON (decimals as strings, dates ISO, durations ``P30D``, null), then with ``--explain`` the trace. Numbers in the
  data file are read as exact decimals; strings become dates where the schema says ``format: date``. Without a
  schema the catalogue is inferred from the data's top-level values.

Exit codes: 0 success, 1 a problem with the expression or the data, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dsl.catalogue import Catalogue, Field
from dsl.checker import check, diagnose
from dsl.compiler import compile
from dsl.errors import DslError
from dsl.types import ANY, BOOL, DATE, NUMBER, STRING, DslType, ListType, ObjectType
from dsl.values import to_json

__all__ = ["main"]

_EXPECT: dict[str, DslType] = {"bool": BOOL, "number": NUMBER, "string": STRING, "date": DATE}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsl", description="台账 DSL: check and evaluate expressions")
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="type-check an expression / 检查表达式")
    check_cmd.add_argument("--schema", type=Path, help="JSON Schema (draft 2020-12) describing the record")
    check_cmd.add_argument(
        "--expect", choices=sorted(_EXPECT), help="required result type (bool for conditions)"
    )
    check_cmd.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    check_cmd.add_argument("--lang", choices=("zh", "en"), default="zh")
    check_cmd.add_argument("expr")
    eval_cmd = commands.add_parser("eval", help="evaluate an expression against a record / 计算表达式")
    eval_cmd.add_argument("--schema", type=Path)
    eval_cmd.add_argument("--data", type=Path, required=True, help="JSON file holding one record (an object)")
    eval_cmd.add_argument("--today", type=date.fromisoformat, help="the date today() returns (YYYY-MM-DD)")
    eval_cmd.add_argument(
        "--explain", action="store_true", help="also print the value of every sub-expression"
    )
    eval_cmd.add_argument("--json", action="store_true", help="print errors (and the trace) as JSON")
    eval_cmd.add_argument("--lang", choices=("zh", "en"), default="zh")
    eval_cmd.add_argument("expr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code instead of exiting."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    try:
        schema = _load_json(args.schema) if args.schema else None
    except (OSError, ValueError) as exc:
        print(f"无法读取 schema / cannot read schema: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(args, schema)
    return _eval(args, schema)


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)


def _print_errors(errors: Sequence[DslError], as_json: bool, lang: str, stream: Any) -> None:
    if as_json:
        print(json.dumps([e.to_dict() for e in errors], ensure_ascii=False, indent=2), file=stream)
        return
    for error in errors:
        print(error.excerpt(lang), file=stream)


def _check(args: argparse.Namespace, schema: Any) -> int:
    catalogue = Catalogue.from_json_schema(schema) if schema is not None else Catalogue()
    expect = _EXPECT.get(args.expect) if args.expect else None
    problems = diagnose(args.expr, catalogue, expect=expect)
    if problems:
        _print_errors(problems, args.json, args.lang, sys.stdout)
        return 1
    if args.json:
        print("[]")
        return 0
    checked = check(args.expr, catalogue, expect=expect)
    print(checked.type.zh if args.lang == "zh" else checked.type.en)
    return 0


def _eval(args: argparse.Namespace, schema: Any) -> int:
    try:
        record = _load_json(args.data)
    except (OSError, ValueError) as exc:
        print(f"无法读取数据 / cannot read data: {exc}", file=sys.stderr)
        return 2
    if not isinstance(record, dict):
        print("数据文件必须是一个 JSON 对象 / the data file must hold a JSON object", file=sys.stderr)
        return 2
    if schema is not None:
        catalogue = Catalogue.from_json_schema(schema)
        record = _dates_from_schema(record, catalogue)
    else:
        catalogue = _infer_catalogue(record)
    try:
        compiled = compile(check(args.expr, catalogue))
        if args.explain:
            trace = compiled.explain(record, today=args.today)
            value = trace.value
        else:
            value = compiled.evaluate(record, today=args.today)
    except DslError as error:
        _print_errors([error], args.json, args.lang, sys.stderr)
        return 1
    print(json.dumps(to_json(value), ensure_ascii=False))
    if args.explain:
        if args.json:
            print(json.dumps(trace.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(trace.render(args.lang))
    return 0


def _dates_from_schema(record: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """Turn ISO strings into dates wherever the schema declares ``format: date`` (including inside lists)."""
    for found in catalogue:
        kind = found.type
        if kind == DATE or (isinstance(kind, ListType) and kind.item == DATE):
            _convert_path(record, found.path)
    return record


def _convert_path(value: Any, path: tuple[str, ...]) -> None:
    if isinstance(value, list):
        for item in value:
            _convert_path(item, path)
        return
    if not isinstance(value, dict) or path[0] not in value:
        return
    if len(path) > 1:
        _convert_path(value[path[0]], path[1:])
        return
    current = value[path[0]]
    if isinstance(current, str):
        with contextlib.suppress(ValueError):  # left as text: the read reports E602 with the offending value
            value[path[0]] = date.fromisoformat(current)
    elif isinstance(current, list):
        value[path[0]] = [date.fromisoformat(v) if isinstance(v, str) else v for v in current]


def _infer_catalogue(record: dict[str, Any]) -> Catalogue:
    """Without a schema, type each top-level value from the data itself (ISO date strings count as dates)."""
    fields = []
    for key, value in record.items():
        fields.append(Field(key, _infer_type(value), (key,)))
        if isinstance(value, str) and _is_iso_date(value):
            record[key] = date.fromisoformat(value)
    return Catalogue(fields)


def _infer_type(value: Any) -> DslType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return DATE if _is_iso_date(value) else STRING
    if isinstance(value, list):
        kinds = {_infer_type(v) for v in value if v is not None}
        return ListType(kinds.pop() if len(kinds) == 1 else ANY)
    if isinstance(value, dict):
        return ObjectType({key: _infer_type(item) for key, item in value.items()})
    return ANY


def _is_iso_date(text: str) -> bool:
    if len(text) != 10:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
