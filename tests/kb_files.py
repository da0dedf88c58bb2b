"""Test documents for the knowledge base, made in the test run: a CJK PDF written by hand (a predefined CJK font,
no font file needed), a DOCX through python-docx, GB18030 text, and hostile files."""

from __future__ import annotations

import io
import re
import zipfile


def cjk_pdf(pages: list[str]) -> bytes:
    """A minimal PDF whose pages show the given texts (lines split on newlines) in STSong-Light with the
    UniGB-UCS2-H encoding, so its text layer extracts as the same Chinese characters."""
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor "
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 "
        b"/Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >> >>] >>"
    )
    pages_id = len(objs) + 2 * len(pages) + 1
    kids = []
    for text in pages:
        lines = []
        for n, line in enumerate(text.split("\n")):
            lines.append(f"BT /F1 12 Tf 40 {800 - 18 * n} Td <{line.encode('utf-16-be').hex().upper()}> Tj ET")
        stream = "\n".join(lines).encode()
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, xref)
    return bytes(out)


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A Word document with these paragraphs, written by python-docx."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bomb_docx(padding: int = 120_000_000) -> bytes:
    """A valid .docx of a few KB whose document.xml inflates by `padding` bytes of trailing whitespace."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["炸弹"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, source.read(info.filename))
                continue
            with z.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(source.read(info.filename))
                block = b" " * 1_000_000
                for _ in range(padding // len(block)):
                    f.write(block)
    return buffer.getvalue()


MEDICAL_PAGES = [
    "高血压患者每日食盐摄入量应低于5克。规律有氧运动，每周至少150分钟，有助于降低血压。"
    "血压持续高于180/110毫米汞柱并伴有头痛、胸痛时，应立即就医。",
    "糖尿病患者应定期监测血糖，空腹血糖的控制目标一般为4.4至7.0毫摩尔每升。"
    "出现多饮、多尿、体重下降时应到内分泌科就诊。",
]
FINANCE_TEXT = (
    "市盈率等于股价除以每股收益。市盈率较高可能说明市场对公司增长的预期较高，也可能说明估值偏贵。\n\n"
    "指数基金定投可以分散买入时点，但不能消除市场下跌的风险。投资者应根据自己的风险承受能力决定投入金额。"
)


def offered(request) -> dict[str, str]:
    """The sentences a knowledge-base request offers for citation, by the number the prompt gives them."""
    prompt = next(m["content"] for m in reversed(request.messages) if "【资料】" in m["content"])
    return dict(re.findall(r"^\[(\d+)\] (.+)$", prompt, re.MULTILINE))


def cite(request, phrase: str) -> dict[str, str]:
    """What a model that reads the passages writes to cite the offered sentence holding phrase: its number, or
    the sentence itself when the schema offers sentence texts."""
    number, text = next((n, t) for n, t in offered(request).items() if phrase in t)
    item = request.schema["properties"]["citations"]["items"]["properties"]
    return {"sentence": number} if "sentence" in item else {"quote": text}
