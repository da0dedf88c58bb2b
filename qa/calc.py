"""The calculation language and its evaluator: a model writes a small program over the figures it was given
(`pct_change(R1C2, R2C2)`, `(F2 - F1) / F1 * 100`), the app executes it exactly over fractions and writes the
result itself. Never Python's eval: the program is parsed with `ast` and only an allowlist of nodes is walked,
with caps on length, depth, exponents and the size of intermediate numbers.

Quantities carry a dimension, so units are converted explicitly: an `amount` (money, in the base unit 元/$),
a `pct` (percentage points) or a plain `num` (a ratio or a count). amount ÷ amount is a ratio; a ratio × 100
is a percentage; a result asked in 亿元 is the base amount ÷ 10**8.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

from .tables import SCALES, Cell, Figures, format_fraction

MAX_PROGRAM_CHARS = 240
MAX_DEPTH = 12  # nested parentheses and calls
MAX_NODES = 200
MAX_EXPONENT = 64
MAX_BITS = 1024  # numerator/denominator size of any intermediate value
FUNCTIONS = ("sum", "avg", "min", "max", "pct_change", "cagr", "abs", "round")
REF = re.compile(r"(?:T\d+)?R\d+C\d+|F\d+", re.I)
# what the answer grammar lets a program contain (the schema's `pattern`): functions, references, numbers,
# operators, parentheses, commas and spaces. Balance and arity are checked by the evaluator.
PROGRAM_PATTERN = (
    r"^(sum|avg|min|max|pct_change|cagr|abs|round|T?[0-9]*R[0-9]+C[0-9]+|F[0-9]+|[0-9]+(\.[0-9]+)?|[-+*/(), ])+$"
)


class CalcError(ValueError):
    """A program that cannot be executed: the message says why, for the report and for a re-ask."""


@dataclass(frozen=True)
class Quantity:
    """An exact value with its dimension: amount (base unit), pct (percentage points) or num."""

    value: Fraction
    dim: str = "num"
    scale: int = 1  # the scale of the figures it came from (for showing an amount in their unit)
    unit: str = ""  # and that unit as written (亿元, thousand)


@dataclass
class Result:
    """An executed program: the exact value in the unit asked, that unit, and the cells it used."""

    value: Fraction
    unit: str
    dim: str
    refs: list[str] = field(default_factory=list)
    literals: list[Fraction] = field(default_factory=list)

    def rounded(self, decimals: int) -> float:
        """The value rounded half away from zero to `decimals` places, as a JSON number."""
        with localcontext() as ctx:
            ctx.prec = 50
            q = Decimal(self.value.numerator) / Decimal(self.value.denominator)
            return float(q.quantize(Decimal(1).scaleb(-decimals), rounding="ROUND_HALF_UP"))

    def text(self, decimals: int) -> str:
        """The value as shown: rounded to `decimals` places, with its unit."""
        number = f"{self.rounded(decimals):.{decimals}f}"
        m = re.fullmatch(r"([$¥￥])\s*(.*)", self.unit)
        if m:  # a currency sign goes before the number: $12.50, -$3.00, $12.50 thousand
            sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
            return f"{sign}{m.group(1)}{digits}" + (f" {m.group(2)}" if m.group(2) else "")
        # 25.00% and 18.07亿元 as Chinese writes them; 12122.00 thousand and 172.00 €m with a space
        spaced = self.unit and self.unit[0] not in "%％" and not ("\u4e00" <= self.unit[0] <= "\u9fff")
        return number + (" " if spaced else "") + self.unit


def _check_size(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise CalcError("an intermediate value is too large")
    return value


def _depth(program: str) -> int:
    depth = deepest = 0
    for ch in program:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise CalcError("unbalanced parentheses")
    if depth:
        raise CalcError("unbalanced parentheses")
    return deepest


def normalize(program: str) -> str:
    """The program with × ÷ − and full-width signs written as ASCII."""
    table = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "（": "(", "）": ")", "，": ",", "＋": "+"})
    return program.translate(table).strip()


class Evaluator:
    """Executes programs over one question's figures."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def run(self, program: str) -> tuple[Quantity, list[str], list[Fraction]]:
        """(exact quantity, cell references used, literal numbers used); CalcError when it cannot run."""
        program = normalize(program)
        if not program:
            raise CalcError("empty program")
        if len(program) > MAX_PROGRAM_CHARS:
            raise CalcError(f"the program is longer than {MAX_PROGRAM_CHARS} characters")
        if _depth(program) > MAX_DEPTH:
            raise CalcError(f"the program nests deeper than {MAX_DEPTH} levels")
        if "**" in program or "//" in program or "%" in program:
            raise CalcError("only + - * / and the listed functions are allowed")
        try:
            tree = ast.parse(program, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise CalcError(f"not a valid program: {getattr(exc, 'msg', exc)}") from None
        nodes = sum(1 for _ in ast.walk(tree))
        if nodes > MAX_NODES:
            raise CalcError(f"the program has more than {MAX_NODES} parts")
        self._refs: list[str] = []
        self._literals: list[Fraction] = []
        self._source = program
        return self._eval(tree.body), self._refs, self._literals

    def _eval(self, node: ast.AST) -> Quantity:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            text = ast.get_source_segment(self._source, node) or repr(node.value)
            value = Fraction(text)  # from the digits as written: 0.1 stays 1/10
            self._literals.append(value)
            return Quantity(value)
        if isinstance(node, ast.Name):
            return self._ref(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            q = self._eval(node.operand)
            return Quantity(-q.value if isinstance(node.op, ast.USub) else q.value, q.dim, q.scale, q.unit)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            return self._binop(node.op, self._eval(node.left), self._eval(node.right), node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.keywords:
                raise CalcError("functions take positional arguments only")
            name = node.func.id.lower()
            if name not in FUNCTIONS:
                raise CalcError(f"unknown function {node.func.id!r}; allowed: {', '.join(FUNCTIONS)}")
            return self._call(name, [self._eval(a) for a in node.args])
        raise CalcError(
            f"not allowed in a program: {ast.get_source_segment(self._source, node) or type(node).__name__}"
        )

    def _ref(self, name: str) -> Quantity:
        if not REF.fullmatch(name):
            raise CalcError(f"{name!r} is not a cell (R3C2) or a quoted figure (F1)")
        cell = self.figures.get(name)
        if cell is None:
            raise CalcError(f"{name} is not a figure in the question")
        self._refs.append(cell.ref)
        return quantity_of(cell)

    def _binop(self, op: ast.operator, a: Quantity, b: Quantity, right: ast.AST) -> Quantity:
        scale = a.scale if a.dim == "amount" else b.scale
        unit = a.unit if a.dim == "amount" else b.unit
        if isinstance(op, (ast.Add, ast.Sub)):
            value = a.value + b.value if isinstance(op, ast.Add) else a.value - b.value
            dims = {a.dim, b.dim}
            dim = "amount" if "amount" in dims else "pct" if "pct" in dims else "num"
            return Quantity(_check_size(value), dim, scale, unit)
        if isinstance(op, ast.Mult):
            if a.dim == "pct" and b.dim == "amount" or a.dim == "amount" and b.dim == "pct":
                return Quantity(_check_size(a.value * b.value / 100), "amount", scale, unit)
            if a.dim == "amount" or b.dim == "amount":
                return Quantity(_check_size(a.value * b.value), "amount", scale, unit)
            # a ratio times the literal 100 is a percentage
            if a.dim == "num" and isinstance(right, ast.Constant) and b.value == 100:
                return Quantity(_check_size(a.value * 100), "pct")
            dim = "pct" if "pct" in (a.dim, b.dim) and not (a.dim == b.dim == "pct") else "num"
            return Quantity(_check_size(a.value * b.value), dim)
        if b.value == 0:
            raise CalcError("division by zero")
        value = _check_size(a.value / b.value)
        if a.dim == b.dim:
            return Quantity(value, "num")
        if a.dim == "amount":
            return Quantity(value, "amount", scale, unit)
        return Quantity(value, a.dim if b.dim == "num" else "num")

    def _call(self, name: str, args: list[Quantity]) -> Quantity:
        if not args:
            raise CalcError(f"{name}() needs arguments")
        dim = args[0].dim
        scale = next((a.scale for a in args if a.dim == "amount"), 1)
        unit = next((a.unit for a in args if a.dim == "amount"), "")
        if name in ("sum", "avg", "min", "max"):
            values = [a.value for a in args]
            value = {"sum": sum(values), "avg": sum(values) / len(values), "min": min(values), "max": max(values)}[name]
            return Quantity(_check_size(Fraction(value)), dim, scale, unit)
        if name == "abs":
            self._arity(name, args, 1)
            return Quantity(abs(args[0].value), dim, scale, unit)
        if name == "round":
            self._arity(name, args, 1, 2)
            places = int(args[1].value) if len(args) == 2 else 0
            if len(args) == 2 and (args[1].value != places or not 0 <= places <= 10):
                raise CalcError("round() takes 0 to 10 decimal places")
            # an amount is rounded in the unit of its figures (亿元), not in 元
            shown = args[0].value / scale if dim == "amount" else args[0].value
            return Quantity(Fraction(round(shown, places)) * (scale if dim == "amount" else 1), dim, scale, unit)
        if name == "pct_change":
            self._arity(name, args, 2)
            old, new = args
            if old.value == 0:
                raise CalcError("division by zero: pct_change from 0")
            return Quantity(_check_size((new.value - old.value) / abs(old.value) * 100), "pct")
        # cagr(start, end, years) in percent
        self._arity(name, args, 3)
        start, end, years = (a.value for a in args)
        if years.denominator != 1 or not 0 < years <= MAX_EXPONENT:
            raise CalcError(f"cagr() needs a whole number of years from 1 to {MAX_EXPONENT}")
        if start <= 0 or end < 0:
            raise CalcError("cagr() needs a positive start and a non-negative end")
        with localcontext() as ctx:
            ctx.prec = 40
            ratio = Decimal(end.numerator * start.denominator) / Decimal(end.denominator * start.numerator)
            grown = ratio ** (Decimal(1) / Decimal(int(years)))  # irrational in general: 40 significant digits
        return Quantity(Fraction(grown) * 100 - 100, "pct")

    @staticmethod
    def _arity(name: str, args: list[Quantity], low: int, high: int | None = None) -> None:
        if not low <= len(args) <= (high or low):
            want = str(low) if high is None else f"{low} or {high}"
            raise CalcError(f"{name}() takes {want} arguments, got {len(args)}")


# units that are not money: a multiple, or a count of things, maybe with a scale word before it (25万份)
_PLAIN_UNIT = r"倍|x|(?:百亿|亿|千万|百万|万|千)?(?:份|股|克|盎司|手|张|天)"


def quantity_of(cell: Cell) -> Quantity:
    """A figure as a quantity: a percentage in points, money in the base unit, else a plain number."""
    if cell.percent:
        return Quantity(cell.value, "pct")
    if cell.unit and not re.fullmatch(_PLAIN_UNIT, cell.unit):
        return Quantity(cell.base, "amount", cell.scale, cell.unit)
    return Quantity(cell.base, "num")  # a count in units: 25万份 is 250000 份


def scale_of_unit(unit: str) -> int | None:
    """The multiplier a unit names (亿元 → 10**8, million → 10**6, 元 → 1), or None when it names none."""
    u = unit.strip().lower()
    for word, scale in SCALES:
        if word in u:
            return scale
    return 1 if re.search(r"元|\$|usd|rmb|dollar|yuan", u) else None


def convert(q: Quantity, unit: str) -> tuple[Fraction, str]:
    """The quantity in the unit asked ('亿元', '%', ''), with the unit actually used."""
    unit = unit.strip()
    if q.dim == "pct":
        return q.value, "%"
    if q.dim == "num":
        if unit in ("%", "％"):
            return q.value * 100, "%"
        # a plain number (a count × a price without a currency in the data) keeps a unit that names no scale
        return q.value, unit if scale_of_unit(unit) in (1, None) else ""
    scale = scale_of_unit(unit)
    if scale is None:  # no unit, or one that names no scale: keep the figures' own
        scale = q.scale
        unit = q.unit or "元"
    return q.value / scale, unit


def execute(program: str, unit: str, figures: Figures) -> Result:
    """Run one program over the question's figures and express it in the unit asked."""
    q, refs, literals = Evaluator(figures).run(program)
    value, shown = convert(q, unit)
    return Result(value=value, unit=shown, dim=q.dim, refs=refs, literals=literals)


def decimals_asked(question: str) -> int | None:
    """Decimal places the question asks for ('保留两位小数', 'to two decimal places'), or None."""
    zh = {"零": 0, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
    m = re.search(r"保留\s*([0-9零一两二三四五六])\s*位小数|精确到小数点后\s*([0-9一两二三四])\s*位", question)
    if m:
        d = m.group(1) or m.group(2)
        return int(d) if d.isdigit() else zh[d]
    if re.search(r"保留整数|取整|精确到个位", question):
        return 0
    en = {"one": 1, "two": 2, "three": 3, "four": 4}
    m = re.search(r"(\d|one|two|three|four) decimal (places|place|points)", question, re.I)
    if m:
        word = m.group(1).lower()
        return int(word) if word.isdigit() else en[word]
    return None


def exact_text(value: Fraction) -> str:
    """The exact value for people: a terminating decimal in full, else its first 10 places and the fraction."""
    shown = format_fraction(value, 10)
    if Fraction(shown) != value:
        return f"≈{shown} (= {value.numerator}/{value.denominator})"
    return shown
