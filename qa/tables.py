"""Figures as users paste them, parsed into typed cells: Markdown/pipe tables in a question, figures written in
the text ("营业总收入分别为5.514亿元、14.32亿元"), CSV/XLSX files, and English statements ("in thousands",
parentheses for negatives). Every cell keeps its exact value (a Fraction, never a float), unit, scale and where
it came from, so a calculation over it can be executed exactly and traced back.

References: table cells are `R<row>C<col>` (rows counted from the first row under the header, columns from the
left, the label column included), `T<n>R<row>C<col>` in the n-th table when there are several; figures quoted
in the text are `F1`, `F2`, … in reading order.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .errors import InputError

MAX_TABLE_ROWS = 200
MAX_TABLE_COLS = 40
MAX_FILE_BYTES = 5 * 1024 * 1024

# a unit's multiplier to its base (元, $): the order matters, longest first
SCALES: tuple[tuple[str, int], ...] = (
    ("万亿", 10**12),
    ("千亿", 10**11),
    ("百亿", 10**10),
    ("亿", 10**8),
    ("千万", 10**7),
    ("百万", 10**6),
    ("万", 10**4),
    ("千", 10**3),
    ("billions", 10**9),
    ("billion", 10**9),
    ("millions", 10**6),
    ("million", 10**6),
    ("thousands", 10**3),
    ("thousand", 10**3),
    ("bn", 10**9),
    ("mn", 10**6),
)
_SCALE_WORDS = "|".join(w for w, _ in SCALES)
_CURRENCY = r"元|人民币|美元|港元|港币|USD|RMB|CNY|HKD|\$|¥|￥"
_NUMBER = r"[-−–]?\(?[-−–]?[$¥￥]?\s*\d[\d,，]*(?:\.\d+)?\)?"
_PCT_SIGN = r"%|％|个百分点"
_COUNT = r"份|股|克|盎司|手|张|天"  # counts of things: a plain number, no money scale


@dataclass(frozen=True)
class Cell:
    """One figure: where it is (ref, labels, source), its exact value as written, its unit and scale."""

    ref: str  # R3C2, T2R3C2 or F1
    row: str  # row label (for a text figure: the words before it)
    col: str  # column label (for a text figure: its year, when the text gives one)
    value: Fraction  # as written, in its own unit (5.514 for 5.514亿元)
    unit: str  # as shown: 亿元, %, 元, $ thousand…; "" for a bare number
    scale: int = 1  # multiplier to the base unit (10**8 for 亿元); 1 for % and bare numbers
    percent: bool = False
    source: str = ""  # "table 1, row 3, column 2" or "text, characters 10–16"
    text: str = ""  # the cell's text as written

    @property
    def base(self) -> Fraction:
        """The value in the base unit (元, $): value × scale."""
        return self.value * self.scale

    def describe(self) -> str:
        """One line for the model: `R1C2 = 100亿元（营业收入，2023年）`."""
        labels = "，".join(x for x in (self.row, self.col) if x)
        space = " " if self.unit[:1].isascii() and self.unit[:1].isalpha() else ""
        return f"{self.ref} = {format_fraction(self.value)}{space}{self.unit}" + (f"（{labels}）" if labels else "")


@dataclass
class Table:
    """A parsed table: its header and text rows as written, and the numeric cells by reference."""

    header: list[str]
    rows: list[list[str]]
    cells: dict[str, Cell] = field(default_factory=dict)
    label_cols: list[int] = field(default_factory=list)  # 0-based columns that hold labels, not figures
    caption: str = ""
    index: int = 1


@dataclass
class Figures:
    """Everything numeric a question provides: its tables and the figures written in its text."""

    tables: list[Table] = field(default_factory=list)
    text: list[Cell] = field(default_factory=list)

    def cells(self) -> list[Cell]:
        """Every figure, tables first."""
        return [c for t in self.tables for c in t.cells.values()] + list(self.text)

    def get(self, ref: str) -> Cell | None:
        """The cell or text figure a reference names (R3C2 means the first table's), or None."""
        ref = ref.upper()
        for cell in self.cells():
            if cell.ref == ref:
                return cell
        m = re.fullmatch(r"R(\d+)C(\d+)", ref)
        if m and len(self.tables) > 1:
            return self.tables[0].cells.get(f"T1{ref}")
        return None

    def __bool__(self) -> bool:
        return bool(self.tables or self.text)

    def describe(self, limit: int = 80) -> str:
        """The figures as the model should cite them, one per line (at most `limit`)."""
        lines = [c.describe() for c in self.cells()]
        more = len(lines) - limit
        lines = lines[:limit] + ([f"……（另有 {more} 个数字未列出）"] if more > 0 else [])
        return "\n".join(lines)


def format_fraction(value: Fraction, max_decimals: int = 10) -> str:
    """A fraction as a plain decimal: exact when it terminates within max_decimals, else rounded."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    digits = []
    for _ in range(max_decimals):
        if not rest:
            break
        rest *= 10
        d, rest = divmod(rest, value.denominator)
        digits.append(str(d))
    if rest:  # does not terminate: round the last digit
        rounded = round(value, max_decimals)
        return sign + format_fraction(Fraction(rounded), max_decimals)
    text = str(whole) + ("." + "".join(digits) if digits else "")
    return sign + text


def unit_scale(text: str) -> tuple[str, int, bool]:
    """(unit as shown, scale to the base unit, is a percentage) found in a label or a unit note."""
    t = text.strip()
    if re.search(_PCT_SIGN + r"|percent|百分比", t, re.I):
        return "%", 1, True
    for word, scale in SCALES:
        if re.search(word if re.match(r"[^\x00-\x7f]", word) else rf"\b{word}\b", t, re.I):
            money = re.search(_CURRENCY, t, re.I)
            if re.match(r"[^\x00-\x7f]", word):
                return word + ("元" if money or "元" in t else ""), scale, False
            name = word.rstrip("s").replace("bn", "billion").replace("mn", "million")
            return (f"$ {name}" if "$" in t or "dollar" in t.lower() else name), scale, False
    m = re.search(_CURRENCY, t, re.I)
    if m:
        return ("元" if m.group(0) in ("元", "人民币", "RMB", "CNY", "¥", "￥") else m.group(0)), 1, False
    return "", 1, False


def parse_number(text: str) -> tuple[Fraction, str, int, bool] | None:
    """A cell's text as (value, unit, scale, percent), or None when it is not a figure. Handles 1,234, (1,234)
    as a negative, −/– minus signs, $ and ¥, 亿/万 and % suffixes."""
    t = text.strip().replace("，", ",").replace("−", "-").replace("–", "-").replace("\u00a0", " ")
    if not t or t in ("-", "--", "—", "n/a", "N/A", "nm"):
        return None
    m = re.fullmatch(
        rf"(?P<cur0>[$¥￥])?\s*(?P<neg>-)?\s*(?P<open>\()?\s*(?P<neg2>-)?\s*(?P<cur>[$¥￥])?\s*(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<close>\))?"
        rf"\s*(?P<unit>(?:{_SCALE_WORDS})?(?:{_COUNT})|(?:{_SCALE_WORDS})?\s*(?:{_CURRENCY})?|{_PCT_SIGN}|倍|x)?\s*",
        t,
        re.I,
    )
    if not m or bool(m.group("open")) != bool(m.group("close")):
        return None
    digits = m.group("num").replace(",", "")
    if "," in m.group("num") and not re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", m.group("num")):
        return None  # 1,2,3 is a list, not a number
    value = Fraction(digits)
    if m.group("neg") or m.group("neg2") or m.group("open"):
        value = -value
    unit_text = (m.group("unit") or "") + (m.group("cur") or m.group("cur0") or "")
    unit, scale, percent = unit_scale(unit_text) if unit_text.strip() else ("", 1, False)
    if re.fullmatch(rf"倍|x|X|(?:{_SCALE_WORDS})?(?:{_COUNT})", (m.group("unit") or "").strip()):
        unit = m.group("unit").strip()  # 25万份: one figure, 250000 units (the scale word before the count word)
    return value, unit, scale, percent


# ---- pipe / Markdown tables --------------------------------------------------------------------------------------
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LABEL_HEADER = re.compile(
    r"代码|简称|名称|日期|年份|年度|时间|期间|报告期|项目|科目|指标|公司|证券|行业|季度|code|name|date|year|period|item|ticker|quarter",
    re.I,
)
_NOTE = re.compile(
    r"单位[:：]?\s*(?P<zh>[^\s|，,。)）]+)|in (?P<en>thousands|millions|billions)|\((?P<en2>thousands|millions|billions)\)",
    re.I,
)


def _split_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _note_scale(text: str) -> tuple[str, int, bool] | None:
    m = _NOTE.search(text)
    if not m:
        return None
    return unit_scale(m.group("zh") or m.group("en") or m.group("en2") or "")


def _is_header_row(row: list[str]) -> bool:
    """True when every cell of the row is a year, a word or empty: a further header row over the figures."""
    cells = [c.strip() for c in row if c.strip()]
    if len(cells) < 2 and row and row[0].strip():
        return False  # a label alone ("RSUs") heads a section of rows, not the columns
    return all(re.fullmatch(r"(19|20)\d{2}", c) or parse_number(c) is None for c in cells)


def build_table(header: list[str], rows: list[list[str]], caption: str = "", index: int = 1) -> Table:
    """A typed table from its header and text rows: label columns found, each figure cell parsed with the unit of
    its own text, else of its column or row label, else of the table's unit note ("单位：万元", "in thousands")."""
    rows = [r[:MAX_TABLE_COLS] for r in rows[:MAX_TABLE_ROWS]]
    header = header[:MAX_TABLE_COLS]
    width = max([len(header), *(len(r) for r in rows)], default=0)
    header = header + [""] * (width - len(header))
    rows = [r + [""] * (width - len(r)) for r in rows]
    while len(rows) > 1 and _is_header_row(rows[0]):  # a second header row of years (statements often have one)
        header = [f"{h} {c}".strip() for h, c in zip(header, rows[0], strict=True)]
        rows = rows[1:]
    table = Table(header=header, rows=rows, caption=caption, index=index)
    table_note = _note_scale(caption) or _note_scale(" ".join(header))
    for j in range(width):
        values = [r[j] for r in rows if r[j].strip()]
        numeric = sum(parse_number(v) is not None for v in values)
        # "Fiscal year 2018" names a year's figures and "Balance at end of period" a column of balances: a label
        # word marks a label column only in a short header without a year ("报告期", "Ticker")
        labels = (
            _LABEL_HEADER.search(header[j])
            and len(header[j].strip()) <= 16
            and not re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", header[j])
        )
        if labels and not unit_scale(header[j])[0] or numeric * 2 < len(values) or not values:
            table.label_cols.append(j)
    if not table.label_cols and width > 1:
        table.label_cols.append(0)
    prefix = f"T{index}" if index > 1 else ""
    for i, row in enumerate(rows, start=1):
        row_label = " ".join(row[j] for j in table.label_cols if row[j])
        row_unit = unit_scale(row_label) if re.search(r"[(（].*[)）]|%|％", row_label) else None
        for j, text in enumerate(row):
            if j in table.label_cols:
                continue
            parsed = parse_number(text)
            if parsed is None:
                continue
            value, unit, scale, percent = parsed
            if not unit or (scale == 1 and not percent and not re.fullmatch(rf"倍|x|{_COUNT}", unit)):
                # a bare figure, or one with only a currency sign, takes the scale its labels or the note give
                for found in (unit_scale(header[j]), row_unit, table_note):
                    if found and found[0] and (not unit or found[1] > 1):
                        unit, scale, percent = found
                        break
            ref = f"{prefix}R{i}C{j + 1}"
            table.cells[ref] = Cell(
                ref=ref if index == 1 else ref,
                row=row_label,
                col=header[j],
                value=value,
                unit=unit,
                scale=scale,
                percent=percent,
                source=f"table {index}, row {i}, column {j + 1}",
                text=text,
            )
    return table


def find_tables(text: str) -> tuple[list[Table], str]:
    """Pipe tables in a text (Markdown or data-service exports) and the text with the table lines taken out."""
    lines = text.splitlines()
    tables: list[Table] = []
    rest: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].count("|") >= 2 or (
            lines[i].count("|") == 1 and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1])
        ):
            block = []
            while i < len(lines) and (lines[i].count("|") >= 1 and lines[i].strip()):
                block.append(lines[i])
                i += 1
            rows = [_split_row(b) for b in block if not _SEPARATOR.match(b)]
            if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                after = lines[i] if i < len(lines) else ""  # a note under the table: "(in thousands)"
                caption = " ".join([*rest[-2:], after])
                tables.append(build_table(rows[0], rows[1:], caption=caption, index=len(tables) + 1))
            else:
                rest.extend(block)
            continue
        rest.append(lines[i])
        i += 1
    return tables, "\n".join(rest)


# ---- figures in running text -------------------------------------------------------------------------------------
_TEXT_FIGURE = re.compile(
    rf"(?P<num>(?<![0-9A-Za-z_.])[-−]?\d[\d,]*(?:\.\d+)?)\s*(?P<unit>{_PCT_SIGN}|(?:{_SCALE_WORDS})?(?:{_COUNT})|倍|"
    rf"(?:{_SCALE_WORDS})?\s*(?:{_CURRENCY})?)",
    re.I,
)
# Chinese numerals written as amounts ("存十万", "五千块", "五十份"): a numeral starting with a digit character (so
# 千万/万一 the adverbs are not numbers), taken only with a money or count unit after it or a 百/千/万/亿 inside it
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_FIGURE = re.compile(
    r"(?<![零一二两三四五六七八九十百千万亿])(?P<num>[一二两三四五六七八九十][零一二两三四五六七八九十百千万亿]*)"
    r"(?P<unit>块钱|块|元|人民币|份|股|手|张|盎司|克)?(?![多余来几])"
)


def zh_number(text: str) -> int | None:
    """The value of a Chinese numeral such as 十万, 三百五十, 两千零五, 一亿二千万; None when it is not one."""
    total = wan = section = 0  # whole 亿 groups, the 万 group, the part below 万
    digit: int | None = None
    for ch in text:
        if ch in _ZH_DIGITS:
            if digit:  # 三四十: two digits in a row is a range, not a number
                return None
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            if digit is None and ch != "十":
                return None  # 百 or 千 with nothing before it
            section += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        elif ch in "万亿":
            n = section + (digit or 0)
            if ch == "万":
                if n == 0:
                    return None
                wan, section, digit = n * 10**4, 0, None
            else:
                if n + wan == 0:
                    return None
                total, wan, section, digit = (total + wan + n) * 10**8, 0, 0, None
        else:
            return None
    return (total + wan + section + (digit or 0)) or None


def find_zh_figures(text: str, ends: tuple[int, ...] = ()) -> list[tuple[int, Cell]]:
    """Amounts written in Chinese numerals, as (start, cell) with the whole value (十万元 → 100000 元); a label
    reads back no further than the end of another figure (`ends`)."""
    out: list[tuple[int, Cell]] = []
    for m in _ZH_FIGURE.finditer(text):
        num, unit_text = m.group("num"), m.group("unit") or ""
        if not unit_text and not re.search(r"[百千万亿]", num):
            continue
        value = zh_number(num)
        if value is None:
            continue
        unit = "元" if unit_text in ("块钱", "块", "元", "人民币") else unit_text
        previous = max((e for e in ends if e <= m.start()), default=0)
        label = re.split(r"[，。；;,.!?？！\n]", text[max(0, m.start() - 24, previous) : m.start()])[-1]
        label = _RESPECTIVELY.sub("", label).strip(" 为是：:、")
        source = f"text, characters {m.start()}–{m.end()}"
        out.append((m.start(), Cell("", label, "", Fraction(value), unit, 1, False, source, m.group(0))))
    return out


_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*[-–~至到]\s*((?:19|20)\d{2})\s*年?")
_RESPECTIVELY = re.compile(r"分别(?:为|是|达到|达)?|respectively")


def _is_year(text: str, start: int, end: int) -> bool:
    number = text[start:end]
    after = text[end : end + 2]
    return bool(re.fullmatch(r"(19|20)\d{2}", number)) and (
        after.startswith(("年", "-", "–", "~", "至", "到", "财")) or not re.match(r"\s*(亿|万|元|%|千)", after)
    )


def _is_date_or_code(text: str, start: int, end: int) -> bool:
    """05月15日, 19:00, 20221227 and codes such as 017516 are not figures."""
    number = text[start:end]
    if re.match(r"\s*([月日时点分秒号]|:\d|：\d)", text[end : end + 3]) or re.search(r"\d[:：]$", text[:start]):
        return True
    if "." not in number and re.match(r"[A-Za-z\u4e00-\u9fff]", text[end : end + 1]):
        return True  # 北证50指数, 检索1: a number inside a name
    if re.fullmatch(r"(19|20)\d{6}", number):
        return True
    return len(number) > 1 and number.startswith("0") and "." not in number


def find_text_figures(text: str, first: int = 1) -> list[Cell]:
    """Figures written in running text, numbered F1, F2… in reading order; years, list numbers and bare small
    counts are left out. Figures listed with 分别 after a year range get those years as their column label."""
    cells: list[Cell] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = 0
    for m in _TEXT_FIGURE.finditer(text):
        num = m.group("num")
        unit_text = (m.group("unit") or "").strip()
        if _is_year(text, m.start("num"), m.end("num")):
            continue
        if not unit_text and re.match(r"\s*[.、)）]", text[m.end("num") : m.end("num") + 1]):
            continue  # "1." / "2、" number a list
        if not unit_text and text[max(0, m.start() - 1) : m.start()] == "第":
            continue  # 第3季度 is an ordinal
        if not unit_text and _is_date_or_code(text, m.start("num"), m.end("num")):
            continue
        parsed = parse_number(num + unit_text)
        if parsed is None:
            continue
        value, unit, scale, percent = parsed
        before = text[max(0, m.start() - 24, previous) : m.start()]
        previous = m.end()
        label = re.split(r"[，。；;,.!?？！\n]", before)[-1].strip()
        label = _RESPECTIVELY.sub("", label).strip(" 为是：:、")
        cells.append(
            Cell(
                ref="",
                row=label,
                col="",
                value=value,
                unit=unit,
                scale=scale,
                percent=percent,
                source=f"text, characters {m.start()}–{m.end()}",
                text=m.group(0).strip(),
            )
        )
        starts.append(m.start())
        ends.append(m.end())
    for start, cell in find_zh_figures(text, tuple(ends)):  # merged in reading order: F-numbers follow the text
        at = next((k for k, s in enumerate(starts) if s > start), len(starts))
        cells.insert(at, cell)
        starts.insert(at, start)
    _label_respectively(text, cells, starts)
    return [
        Cell(f"F{first + k}", c.row, c.col, c.value, c.unit, c.scale, c.percent, c.source, c.text)
        for k, c in enumerate(cells)
    ]


def _label_respectively(text: str, cells: list[Cell], starts: list[int]) -> None:
    """'2019-2022年营业总收入分别为a、b、c、d': the listed figures get the years and the item's name."""
    for m in _YEAR_RANGE.finditer(text):
        start, end = int(m.group(1)), int(m.group(2))
        if not 0 < end - start < 30:
            continue
        resp = _RESPECTIVELY.search(text, m.end())
        if not resp or resp.start() - m.end() > 30:
            continue
        item = text[m.end() : resp.start()].strip(" ，,的")
        listed = [(k, c) for k, c in enumerate(cells) if starts[k] >= resp.end()][: end - start + 1]
        for year, (k, c) in zip(range(start, end + 1), listed, strict=False):
            cells[k] = Cell(c.ref, item or c.row, f"{year}年", c.value, c.unit, c.scale, c.percent, c.source, c.text)


def parse_question(question: str) -> Figures:
    """Every table and text figure in a question."""
    tables, rest = find_tables(question)
    return Figures(tables=tables, text=find_text_figures(rest))


# ---- files ------------------------------------------------------------------------------------------------------
def read_table_file(path: str | Path) -> Table:
    """A CSV (UTF-8, else GB18030) or XLSX file's first sheet as a typed table; InputError when unreadable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the table file {path}: {exc.strerror or exc}", param="table") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"the table file {path} is larger than {MAX_FILE_BYTES} bytes", param="table")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, path)
    else:
        rows = _csv_rows(data, path)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise InputError(f"the table file {path} has no rows under its header", param="table")
    return build_table(rows[0], rows[1:], caption=path.name)


def _csv_rows(data: bytes, path: Path) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"the table file {path} is neither UTF-8 nor GB18030 text", param="table")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes, path: Path) -> list[list[str]]:
    import openpyxl  # only when a spreadsheet is given

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise InputError(f"the table file {path} is not a readable XLSX workbook: {exc}", param="table") from exc
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True, max_row=MAX_TABLE_ROWS + 1, max_col=MAX_TABLE_COLS):
        rows.append(["" if v is None else _cell_text(v) for v in row])
    book.close()
    return rows


def _cell_text(value: object) -> str:
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def attach_table(question: str, path: str | Path) -> str:
    """The question with a table file's first sheet pasted above it as a pipe table (InputError if unreadable)."""
    return table_markdown(read_table_file(path)) + "\n\n" + question


def table_markdown(table: Table) -> str:
    """A table back as a pipe table (what a --table file adds to the question)."""
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(r) + " |" for r in table.rows]
    return "\n".join(([table.caption] if table.caption else []) + lines)
