"""Reads the endpoints the web app calls out of its JavaScript: every `api(…)` call and every `new EventSource(…)`,
and every `fetch(…)` whose first argument is a literal (a non-literal `fetch` is api()'s own, inside api.js).

A call's path is its first argument: a string or template literal, or a local `const`/`let` name bound to one in the
same file. Template parameters become path parameters (`/v1/users/${id}/videos` → `/v1/users/{}/videos`), except a
`${cond ? "a" : "b"}` of two string literals, which is both spellings. The method is the options' `method:` (every
HTTP verb literal in its value, so `method: liked ? "DELETE" : "POST"` is both), GET without one. A first argument `cond ? <literal> : <literal>` is both. A call whose path
or method cannot be read this way is reported as unreadable, so that no call escapes the agreement test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # with `{}` for each parameter, no query string
    where: str  # file:line


@dataclass(frozen=True)
class Unreadable:
    text: str
    where: str


def _skip_string(source: str, i: int) -> int:
    """Index just past the string or template literal starting at source[i]."""
    quote = source[i]
    i += 1
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        if quote == "`" and source.startswith("${", i):
            i = _skip_balanced(source, i + 1)  # the `{` of `${`
            continue
        i += 1
    return i


def _skip_balanced(source: str, i: int) -> int:
    """Index just past the bracket that closes the one at source[i] (strings, templates and comments respected)."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack = [pairs[source[i]]]
    i += 1
    while i < len(source) and stack:
        c = source[i]
        if c in "'\"`":
            i = _skip_string(source, i)
            continue
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = len(source) if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = len(source) if end < 0 else end + 2
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c == stack[-1]:
            stack.pop()
        i += 1
    return i


def _split_arguments(inner: str) -> list[str]:
    """The top-level comma-separated arguments of a call's text between its parentheses."""
    parts, start, i = [], 0, 0
    while i < len(inner):
        c = inner[i]
        if c in "'\"`":
            i = _skip_string(inner, i)
            continue
        if c in "({[":
            i = _skip_balanced(inner, i)
            continue
        if c == ",":
            parts.append(inner[start:i].strip())
            start = i + 1
        i += 1
    tail = inner[start:].strip()
    if tail:
        parts.append(tail)
    return parts


_TERNARY = re.compile(r"""^[^?]+\?\s*(["'])([^"'`]*)\1\s*:\s*(["'])([^"'`]*)\3\s*$""", re.S)


def _top_level_ternary(expression: str) -> tuple[str, str] | None:
    """(a, b) of `cond ? a : b` at the top level of expression, else None."""
    question = colon = None
    i = 0
    while i < len(expression):
        c = expression[i]
        if c in "'\"`":
            i = _skip_string(expression, i)
            continue
        if c in "({[":
            i = _skip_balanced(expression, i)
            continue
        if c == "?" and question is None and expression[i + 1 : i + 2] not in ("?", "."):
            question = i
        elif c == ":" and question is not None and colon is None:
            colon = i
        i += 1
    if question is None or colon is None:
        return None
    return expression[question + 1 : colon].strip(), expression[colon + 1 :].strip()


def _literal_paths(expression: str) -> list[str] | None:
    """Every path a string or template literal spells, parameters as `{}`; None if expression is no such literal.
    `cond ? <literal> : <literal>` spells both."""
    expression = expression.strip()
    branches = _top_level_ternary(expression)
    if branches:
        first, second = (_literal_paths(branch) for branch in branches)
        return first + second if first is not None and second is not None else None
    if len(expression) < 2 or expression[0] not in "'\"`" or _skip_string(expression, 0) != len(expression):
        return None
    body = expression[1:-1]
    if expression[0] != "`":
        return [body]
    variants = [""]
    i = 0
    while i < len(body):
        if body.startswith("${", i):
            end = _skip_balanced(body, i + 1)
            inner = body[i + 2 : end - 1]
            ternary = _TERNARY.match(inner)
            choices = [ternary.group(2), ternary.group(4)] if ternary else ["{}"]
            variants = [v + choice for v in variants for choice in choices]
            i = end
            continue
        if body[i] == "\\" and i + 1 < len(body):
            variants = [v + body[i + 1] for v in variants]
            i += 2
            continue
        variants = [v + body[i] for v in variants]
        i += 1
    return variants


def _bindings(source: str) -> dict[str, list[str]]:
    """`const name = <literal>` / `let name = <literal>` in a file: name → the paths it spells."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?=['\"`])", source):
        start = match.end()
        end = _skip_string(source, start)
        paths = _literal_paths(source[start:end])
        if paths is not None:
            found.setdefault(match.group(1), []).extend(paths)
    return found


def _clean(path: str) -> str:
    return path.split("?", 1)[0].split("#", 1)[0]


def _methods(options: str | None) -> list[str] | None:
    if options is None:
        return ["GET"]
    if not options.startswith("{"):
        return None  # options passed in a variable: its method cannot be read here
    match = re.search(r"\bmethod\s*:\s*", options)
    if not match:
        return ["GET"]
    parts = _split_arguments(options[match.end() :])
    value = parts[0] if parts else ""
    verbs = [v for v in VERBS if re.search(rf"""["'`]{v}["'`]""", value)]
    return verbs or None


def _line(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def calls_in_source(source: str, name: str) -> tuple[list[Call], list[Unreadable]]:
    calls: list[Call] = []
    unreadable: list[Unreadable] = []
    bindings = _bindings(source)
    for match in re.finditer(r"(?<![\w$.])(api|fetch|new\s+EventSource)\s*\(", source):
        prefix = source[max(0, match.start() - 16) : match.start()]
        if re.search(r"function\s*$", prefix):
            continue  # the definition of api() itself
        open_paren = match.end() - 1
        close = _skip_balanced(source, open_paren)
        arguments = _split_arguments(source[open_paren + 1 : close - 1])
        where = f"{name}:{_line(source, match.start())}"
        text = source[match.start() : close]
        if not arguments:
            unreadable.append(Unreadable(text, where))
            continue
        first = arguments[0]
        paths = _literal_paths(first)
        if match.group(1) == "fetch" and paths is None:
            continue
        if paths is None and re.fullmatch(r"[A-Za-z_$][\w$]*", first):
            paths = bindings.get(first)
        event_source = match.group(1).startswith("new")
        methods = ["GET"] if event_source else _methods(arguments[1] if len(arguments) > 1 else None)
        if not paths or methods is None:
            unreadable.append(Unreadable(" ".join(text.split())[:160], where))
            continue
        for path in paths:
            for method in methods:
                calls.append(Call(method, _clean(path), where))
    return calls, unreadable


def calls_in_tree(root: Path, relative_to: Path) -> tuple[list[Call], list[Unreadable]]:
    calls: list[Call] = []
    unreadable: list[Unreadable] = []
    for file in sorted(root.rglob("*.js")):
        name = str(file.relative_to(relative_to)) if file.is_relative_to(relative_to) else str(file)
        found, bad = calls_in_source(file.read_text(), name)
        calls += found
        unreadable += bad
    return calls, unreadable


def normalise(path: str) -> str:
    """A path as compared: parameters as `{}`, no trailing slash (API.md: both forms of a collection path work)."""
    path = re.sub(r"\{[^}/]*\}", "{}", path)
    return path.rstrip("/") or "/"


def missing_from(document: dict, calls: list[Call]) -> list[Call]:
    """The calls whose method and path the OpenAPI document does not list."""
    listed: set[tuple[str, str]] = set()
    for path, operations in document.get("paths", {}).items():
        for method in operations:
            if method.upper() in VERBS:
                listed.add((method.upper(), normalise(path)))
    return [call for call in calls if (call.method, normalise(call.path)) not in listed]
