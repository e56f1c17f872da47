"""The model language: equation text -> sympy, through a whitelisting parser.

A hand-written tokenizer and recursive-descent parser turn text such as
``"a - (b + 1)*x + x^2*y"`` into sympy expressions. Nothing in the text is ever run as
Python: numbers become :class:`sympy.Integer` / :class:`sympy.Float`, identifiers are
looked up in the names the caller declares (each a :class:`sympy.Symbol` created
directly, or an expression such as a definition), and calls go to a fixed allow-list
of functions. A model file from a stranger cannot run code.

Grammar (lowest binding first)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-") unary | power
    power      := primary (("^" | "**") unary)?        # right associative
    primary    := NUMBER | NAME | NAME "(" arguments ")" | "(" expression ")"

so ``-x^2 == -(x^2)``, ``2^3^2 == 2^9`` and ``x^-2 == x^(-2)``. Constants: ``pi``,
``e`` (also ``E``); a declared name always shadows a constant. Functions: see
:data:`FUNCTIONS`. ``heaviside(x)`` is 1/2 at 0 (``heaviside(x, h0)`` chooses).
Decimal literals are read as IEEE doubles (the precision the kernels compute in).

:func:`to_text` writes any expression the parser produces back in this grammar, with
floats at ``repr`` precision, so that ``parse(to_text(e)) == e`` structurally.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

import sympy
from mpmath.libmp import to_str as _mpf_to_str

from stabkit.errors import ModelError, suggest

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_TEXT_LENGTH",
    "DelayTerm",
    "ParsedExpression",
    "parse",
    "parse_expression",
    "to_text",
]

#: Longest text the parser reads.
MAX_TEXT_LENGTH = 100_000
#: Deepest nesting of parentheses, calls, unary signs and powers.
MAX_DEPTH = 100
#: Longest integer literal, in digits (enough for any number of MAX_NUMBER_BITS bits).
MAX_INTEGER_DIGITS = 2500
#: Largest exact rational a result may hold, in bits of numerator or denominator.
MAX_NUMBER_BITS = 8192

#: Named constants (a declared name with the same spelling shadows them).
CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E}

_NEG_ONE = sympy.S.NegativeOne
_BAD_VALUES = (sympy.S.ComplexInfinity, sympy.S.NaN, sympy.S.Infinity, sympy.S.NegativeInfinity)
_SINGLE_OPS = "+-*/^(),"
_WHITESPACE = " \t\r\n\f\v"
_CHARACTER_HINTS = {
    "=": "an equation is only its right-hand side; the variable is the key in [equations]",
    "<": "comparisons are not supported; use heaviside(x - y) for a switch",
    ">": "comparisons are not supported; use heaviside(x - y) for a switch",
    "'": "strings are not part of the model language",
    '"': "strings are not part of the model language",
    "@": "'@' belongs to reactions, which go in a [reactions] table",
    "[": "use parentheses ( ) for grouping",
    "{": "use parentheses ( ) for grouping",
    "%": "there is no remainder operator; use x - y*floor(x/y)",
}


@dataclasses.dataclass(frozen=True)
class DelayTerm:
    """A delay term ``x(t - tau)`` found in an expression (kind ``dde``).

    Attributes
    ----------
    variable
        The delayed state variable.
    argument
        The time argument as written, e.g. ``t - tau``.
    term
        The sympy node standing for the term in the expression:
        ``sympy.Function(variable)(argument)``.
    column
        1-based column of the variable's name in the text.
    """

    variable: str
    argument: sympy.Expr
    term: sympy.Expr
    column: int


@dataclasses.dataclass(frozen=True)
class ParsedExpression:
    """What :func:`parse` found: the expression, the names it uses, its delay terms."""

    expression: sympy.Expr
    names_used: frozenset[str]
    delay_terms: tuple[DelayTerm, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Function:
    min_args: int
    max_args: int | None  # None: no upper bound
    build: Callable[..., sympy.Expr]
    arguments: str  # for messages, e.g. "x, k, n"


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "name" | "op" | "end"
    text: str
    offset: int


# --------------------------------------------------------------------------- tokenizer
def _tokenize(text: str, fail: Callable[..., ModelError]) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch.isascii() and (ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit())):
            end = _scan_number(text, i, fail)
            tokens.append(_Token("number", text[i:end], i))
            i = end
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            end = i + 1
            while end < n and text[end].isascii() and (text[end].isalnum() or text[end] == "_"):
                end += 1
            tokens.append(_Token("name", text[i:end], i))
            i = end
        elif text.startswith(("**", "->"), i):
            tokens.append(_Token("op", text[i : i + 2], i))
            i += 2
        elif ch in _SINGLE_OPS:
            tokens.append(_Token("op", ch, i))
            i += 1
        else:
            hint = _CHARACTER_HINTS.get(ch)
            if hint is None and ch.isalpha():
                hint = "names use ASCII letters, digits and '_' (write alpha, not α)"
            raise fail(f"unexpected character {ch!r}", i, hint)
    tokens.append(_Token("end", "", n))
    return tokens


def _scan_number(text: str, start: int, fail: Callable[..., ModelError]) -> int:
    n = len(text)

    def digits(k: int) -> int:
        while k < n and text[k].isascii() and text[k].isdigit():
            k += 1
        return k

    i = digits(start)
    if i < n and text[i] == ".":
        i = digits(i + 1)
    if i < n and text[i] in "eE":
        k = i + 1 + (i + 1 < n and text[i + 1] in "+-")
        if k < n and text[k].isascii() and text[k].isdigit():
            i = digits(k)
    end = i
    while end < n and text[end].isascii() and (text[end].isalnum() or text[end] in "._"):
        end += 1
    if end > i:
        bad = text[start:end]
        if text[i] == ".":
            hint = "a number has at most one decimal point"
        elif text[i] in "eE" and text[start:i].replace(".", "").isdigit() and end == i + 1:
            hint = "an exponent needs digits, as in 1e-3"
        else:
            hint = f"for a product write {text[start:i]}*{text[i:end]}"
        raise fail(f"malformed number {bad!r}", start, hint)
    return end


# --------------------------------------------------------------------------- functions
def _log(x: sympy.Expr, base: sympy.Expr | None = None) -> sympy.Expr:
    return sympy.log(x) if base is None else sympy.log(x, base)


def _heaviside(x: sympy.Expr, h0: sympy.Expr = sympy.S.Half) -> sympy.Expr:
    return sympy.Heaviside(x, h0)


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


def _hill(x: sympy.Expr, k: sympy.Expr, n: sympy.Expr) -> sympy.Expr:
    return x**n / (k**n + x**n)


def _one(fn: Callable[..., sympy.Expr]) -> _Function:
    return _Function(1, 1, fn, "x")


#: The allow-list of functions: name -> arity and sympy builder.
FUNCTIONS: Mapping[str, _Function] = {
    "exp": _one(sympy.exp),
    "log": _Function(1, 2, _log, "x[, base]"),
    "ln": _one(sympy.log),
    "sqrt": _one(sympy.sqrt),
    "abs": _one(sympy.Abs),
    "sin": _one(sympy.sin),
    "cos": _one(sympy.cos),
    "tan": _one(sympy.tan),
    "asin": _one(sympy.asin),
    "acos": _one(sympy.acos),
    "atan": _one(sympy.atan),
    "atan2": _Function(2, 2, sympy.atan2, "y, x"),
    "sinh": _one(sympy.sinh),
    "cosh": _one(sympy.cosh),
    "tanh": _one(sympy.tanh),
    "asinh": _one(sympy.asinh),
    "acosh": _one(sympy.acosh),
    "atanh": _one(sympy.atanh),
    "sign": _one(sympy.sign),
    "floor": _one(sympy.floor),
    "ceil": _one(sympy.ceiling),
    "min": _Function(2, None, sympy.Min, "a, b, ..."),
    "max": _Function(2, None, sympy.Max, "a, b, ..."),
    "heaviside": _Function(1, 2, _heaviside, "x[, value_at_0]"),
    # composites (the parser builds them from its guarded arithmetic)
    "sigmoid": _Function(1, 1, _sigmoid, "x"),
    "hill": _Function(3, 3, _hill, "x, k, n"),
    "pow": _Function(2, 2, sympy.Pow, "base, exponent"),
}


# --------------------------------------------------------------------------- parser
class _Parser:
    def __init__(
        self,
        text: str,
        names: Mapping[str, sympy.Basic],
        variables: Collection[str],
        allow_delays: bool,
    ) -> None:
        self.text = text
        self.names = names
        self.variables = variables
        self.allow_delays = allow_delays
        self.tokens = _tokenize(text, self.error)
        self.position = 0
        self.depth = 0
        self.names_used: set[str] = set()
        self.delay_terms: list[DelayTerm] = []

    # ---- helpers
    def error(self, message: str, offset: int, suggestion: str | None = None) -> ModelError:
        if "\n" not in self.text:
            return ModelError(message, column=offset + 1, text=self.text, suggestion=suggestion)
        line = self.text.count("\n", 0, offset) + 1
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        line_text = self.text[start : end if end >= 0 else len(self.text)]
        return ModelError(
            message, line=line, column=offset - start + 1, text=line_text, suggestion=suggestion
        )

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.tokens[self.position]
        return token.kind == "op" and token.text in ops

    def enter(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"expression nests deeper than {MAX_DEPTH} levels",
                offset,
                "split it into [definitions]",
            )

    # ---- guarded construction
    def build(self, offset: int, what: str, fn: Callable[..., Any], *args: Any) -> sympy.Expr:
        try:
            result = _settle(fn(*args))
        except ModelError:
            raise
        except RecursionError:
            raise self.error("expression too deeply nested to evaluate", offset) from None
        except Exception as exc:  # sympy evaluation trouble is the text's fault
            raise self.error(f"cannot evaluate {what}: {exc}", offset) from None
        self.check_numbers(result, offset, what)
        return result

    def check_numbers(self, expr: sympy.Basic, offset: int, what: str) -> None:
        for node in _top_levels(expr):
            if any(node is bad for bad in _BAD_VALUES):
                if node is not sympy.S.ComplexInfinity:
                    cause = f"an undefined value ({node})"
                elif what == "the division":
                    cause = "a division by zero"
                else:
                    cause = "an infinite value (zoo)"
                raise self.error(f"{what} gives {cause}", offset)
            if node is sympy.I:
                raise self.error(f"{what} gives a complex number; models are real", offset)
            if node.is_Rational and max(node.p.bit_length(), node.q.bit_length()) > MAX_NUMBER_BITS:
                raise self.error(
                    f"{what} gives an exact number over {MAX_NUMBER_BITS} bits",
                    offset,
                    "write it as a float such as 1.5e300",
                )
            if node.is_Float and not _is_double(node):
                raise self.error(
                    f"{what} gives {_float_text(node)}, outside the range of double precision",
                    offset,
                )

    def power(self, base: sympy.Expr, exponent: sympy.Expr, offset: int) -> sympy.Expr:
        if exponent.is_Rational and _numeric_bits(base) * abs(exponent.p) > MAX_NUMBER_BITS:
            raise self.error(
                f"the power {_Printer(()).power_text(base, exponent, 0)} is too large "
                "to compute exactly",
                offset,
                "write large numbers as floats such as 1e300",
            )
        if base is sympy.E:
            return self.exp(exponent, offset)
        result = self.build(offset, "the power", sympy.Pow, base, exponent)
        self.check_deep(result, offset, "the power")
        return result

    def exp(self, argument: sympy.Expr, offset: int) -> sympy.Expr:
        for term in sympy.Add.make_args(argument):
            coefficient = term.as_coeff_Mul()[0]
            if term.has(sympy.log) and coefficient.is_Rational and abs(coefficient.p) > 1024:
                raise self.error(
                    "exp of a large multiple of a logarithm is too large to compute exactly",
                    offset,
                )
        result = self.build(offset, "exp()", sympy.exp, argument)
        self.check_deep(result, offset, "exp()")
        return result

    def multiply(self, factors: list[sympy.Expr], offset: int) -> sympy.Expr:
        if len(factors) == 1:
            return factors[0]
        return self.build(offset, "the product", sympy.Mul, *factors)

    # ---- grammar
    def parse(self) -> sympy.Expr:
        if self.peek().kind == "end":
            raise self.error("empty expression", 0, "write a right-hand side such as -k*x")
        for token in self.tokens:  # "A + B -> C" is a reaction, whatever its names
            if token.text == "->":
                raise self.unexpected(token, after_operand=True)
        expr = self.expression()
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token, after_operand=True)
        settled = self.build(0, "the expression", _settle_tree, expr)
        self.check_deep(settled, 0, "the expression")
        return settled

    def expression(self) -> sympy.Expr:
        terms = [self.term()]
        first_op: int | None = None
        while self.is_op("+", "-"):
            token = self.advance()
            first_op = token.offset if first_op is None else first_op
            term = self.term()
            terms.append(
                term if token.text == "+" else self.multiply([_NEG_ONE, term], token.offset)
            )
        if len(terms) == 1:
            return terms[0]
        return self.build(first_op or 0, "the sum", sympy.Add, *terms)

    def term(self) -> sympy.Expr:
        factors = [self.unary()]
        first_op: int | None = None
        while self.is_op("*", "/"):
            token = self.advance()
            first_op = token.offset if first_op is None else first_op
            operand = self.unary()
            if token.text == "/":
                operand = self.build(token.offset, "the division", sympy.Pow, operand, _NEG_ONE)
            factors.append(operand)
        return self.multiply(factors, first_op or 0)

    def unary(self) -> sympy.Expr:
        token = self.peek()
        if token.kind == "op" and token.text in "+-":
            self.advance()
            self.enter(token.offset)
            operand = self.unary()
            self.depth -= 1
            if token.text == "+":
                return operand
            return self.multiply([_NEG_ONE, operand], token.offset)
        base = self.primary()
        if not self.is_op("^", "**"):
            return base
        op = self.advance()
        self.enter(op.offset)
        exponent = self.unary()
        self.depth -= 1
        return self.power(base, exponent, op.offset)

    def primary(self) -> sympy.Expr:
        token = self.advance()
        if token.kind == "number":
            return self.number(token)
        if token.kind == "name":
            if self.is_op("("):
                return self.call(token)
            return self.name(token)
        if token.kind == "op" and token.text == "(":
            self.enter(token.offset)
            if self.is_op(")"):
                raise self.error("empty parentheses", token.offset, "put an expression inside")
            inner = self.expression()
            closing = self.peek()
            if not (closing.kind == "op" and closing.text == ")"):
                if closing.kind == "end":
                    raise self.error("'(' is never closed", token.offset, "add ')'")
                raise self.unexpected(closing, after_operand=True)
            self.advance()
            self.depth -= 1
            return inner
        raise self.unexpected(token, after_operand=False)

    def unexpected(self, token: _Token, *, after_operand: bool) -> ModelError:
        if token.text == "->":
            return self.error(
                "'->' is a reaction arrow, not an operator",
                token.offset,
                "reactions go in a [reactions] table",
            )
        if token.kind == "end":
            previous = self.tokens[self.position - 2] if self.position >= 2 else token
            return self.error(
                f"operator {previous.text!r} has no right operand",
                previous.offset,
                "complete or remove the trailing operator",
            )
        if after_operand:
            if token.text == ")":
                return self.error("unmatched ')'", token.offset, "remove it or add '(' before")
            if token.text == ",":
                return self.error("',' outside a function call", token.offset)
            previous = self.tokens[self.position - 1]
            return self.error(
                f"missing operator before {token.text!r}",
                token.offset,
                f"for a product write {previous.text}*{token.text}",
            )
        if token.text == ")":
            return self.error("expected an operand before ')'", token.offset)
        return self.error(f"expected an operand, found {token.text!r}", token.offset)

    def number(self, token: _Token) -> sympy.Expr:
        text = token.text
        if all(c.isdigit() for c in text):
            integer = int(text) if len(text) <= MAX_INTEGER_DIGITS else None
            if integer is None or integer.bit_length() > MAX_NUMBER_BITS:
                raise self.error(
                    f"integer literal with {len(text)} digits is too long",
                    token.offset,
                    "write it as a float such as 1.5e300",
                )
            return sympy.Integer(integer)
        value = float(text)
        mantissa = text.lower().partition("e")[0]
        if math.isinf(value) or (value == 0.0 and mantissa.strip("0.") != ""):
            raise self.error(
                f"number {text} is outside the range of double precision", token.offset
            )
        return sympy.Float(value)

    def name(self, token: _Token) -> sympy.Expr:
        name = token.text
        self.names_used.add(name)
        if name in self.names:
            return self.names[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.error(f"{name!r} is a function", token.offset, f"write {name}(...)")
        known = [*self.names, *CONSTANTS]
        raise self.error(f"unknown symbol {name!r}", token.offset, suggest(name, known))

    def call(self, token: _Token) -> sympy.Expr:
        name = token.text
        self.enter(token.offset)
        opening = self.advance()
        args: list[sympy.Expr] = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.is_op(","):
                self.advance()
                args.append(self.expression())
        closing = self.peek()
        if not (closing.kind == "op" and closing.text == ")"):
            if closing.kind == "end":
                raise self.error(f"'(' of {name}( is never closed", opening.offset, "add ')'")
            raise self.unexpected(closing, after_operand=True)
        self.advance()
        self.depth -= 1
        if name in self.variables:
            return self.delay(token, args)
        spec = FUNCTIONS.get(name)
        if spec is None:
            if name in self.names or name in CONSTANTS:
                raise self.error(
                    f"{name!r} is not a function", token.offset, f"for a product write {name}*(...)"
                )
            raise self.error(
                f"unknown function {name!r}", token.offset, suggest(name, list(FUNCTIONS))
            )
        count = len(args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            expected = (
                f"at least {spec.min_args}"
                if spec.max_args is None
                else f"{spec.min_args}"
                if spec.min_args == spec.max_args
                else f"{spec.min_args} or {spec.max_args}"
            )
            raise self.error(
                f"{name}() takes {expected} argument{'s' * (expected != '1')}, got {count}",
                token.offset,
                f"write {name}({spec.arguments})",
            )
        return self.apply(name, spec, args, token.offset)

    def apply(self, name: str, spec: _Function, args: list[sympy.Expr], offset: int) -> sympy.Expr:
        what = f"{name}()"
        if name in _COMPARING_FUNCTIONS:
            for arg in args:
                if arg.is_number and not (arg.is_Rational or arg.is_Float):
                    estimate = _approximate(arg)
                    if not (math.isfinite(estimate) and abs(estimate) < 1e300):
                        raise self.error(
                            f"{what} cannot compare the number {to_text(arg)}: it is too "
                            "large or undefined in double precision",
                            offset,
                        )
        if name == "exp":
            return self.exp(args[0], offset)
        if name == "pow":
            return self.power(args[0], args[1], offset)
        if name == "sigmoid":
            denominator = self.build(
                offset, what, sympy.Add, sympy.S.One, self.exp(-args[0], offset)
            )
            return self.build(offset, what, sympy.Pow, denominator, _NEG_ONE)
        if name == "hill":
            x, k, n = args
            xn = self.power(x, n, offset)
            kn = self.power(k, n, offset)
            denominator = self.build(offset, what, sympy.Add, kn, xn)
            inverse = self.build(offset, what, sympy.Pow, denominator, _NEG_ONE)
            return self.multiply([xn, inverse], offset)
        result = self.build(offset, what, spec.build, *args)
        if name in ("min", "max"):
            result = self.build(offset, what, _settle_min_max, result)
        if name in ("abs", "sign") and result.has(sympy.re, sympy.im, sympy.conjugate):
            # every symbol of a model is real: re(z) = z, im(z) = 0
            result = self.build(offset, what, _real_parts, result)
        self.check_deep(result, offset, what)
        return result

    def check_deep(self, result: sympy.Expr, offset: int, what: str) -> None:
        """Complex or infinite values anywhere in a power or function value.

        A constant must also be a finite real double (as the kernels compute it): this
        refuses exp(1000) like the literal 1e400, and keeps towers such as
        exp(exp(exp(exp(5)))) out, which sympy cannot even sort or print.
        """
        for bad in (sympy.I, *_BAD_VALUES):  # e.g. log(x, -2) = log(x)/(log(2) + I*pi)
            if result.has(bad):
                self.check_numbers(bad, offset, what)
        if result.is_number and not result.is_Rational and not math.isfinite(_approximate(result)):
            raise self.error(
                f"{what} gives a constant that is not a finite real number in double precision",
                offset,
            )

    def delay(self, token: _Token, args: list[sympy.Expr]) -> sympy.Expr:
        name = token.text
        self.names_used.add(name)
        if not self.allow_delays:
            raise self.error(
                f"delay terms {name}(t - tau) need kind='dde'",
                token.offset,
                f"write {name} for the current state, or make the model kind 'dde'",
            )
        if len(args) != 1:
            raise self.error(
                f"a delay term takes one time argument, got {len(args)}",
                token.offset,
                f"write {name}(t - tau)",
            )
        term = sympy.Function(name)(args[0])
        self.delay_terms.append(DelayTerm(name, args[0], term, token.offset + 1))
        return term


# functions sympy evaluates by comparing numbers, which never ends for exp(exp(exp(exp(5))))
_COMPARING_FUNCTIONS = frozenset({"abs", "sign", "floor", "ceil", "min", "max", "heaviside"})
_MATH: dict[type, Callable[..., float]] = {
    sympy.exp: math.exp,
    sympy.log: math.log,
    sympy.sin: math.sin,
    sympy.cos: math.cos,
    sympy.tan: math.tan,
    sympy.asin: math.asin,
    sympy.acos: math.acos,
    sympy.atan: math.atan,
    sympy.atan2: math.atan2,
    sympy.sinh: math.sinh,
    sympy.cosh: math.cosh,
    sympy.tanh: math.tanh,
    sympy.asinh: math.asinh,
    sympy.acosh: math.acosh,
    sympy.atanh: math.atanh,
    sympy.Abs: abs,
    sympy.floor: math.floor,
    sympy.ceiling: math.ceil,
    sympy.sign: lambda v: math.copysign(1.0, v) if v else 0.0,
    sympy.Heaviside: lambda v, h0=0.5: 1.0 if v > 0 else (h0 if v == 0 else 0.0),
    sympy.Min: min,
    sympy.Max: max,
}


def _approximate(expr: sympy.Basic) -> float:
    """A constant expression in double precision: inf on overflow, nan when undefined."""
    try:
        if expr.is_Rational:
            return expr.p / expr.q
        if expr.is_Float or expr is sympy.pi or expr is sympy.E:
            return float(expr)
        values = [_approximate(a) for a in expr.args]
        if expr.is_Add:
            return math.fsum(values)
        if expr.is_Mul:
            return math.prod(values)
        if expr.is_Pow:
            return float(values[0] ** values[1])
        function = _MATH.get(type(expr))
        return math.nan if function is None else float(function(*values))
    except OverflowError:
        return math.inf
    except (ValueError, TypeError, ZeroDivisionError):
        return math.nan


def _settle(expr: sympy.Basic) -> sympy.Basic:
    """Rebuild the top node until sympy is done with it.

    sympy sometimes returns a node that evaluates further when rebuilt, e.g.
    ``abs(-abs(x))`` gives ``Abs(Abs(x))`` and ``(2^(-3/2))^(-3/2)`` gives
    ``2*sqrt(2)*2^(3/4)``; the parser returns the settled form, so that parsing its
    printed text gives the same expression.
    """
    for _ in range(4):
        if not (expr.is_Mul or expr.is_Pow or isinstance(expr, sympy.Function)):
            break
        again = expr.func(*expr.args)
        if again == expr:
            break
        expr = again
    return expr


def _settle_tree(expr: sympy.Basic) -> sympy.Basic:
    """Rebuild every node bottom-up until nothing changes (see :func:`_settle`).

    sympy's rewrites can leave an unevaluated node deep inside a result, such as
    ``log(2.718281828459045)`` from ``exp(log(log(2, 2.0), 2))``.
    """
    memo: dict[sympy.Basic, sympy.Basic] = {}

    def rebuild(node: sympy.Basic) -> sympy.Basic:
        if not node.args:
            return node
        done = memo.get(node)
        if done is None:
            done = node.func(*(rebuild(a) for a in node.args))
            memo[node] = done
        return done

    for _ in range(3):
        again = rebuild(expr)
        if again == expr:
            break
        expr = again
    return expr


def _settle_min_max(expr: sympy.Expr) -> sympy.Expr:
    """Evaluate what sympy left unevaluated: min(max(x, 0), max(x, 1)) has Min(0, 1)."""
    for _ in range(8):
        settled = expr.replace(
            lambda e: isinstance(e, (sympy.Min, sympy.Max)) and all(a.is_number for a in e.args),
            lambda e: e.func(*e.args),
        )
        if settled == expr:
            break
        expr = settled
    return expr


def _real_parts(expr: sympy.Expr) -> sympy.Expr:
    return (
        expr.replace(sympy.re, lambda a: a)
        .replace(sympy.im, lambda a: sympy.S.Zero)
        .replace(sympy.conjugate, lambda a: a)
    )


def _numeric_bits(expr: sympy.Basic) -> int:
    """About log2 of the exact numbers a power of ``expr`` multiplies out (0 for +-1)."""
    if expr.is_Rational:
        return max(abs(expr.p).bit_length(), expr.q.bit_length()) - 1
    if expr.is_Mul:
        return sum(_numeric_bits(a) for a in expr.args)
    if expr.is_Add:
        return max(_numeric_bits(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Rational:
        return _numeric_bits(expr.base) * -(-abs(expr.exp.p) // expr.exp.q)
    return 0


def _top_levels(expr: sympy.Basic) -> Iterator[sympy.Basic]:
    yield expr
    for arg in expr.args:
        yield arg
        yield from arg.args


def _is_double(value: sympy.Float) -> bool:
    """True when ``value`` is exactly an IEEE double (so ``repr`` writes it exactly)."""
    as_float = float(value)
    return math.isfinite(as_float) and sympy.Float(as_float) == value


def _float_text(value: sympy.Float) -> str:
    as_float = float(value)
    if math.isfinite(as_float) and sympy.Float(as_float) == value:
        return repr(as_float)
    return str(_mpf_to_str(value._mpf_, 17))


# --------------------------------------------------------------------------- public API
def _as_names(names: Mapping[str, sympy.Basic] | Iterable[str]) -> Mapping[str, sympy.Basic]:
    if isinstance(names, Mapping):
        return names
    return {name: sympy.Symbol(name) for name in names}


def parse(
    text: str,
    *,
    names: Mapping[str, sympy.Basic] | Iterable[str] = (),
    variables: Collection[str] = (),
    allow_delays: bool = False,
) -> ParsedExpression:
    """Parse equation text, reporting the names used and the delay terms found.

    Parameters
    ----------
    text
        The expression, e.g. ``"a - (b + 1)*x + x^2*y"``.
    names
        The declared names: a mapping ``name -> sympy expression`` (a symbol, or the
        expression a definition stands for) or an iterable of names (each becomes
        ``sympy.Symbol(name)``). Time ``t`` is a name like any other.
    variables
        The state variables among ``names``; ``x(t - tau)`` with ``x`` in ``variables``
        is a delay term.
    allow_delays
        Accept delay terms (kind ``dde``); otherwise they raise :class:`ModelError`.

    Returns
    -------
    ParsedExpression
        ``expression``, ``names_used`` (identifiers referenced) and ``delay_terms``.

    Raises
    ------
    ModelError
        With the 1-based ``column`` of the offending text, the text itself and a
        suggestion where there is one.

    Examples
    --------
    >>> found = parse("k*(x - xc)", names=["k", "x", "xc"])
    >>> sorted(found.names_used)
    ['k', 'x', 'xc']
    """
    if not isinstance(text, str):
        raise ModelError(f"expected equation text, got {type(text).__name__} {text!r}")
    if len(text) > MAX_TEXT_LENGTH:
        raise ModelError(
            f"expression of {len(text)} characters is longer than {MAX_TEXT_LENGTH}",
            suggestion="split it into [definitions]",
        )
    parser = _Parser(text, _as_names(names), frozenset(variables), allow_delays)
    try:
        expression = parser.parse()
    except RecursionError:
        raise ModelError(
            "expression too deeply nested", suggestion="split it into [definitions]"
        ) from None
    return ParsedExpression(expression, frozenset(parser.names_used), tuple(parser.delay_terms))


def parse_expression(
    text: str,
    *,
    names: Mapping[str, sympy.Basic] | Iterable[str] = (),
    variables: Collection[str] = (),
    allow_delays: bool = False,
) -> sympy.Expr:
    """Parse equation text into a sympy expression, through a whitelisting parser.

    The text is never run as code: see the module docstring for the grammar. The
    parameters are those of :func:`parse`.

    Returns
    -------
    sympy.Expr
        The expression, evaluated by sympy's automatic simplification.

    Raises
    ------
    ModelError
        Unknown symbols or functions (with ``did you mean ...?``), syntax errors,
        unbalanced parentheses, malformed numbers, division by zero, text too long or
        nested too deeply, powers too large to compute exactly.

    Examples
    --------
    >>> parse_expression("-x^2 + 2**3^2", names=["x"])
    512 - x**2
    >>> parse_expression("gama*x", names=["gamma", "x"])
    Traceback (most recent call last):
    ...
    stabkit.errors.ModelError: unknown symbol 'gama'; did you mean 'gamma'?
        gama*x
        ^
    """
    return parse(text, names=names, variables=variables, allow_delays=allow_delays).expression


# --------------------------------------------------------------------------- printer
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5

_FUNCTION_NAMES: dict[type, str] = {
    sympy.exp: "exp",
    sympy.log: "log",
    sympy.Abs: "abs",
    sympy.sin: "sin",
    sympy.cos: "cos",
    sympy.tan: "tan",
    sympy.asin: "asin",
    sympy.acos: "acos",
    sympy.atan: "atan",
    sympy.atan2: "atan2",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.tanh: "tanh",
    sympy.asinh: "asinh",
    sympy.acosh: "acosh",
    sympy.atanh: "atanh",
    sympy.sign: "sign",
    sympy.floor: "floor",
    sympy.ceiling: "ceil",
    sympy.Min: "min",
    sympy.Max: "max",
}


class _Printer:
    def __init__(self, shadowed: Collection[str]) -> None:
        self.pi = "acos(-1)" if "pi" in shadowed else "pi"
        self.e = "e" if "e" not in shadowed else "E" if "E" not in shadowed else "exp(1)"

    def text(self, expr: sympy.Basic, above: int) -> str:
        """``expr`` as text, parenthesized unless it binds tighter than ``above``."""
        text, level = self.print(expr)
        return f"({text})" if level <= above else text

    def print(self, expr: sympy.Basic) -> tuple[str, int]:
        if expr.is_Symbol:
            return _identifier(expr.name), _ATOM
        if expr.is_Integer:
            return str(expr.p), _ATOM if expr.p >= 0 else _UNARY
        if expr.is_Rational:
            return f"{expr.p}/{expr.q}", _PRODUCT if expr.p > 0 else _UNARY
        if expr.is_Float:
            text = _float_text(expr)
            return text, _UNARY if text.startswith("-") else _ATOM
        if expr is sympy.pi:
            return self.pi, _ATOM
        if expr is sympy.E:
            return self.e, _ATOM
        if expr is sympy.I:
            return "sqrt(-1)", _ATOM
        if expr.is_Add:
            return self.add(expr), _SUM
        if expr.is_Mul:
            return self.mul(expr)
        if expr.is_Pow:
            return self.pow(expr)
        if isinstance(expr, sympy.Heaviside):
            x, h0 = (*expr.args, sympy.S.Half)[:2]
            shown = [x] if h0 == sympy.S.Half else [x, h0]
            return "heaviside(" + ", ".join(self.text(a, 0) for a in shown) + ")", _ATOM
        if type(expr) in _FUNCTION_NAMES:
            args = ", ".join(self.text(a, 0) for a in expr.args)
            return f"{_FUNCTION_NAMES[type(expr)]}({args})", _ATOM
        if isinstance(expr, sympy.core.function.AppliedUndef) and len(expr.args) == 1:
            return f"{_identifier(expr.func.__name__)}({self.text(expr.args[0], 0)})", _ATOM
        raise ModelError(
            f"to_text: {type(expr).__name__} ({expr}) has no spelling in the model language"
        )

    def add(self, expr: sympy.Expr) -> str:
        parts: list[str] = []
        terms = expr.args
        if not any(t.is_number and not math.isfinite(_approximate(t)) for t in terms):
            terms = expr.as_ordered_terms()  # sorts numbers by value: only finite ones
        for term in terms:
            if parts and _is_negative(term):
                parts.append(" - " + self.text(-term, _SUM))
            else:
                parts.append((" + " if parts else "") + self.text(term, 0))
        return "".join(parts)

    def mul(self, expr: sympy.Expr) -> tuple[str, int]:
        if _is_negative(expr):
            text, level = self.print(-expr)
            # "-(x + y)*z" would read as (-(x + y))*z, and sympy distributes that -1
            wrap = level <= _SUM or text.startswith("(")
            return ("-(" + text + ")" if wrap else "-" + text), _UNARY
        numerator: list[str] = []
        divisors: list[str] = []
        for factor in expr.as_ordered_factors():
            if factor.is_Rational and not factor.is_Integer:
                if factor.p != 1:
                    numerator.append(str(factor.p))
                divisors.insert(0, str(factor.q))
            elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                divisors.append(self.power_text(factor.base, -factor.exp, _PRODUCT))
            else:
                numerator.append(self.text(factor, _UNARY))
        top = "*".join(numerator) or "1"
        if len(divisors) <= 1 or (len(divisors) == 2 and divisors[1].startswith("(")):
            # sympy would distribute a number over a lone sum: 2*(x + y) -> 2*x + 2*y
            return "/".join([top, *divisors]), _PRODUCT
        return f"{top}/({'*'.join(divisors)})", _PRODUCT

    def pow(self, expr: sympy.Expr) -> tuple[str, int]:
        base, exponent = expr.args
        if exponent.is_Rational and exponent.is_negative:
            return "1/" + self.power_text(base, -exponent, _PRODUCT), _PRODUCT
        if exponent == sympy.S.Half:
            return self.power_text(base, exponent, _ATOM), _ATOM
        return self.power_text(base, exponent, _ATOM), _POWER

    def power_text(self, base: sympy.Basic, exponent: sympy.Basic, above: int) -> str:
        """``base^exponent`` for a non-negative exponent, parenthesized for ``above``."""
        if exponent == sympy.S.One:
            return self.text(base, _PRODUCT if above == _PRODUCT else _UNARY)
        if exponent == sympy.S.Half:
            return f"sqrt({self.text(base, 0)})"
        text = f"{self.text(base, _POWER)}^{self.text(exponent, _POWER)}"
        return text


def _is_negative(expr: sympy.Expr) -> bool:
    coefficient = expr.as_coeff_Mul()[0]
    return bool(coefficient.is_Number and coefficient.is_negative)


def _identifier(name: str) -> str:
    if not (
        name
        and name.isascii()
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isalnum() or c == "_" for c in name)
    ):
        raise ModelError(f"to_text: symbol name {name!r} is not an identifier of the language")
    return name


def to_text(expr: sympy.Basic, *, names: Iterable[str] = ()) -> str:
    """Write a sympy expression in the model language.

    Floats are written at ``repr`` precision, so that for every expression ``e`` the
    parser produces, ``parse_expression(to_text(e), names=...) == e`` structurally.

    Parameters
    ----------
    expr
        The expression.
    names
        Names declared where the text will be parsed. A constant whose spelling is
        declared (or used by a symbol of ``expr``) is written in a form no name can
        shadow: ``acos(-1)`` for pi, ``E`` or ``exp(1)`` for e.

    Returns
    -------
    str
        Text in the grammar of :func:`parse_expression`.

    Raises
    ------
    ModelError
        When ``expr`` holds something the language cannot write (``re(x)``, infinity).

    Examples
    --------
    >>> x, k = sympy.symbols("x k")
    >>> to_text(-k*x**2/3 + sympy.Float(0.1)*sympy.exp(-x))
    '-k*x^2/3 + 0.1*exp(-x)'
    """
    shadowed = {*names, *(s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol))}
    return _Printer(shadowed).text(expr, 0)
