"""The sandbox client messages are written in: a narrowed Jinja2 (`render_source`).

The template language (SYNTAX_HELP): variables, filters from ALLOWED_FILTERS, tests from
ALLOWED_TESTS, comparisons, and/or/not, `~`/`+` and {% if %}/{% elif %}/{% else %}. The parsed
template is checked before it runs (_check_tree), so there is no loop, macro, {% set %}, call
(no .format, no lipsum/range/namespace), include or {% filter %} block, and rendering is one
pass, linear in the template's size. On top, `jinja2.sandbox.ImmutableSandboxedEnvironment`
with only the context's dict items readable (no attribute of Python objects), plain text (no
HTML escaping: emails are text/plain, SMS are text), StrictUndefined (a misspelt variable is an
error the editor shows, never a silent blank), string repetition, %-formatting of text and
powers refused, `replace` sized before it runs, output capped at MAX_OUTPUT characters.
`render_source` raises TemplateInvalid and nothing else, whatever the source (a template too
deep for the parser too).
"""

from __future__ import annotations

import operator
import re
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 20_000
MAX_SOURCE = 20_000


class TemplateInvalid(ValueError):
    """A template that does not parse or render: `message` in words for the editor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "truncate", "replace",
                             "length", "count", "round", "int", "float", "abs", "string", "first", "last"})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "true", "false", "boolean", "number", "string", "eq",
                           "equalto", "==", "ne", "!=", "lt", "<", "le", "<=", "gt", ">", "ge", ">=", "in", "odd",
                           "even", "divisibleby", "lower", "upper", "sameas"})
SYNTAX_HELP = ("Show a variable: {{ client.first_name }}. Change it with a filter: |upper, |default('there'), "
               "|truncate(40), |replace('old', 'new'). Show text only sometimes: {% if visit.address %}...{% elif "
               "visit.provider %}...{% else %}...{% endif %}. Loops, macros and {% set %} are not available.")
"""What the template language of a message allows, in words (the editors show it)."""

# Plain data the template may read, combine and compare (children are checked in turn).
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Const, nodes.Name,
                  nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.Keyword, nodes.CondExpr,
                  nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Concat,
                  nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Tuple, nodes.List)
_TAG_MESSAGES: tuple[tuple[tuple[type, ...], str], ...] = (
    ((nodes.For,), "Loops are not available in messages: use {% if %} to show text only when a variable has a value"),
    ((nodes.Macro, nodes.CallBlock), "Macros are not available in messages: write the text out"),
    ((nodes.Assign, nodes.AssignBlock, nodes.With),
     "{% set %} and {% with %} are not available in messages: use the variables directly"),
    ((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Block),
     "{% include %}, {% import %}, {% extends %} and {% block %} are not available: each message stands alone"),
    ((nodes.FilterBlock,), "{% filter %} blocks are not available in messages: apply the filter to a variable, "
                           "e.g. {{ client.first_name|upper }}"),
    ((nodes.Pow,), "powers are not allowed in a message"),
    ((nodes.Dict,), "Dictionaries are not available in messages: use the variables directly"),
)
_RESERVED_NAMES = frozenset({"self", "loop", "caller", "varargs", "kwargs"})


def _refuse_node(node: nodes.Node) -> str:
    """The reason `node` may not be in a message ("" when it may)."""
    for types, message in _TAG_MESSAGES:
        if isinstance(node, types):
            return message
    if isinstance(node, nodes.Call):
        called = node.node
        name = called.attr if isinstance(called, nodes.Getattr) else getattr(called, "name", "")
        return (f"'{name}()' is not available in messages: " if name else "Calling is not available in messages: ") \
            + "show a variable, e.g. {{ client.first_name }}, or change it with a filter, e.g. |upper"
    if isinstance(node, (nodes.Filter, nodes.Test)):
        if isinstance(node, nodes.Filter) and node.node is None:
            return _TAG_MESSAGES[4][1]
        allowed = ALLOWED_FILTERS if isinstance(node, nodes.Filter) else ALLOWED_TESTS
        if node.name not in allowed:
            what = "filter" if isinstance(node, nodes.Filter) else "test"
            listed = ", ".join(sorted(allowed - {"d", "==", "!=", "<", "<=", ">", ">="}))
            return f"The {what} '{node.name}' is not available in messages: use one of {listed}"
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            return f"'{node.name}' takes its values written out in a message"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"'{node.attr}' is unsafe: use a variable from the list"
    if isinstance(node, nodes.Name) and (node.name.startswith("_") or node.name in _RESERVED_NAMES):
        return f"'{node.name}' is unsafe: use a variable from the list"
    if not isinstance(node, _ALLOWED_NODES):
        return f"{type(node).__name__} is not available in messages. {SYNTAX_HELP}"
    return ""


def _check_tree(tree: nodes.Template) -> None:
    """Refuse (TemplateInvalid) anything in a parsed template beyond what SYNTAX_HELP says:
    with no loops, macros, assignments, calls or includes, rendering is one pass over the
    template (linear in its size). Unsafe names first: "__class__" is named as such."""
    found = list(tree.find_all(nodes.Node))
    for node in [n for n in found if isinstance(n, (nodes.Getattr, nodes.Name))] + [tree] + found:
        reason = _refuse_node(node)
        if reason:
            line = getattr(node, "lineno", None)
            raise TemplateInvalid(f"Line {line}: {reason}" if line and line > 1 else reason)


def _capped_replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    """The `replace` filter with the result's size known first (chained replaces multiply it)."""
    s, old, new = str(value), str(old), str(new)
    hits = len(s) + 1 if old == "" else s.count(old)
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        hits = min(hits, count)
        if len(s) + hits * (len(new) - len(old)) > MAX_OUTPUT:
            raise SecurityError(f"The message would be over {MAX_OUTPUT:,} characters")
        return s.replace(old, new, count)
    if len(s) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise SecurityError(f"The message would be over {MAX_OUTPUT:,} characters")
    return s.replace(old, new)


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for messages: only the data of the context's dicts is readable (no Python
    attribute or method of any object), repetition, powers and %-formatting of text refused;
    the template language itself is narrowed by _check_tree before anything runs."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            raise SecurityError("powers are not allowed in a message")
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("formatting text with % is not available in a message")
            return operator.mod(left, right)
        if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            raise SecurityError("repeating text is not allowed in a message")
        return operator.mul(left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`obj.attribute`: a dict's item, never a Python attribute ("".format is undefined)."""
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        if isinstance(obj, Undefined):  # report the first unknown name ("birthday" of birthday.age)
            return obj
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """`obj[argument]`: a dict's item, or a character / slice of a text."""
        if isinstance(obj, dict) and isinstance(argument, str) and argument in obj:
            return obj[argument]
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, (str, list, tuple)) and isinstance(argument, (int, slice)) \
                and not isinstance(argument, bool):
            try:
                return obj[argument]
            except (IndexError, TypeError, ValueError):
                pass
        return self.undefined(obj=obj, name=argument)


_ENV = _MessageSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
_ENV.filters = {name: f for name, f in _ENV.filters.items() if name in ALLOWED_FILTERS}
_ENV.filters["replace"] = _capped_replace
_ENV.tests = {name: t for name, t in _ENV.tests.items() if name in ALLOWED_TESTS}


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """`source` parsed, checked (_check_tree) and compiled; cached by source (the tick renders
    the same wording for many clients). Raises TemplateSyntaxError, TemplateInvalid."""
    tree = _ENV.parse(source)
    _check_tree(tree)
    return _ENV.from_string(tree)


def render_source(source: str, context: dict[str, Any]) -> str:
    """Render Jinja2 `source` with `context` in the sandbox (see the module and SYNTAX_HELP).
    Raises TemplateInvalid with the reason in words ("Line 2: unknown name 'visit.tretment'"),
    and nothing else, whatever the source: also for a template nested too deep or too big for
    memory, or one that is not text."""
    if not isinstance(source, str):
        raise TemplateInvalid("Write the message as text")
    if len(source) > MAX_SOURCE:
        raise TemplateInvalid(f"Keep it under {MAX_SOURCE:,} characters")
    try:
        text = _compiled(source).render(context)
    except TemplateInvalid:
        raise
    except SecurityError as exc:
        raise TemplateInvalid(str(exc)) from exc
    except UndefinedError as exc:
        found = re.search(r"has no attribute '([^']+)'|^'([^']+)' is undefined", str(exc.message or ""))
        name = next((g for g in found.groups() if g), "") if found else ""
        raise TemplateInvalid(f"There is no variable named '{name}': use one from the list of variables" if name
                              else f"Unknown variable: {exc.message}") from exc
    except TemplateSyntaxError as exc:  # parser words ("Expected an expression, got ...") read as a crash to owners
        where = f"on line {exc.lineno}" if exc.lineno else "in the message"
        raise TemplateInvalid(f"A {{{{ ... }}}} or {{% ... %}} is not complete or not closed {where}: check its "
                              f"brackets and its {{% endif %}} ({exc.message})") from exc
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateInvalid(f"Line {line}: {exc.message}" if line else str(exc.message or exc)) from exc
    except (RecursionError, MemoryError, SyntaxError) as exc:
        raise TemplateInvalid("This message is nested too deeply or too big to write: simplify it") from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}") from exc
    if len(text) > MAX_OUTPUT:
        raise TemplateInvalid(f"The message would be over {MAX_OUTPUT:,} characters")
    return text
