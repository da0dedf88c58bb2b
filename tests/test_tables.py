"""The table and figure parser: pipe tables, text figures, CSV/XLSX files, English statements (no model)."""

from fractions import Fraction

import pytest

from qa.errors import InputError
from qa.tables import parse_number, parse_question, read_table_file, table_markdown, zh_number

CN_TABLE = """请看下表（单位：亿元）：
|年份|营业收入|净利润|毛利率|
|---|---|---|---|
|2022|80|12.5|35.2%|
|2023|100|(3.2)|33.1%|
营业收入同比增长多少？"""

EN_TABLE = """| |2019|2018|
|---|---|---|
|Revenue|$ 1,234|$ 1,100|
|Net loss|(45)|(12.5)|
(in thousands)"""

EXPORT = "|股票代码|股票简称|日期|营业收入(元)|净利润(万元)|\n|000001|平安银行|2023-12-31|164699000000|4645500|"


@pytest.mark.parametrize(
    "text,value,unit,scale,percent",
    [
        ("1,234", Fraction(1234), "", 1, False),
        ("(1,234.5)", Fraction(-12345, 10), "", 1, False),
        ("$ (45)", Fraction(-45), "$", 1, False),
        ("−3.2", Fraction(-32, 10), "", 1, False),
        ("5.514亿元", Fraction(5514, 1000), "亿元", 10**8, False),
        ("35.2%", Fraction(352, 10), "%", 1, True),
        ("12.3％", Fraction(123, 10), "%", 1, True),
        ("800万", Fraction(800), "万", 10**4, False),
        ("0.1", Fraction(1, 10), "", 1, False),
        ("3.5倍", Fraction(35, 10), "倍", 1, False),
        ("25万份", Fraction(25), "万份", 10**4, False),  # a scale word before a count word: one figure
        ("3000股", Fraction(3000), "股", 1, False),
    ],
)
def test_numbers_parse_exactly_with_unit_and_scale(text, value, unit, scale, percent):
    assert parse_number(text) == (value, unit, scale, percent)


@pytest.mark.parametrize("text", ["", "-", "—", "n/a", "平安银行", "1,2,3", "(12", "2023-12-31"])
def test_non_numbers_are_not_figures(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "question,ref,row,col,value,unit,scale",
    [
        (CN_TABLE, "R1C2", "2022", "营业收入", Fraction(80), "亿元", 10**8),
        (CN_TABLE, "R2C3", "2023", "净利润", Fraction(-32, 10), "亿元", 10**8),
        (CN_TABLE, "R2C4", "2023", "毛利率", Fraction(331, 10), "%", 1),
        (EN_TABLE, "R1C2", "Revenue", "2019", Fraction(1234), "thousand", 1000),
        (EN_TABLE, "R2C3", "Net loss", "2018", Fraction(-125, 10), "thousand", 1000),
        (EXPORT, "R1C4", "000001 平安银行 2023-12-31", "营业收入(元)", Fraction(164699000000), "元", 1),
        (EXPORT, "R1C5", "000001 平安银行 2023-12-31", "净利润(万元)", Fraction(4645500), "万元", 10**4),
    ],
)
def test_table_cells_carry_labels_value_unit_scale(question, ref, row, col, value, unit, scale):
    cell = parse_question(question).get(ref)
    assert cell is not None
    assert (cell.row, cell.col, cell.value, cell.unit, cell.scale) == (row, col, value, unit, scale)
    assert cell.source.startswith("table 1, row")


def test_label_columns_are_not_figures():
    figures = parse_question(EXPORT)
    assert figures.get("R1C1") is None and figures.get("R1C3") is None  # stock code and date are labels
    assert figures.text == []  # the table's numbers are not counted again as text figures


@pytest.mark.parametrize(
    "question,expected",
    [
        (
            "2019-2022年营业总收入分别为5.514亿元、14.32亿元、26.21亿元、40.53亿元，年均复合增长率是多少？",
            [
                ("F1", "5.514", "2019年"),
                ("F2", "14.32", "2020年"),
                ("F3", "26.21", "2021年"),
                ("F4", "40.53", "2022年"),
            ],
        ),
        ("一家公司营收从 80 亿增长到 100 亿，增长率是多少？", [("F1", "80", ""), ("F2", "100", "")]),
        ("股价 20 元，每股收益 0.8 元，第3季度的市盈率是多少？", [("F1", "20", ""), ("F2", "0.8", "")]),
        ("2023年毛利率为35%，比2022年提高2个百分点", [("F1", "35", ""), ("F2", "2", "")]),
    ],
)
def test_text_figures_are_numbered_in_reading_order(question, expected):
    figures = parse_question(question)
    assert [(c.ref, str(float(c.value)).removesuffix(".0"), c.col) for c in figures.text] == expected


@pytest.mark.parametrize(
    "text,value",
    [
        ("十", 10),
        ("十五", 15),
        ("五十", 50),
        ("三百五十", 350),
        ("两千零五", 2005),
        ("一百零一", 101),
        ("十万", 100000),
        ("二十五万", 250000),
        ("一亿二千万", 120000000),
        ("三四十", None),  # a range
        ("千", None),
        ("万", None),
        ("abc", None),
    ],
)
def test_chinese_numerals(text, value):
    assert zh_number(text) == value


@pytest.mark.parametrize(
    "question,expected",
    [
        ("每年存十万，十年后多少钱", [("十万", 100000, "", "每年存")]),  # 十年: a duration, not an amount
        ("投入一万元一个月会亏损多少钱", [("一万元", 10000, "元", "投入")]),
        ("净值1.26，持有四千份价值多少？", [("1.26", Fraction(126, 100), "", "净值"), ("四千份", 4000, "份", "持有")]),
        ("1.5万元和两千块", [("1.5万元", Fraction(3, 2), "万元", ""), ("两千块", 2000, "元", "和")]),
        ("千万别买，万一亏了呢？三四十万左右的车", []),  # adverbs and a range are not figures
        ("一千多元", []),  # an approximate amount is not a figure
    ],
)
def test_amounts_in_chinese_numerals_are_figures_in_reading_order(question, expected):
    cells = parse_question(question).text
    assert [(c.text, c.value, c.unit, c.row) for c in cells] == expected
    assert [c.ref for c in cells] == [f"F{k}" for k in range(1, len(cells) + 1)]


def test_text_figures_keep_units_and_scale():
    (first, *_) = parse_question("2019-2022年营业总收入分别为5.514亿元、14.32亿元").text
    assert first.base == Fraction(5514, 1000) * 10**8 and first.row == "营业总收入"


def test_two_tables_are_told_apart():
    question = "|项目|2022|\n|---|---|\n|收入|10|\n\n说明\n\n|项目|2023|\n|---|---|\n|收入|12|"
    figures = parse_question(question)
    assert [t.index for t in figures.tables] == [1, 2]
    assert figures.get("R1C2").value == 10 and figures.get("T2R1C2").value == 12


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_files_in_utf8_or_gb18030(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("年份,营业收入(万元)\n2022,1200\n2023,1500\n".encode(encoding))
    table = read_table_file(path)
    assert table.cells["R2C2"].value == 1500 and table.cells["R2C2"].scale == 10**4
    assert "| 年份 | 营业收入(万元) |" in table_markdown(table)


def test_xlsx_first_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["项目", "2022", "2023"], ["营业收入（亿元）", 80, 100.5]):
        sheet.append(row)
    path = tmp_path / "t.xlsx"
    book.save(path)
    table = read_table_file(path)
    assert table.cells["R1C3"].value == Fraction(1005, 10) and table.cells["R1C3"].unit == "亿元"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.csv", None, "cannot read"),
        ("one.csv", "年份,收入\n", "no rows"),
        ("bad.xlsx", "not a zip", "not a readable XLSX"),
    ],
)
def test_bad_table_files_are_input_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_table_file(path)


def test_dates_times_and_codes_are_not_figures():
    text = "截止2025年05月14日 19:00:00，基金代码为017516；基金成立时间为20221227；单位净值为1.4255。"
    assert [(c.ref, c.value) for c in parse_question(text).text] == [("F1", Fraction(14255, 10000))]
