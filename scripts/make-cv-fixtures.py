#!/usr/bin/env python3
"""Writes tests/fixtures/cv-files: CVs in every format RoleMapper reads, and
the bad files it must refuse, from texts written for the project (never from
../shared/data). Each good file has `NAME.expected.txt`, the text in reading
order, which the extraction fidelity test compares with what comes out.

Run by scripts/make-cv-fixtures.sh (a pinned venv: reportlab, python-docx,
odfpy). The output is deterministic (reportlab's invariant mode, fixed zip
times), so re-running it changes no committed byte.
"""
import io
import os
import sys
import zipfile

from docx import Document
from odf.opendocument import OpenDocumentText
from odf.style import Style, TextProperties
from odf.table import Table as OdfTable, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, P
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer,
                                Table, TableStyle)
from reportlab import rl_config

rl_config.invariant = 1
OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/cv-files"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
pdfmetrics.registerFont(TTFont("DejaVu", FONT))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONT_BOLD))

# --- The CVs (written for these fixtures) --------------------------------
# A CV is a name, a headline, and sections of (heading, [lines]); a line
# starting with "• " is a bullet.
MAYA = ("Maya Okonkwo-Lindqvist", "Data engineer, Gothenburg", [
    ("Profile", [
        "Data engineer with six years of experience building batch and streaming pipelines "
        "for logistics and retail companies. I like clean schemas, reproducible builds and "
        "teaching colleagues how to test their SQL.",
    ]),
    ("Skills", [
        "• Python, SQL, Scala, Bash",
        "• Apache Spark, Apache Kafka, Airflow, dbt",
        "• PostgreSQL, Oracle, Snowflake, BigQuery",
        "• Docker, Kubernetes, Terraform, GitLab CI",
    ]),
    ("Experience", [
        "Senior data engineer, NordFreight AB, 2021 to present",
        "• Designed a Kafka and Spark streaming platform that tracks forty thousand parcels "
        "an hour and configured its monitoring with Prometheus and Grafana.",
        "• Migrated nightly Oracle jobs to Airflow and dbt, cutting the warehouse refresh "
        "from five hours to forty minutes.",
        "Data engineer, Kvarn Retail, 2018 to 2021",
        "• Built the customer data model in Snowflake and the reporting layer in Power BI.",
        "• Introduced unit tests for SQL transformations and code review for every pipeline.",
    ]),
    ("Education", [
        "MSc in Computer Science, Chalmers University of Technology, 2018",
    ]),
])

NIKOS = ("Νίκος Παπαδόπουλος / Анна Петрова-Ši", "Nurse and clinical educator", [
    ("Profile", [
        "Registered nurse with ten years on surgical and intensive care wards, now training "
        "new staff in patient safety, infection control and electronic health records.",
    ]),
    ("Skills", [
        "• Wound care, medication administration, patient assessment",
        "• Infection prevention and control, sterile technique",
        "• Epic and Cerner electronic health records",
        "• Clinical teaching, mentoring, simulation training",
    ]),
    ("Experience", [
        "Clinical nurse educator, St. Aidan's Hospital, 2020 to present",
        "• Run the simulation programme for two hundred nurses a year and certified the "
        "ward's team in advanced life support.",
        "Staff nurse, intensive care unit, Lakeside Hospital, 2014 to 2020",
        "• Cared for ventilated patients and coordinated discharge planning with "
        "physiotherapists and social workers.",
    ]),
    ("Languages", ["Greek, Russian, English, Czech"]),
])

JO = ("Jo Ferreira", "Accountant", [
    ("Skills", [
        "• Financial reporting under IFRS, month-end close, reconciliations",
        "• SAP, Oracle Financials, Microsoft Excel, Power Query",
        "• Budgeting, forecasting and variance analysis",
    ]),
    ("Experience", [
        "Management accountant, Harbour Foods Ltd, 2019 to present",
        "• Prepare monthly management accounts and the group's consolidated cash-flow "
        "forecast; automated twelve reconciliations with Power Query.",
    ]),
])


def plain(cv):
    name, headline, sections = cv
    lines = [name, headline, ""]
    for heading, body in sections:
        lines.append(heading)
        lines.extend(body)
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def write(name, data):
    path = os.path.join(OUT, name)
    mode = "w" if isinstance(data, str) else "wb"
    with open(path, mode, **({"encoding": "utf-8", "newline": "\n"} if mode == "w" else {})) as f:
        f.write(data)


def expected(name, text):
    write(name + ".expected.txt", text)


# --- PDF layouts -------------------------------------------------------------
def styles(ligatures=False):
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=10, leading=13)
    head = ParagraphStyle("head", fontName="DejaVu-Bold", fontSize=12, leading=16,
                          spaceBefore=6)
    title = ParagraphStyle("title", fontName="DejaVu-Bold", fontSize=18, leading=22)
    return body, head, title


def lig(s):
    # The ligature glyphs a typesetter would use: extraction must undo them.
    return s.replace("ffi", "\ufb03").replace("fi", "\ufb01").replace("fl", "\ufb02")


def flow(cv, body, head, title, ligatures=False):
    name, headline, sections = cv
    t = lig if ligatures else (lambda s: s)
    story = [Paragraph(name, title), Paragraph(t(headline), body), Spacer(1, 4 * mm)]
    for heading, lines in sections:
        story.append(Paragraph(heading, head))
        for line in lines:
            story.append(Paragraph(t(line).replace("&", "&amp;"), body))
    return story


def pdf_bytes(build):
    buf = io.BytesIO()
    build(buf)
    return buf.getvalue()


def one_column(cv, ligatures=False):
    def build(buf):
        doc = BaseDocTemplate(buf, pagesize=A4, title="CV", author="RoleMapper fixtures")
        frame = Frame(20 * mm, 20 * mm, A4[0] - 40 * mm, A4[1] - 40 * mm)
        doc.addPageTemplates([PageTemplate("one", [frame])])
        doc.build(flow(cv, *styles(), ligatures=ligatures))
    return pdf_bytes(build)


def two_column(cv):
    """Name and headline across the top; skills in a left sidebar; the other
    sections in the right column."""
    name, headline, sections = cv
    body, head, title = styles()
    side = [s for s in sections if s[0] in ("Skills", "Languages", "Education")]
    main = [s for s in sections if s not in side]

    def build(buf):
        doc = BaseDocTemplate(buf, pagesize=A4, title="CV", author="RoleMapper fixtures")
        top = Frame(20 * mm, A4[1] - 45 * mm, A4[0] - 40 * mm, 25 * mm, id="top")
        left = Frame(20 * mm, 20 * mm, 58 * mm, A4[1] - 68 * mm, id="left")
        right = Frame(86 * mm, 20 * mm, A4[0] - 106 * mm, A4[1] - 68 * mm, id="right")
        doc.addPageTemplates([PageTemplate("two", [top, left, right])])
        from reportlab.platypus import FrameBreak
        story = [Paragraph(name, title), Paragraph(headline, body), FrameBreak()]
        for heading, lines in side:
            story.append(Paragraph(heading, head))
            story += [Paragraph(l.replace("&", "&amp;"), body) for l in lines]
        story.append(FrameBreak())
        for heading, lines in main:
            story.append(Paragraph(heading, head))
            story += [Paragraph(l.replace("&", "&amp;"), body) for l in lines]
        doc.build(story)
    text = plain((name, headline, side + main))
    return pdf_bytes(build), text


def table_pdf(cv):
    """The skills as a two-column table (area, tools), the rest as text."""
    name, headline, sections = cv
    body, head, title = styles()
    rows = [["Area", "Tools"], ["Languages", "Python, SQL, Scala, Bash"],
            ["Processing", "Apache Spark, Apache Kafka, Airflow, dbt"],
            ["Databases", "PostgreSQL, Oracle, Snowflake, BigQuery"]]
    rest = [s for s in sections if s[0] != "Skills"]

    def build(buf):
        doc = BaseDocTemplate(buf, pagesize=A4, title="CV", author="RoleMapper fixtures")
        frame = Frame(20 * mm, 20 * mm, A4[0] - 40 * mm, A4[1] - 40 * mm)
        doc.addPageTemplates([PageTemplate("one", [frame])])
        story = [Paragraph(name, title), Paragraph(headline, body), Spacer(1, 4 * mm),
                 Paragraph("Skills", head)]
        t = Table([[Paragraph(c, body) for c in r] for r in rows], colWidths=[40 * mm, 110 * mm])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#888888")]))
        story.append(t)
        for heading, lines in rest:
            story.append(Paragraph(heading, head))
            story += [Paragraph(l, body) for l in lines]
        doc.build(story)
    lines = [name, headline, "", "Skills"] + ["\t".join(r) for r in rows] + [""]
    for heading, body_lines in rest:
        lines += [heading] + body_lines + [""]
    return pdf_bytes(build), "\n".join(lines).strip() + "\n"


def encrypted_pdf():
    def build(buf):
        c = canvas.Canvas(buf, pagesize=A4, encrypt="a-secret-password")
        c.setFont("DejaVu", 11)
        c.drawString(72, 760, "Confidential CV: Python, SQL")
        c.save()
    return pdf_bytes(build)


def scanned_pdf():
    """Only drawn shapes, no text: what a scanner's PDF looks like to a
    text extractor."""
    def build(buf):
        c = canvas.Canvas(buf, pagesize=A4)
        for i in range(40):
            c.rect(72, 760 - 16 * i, 200 + (i * 37) % 250, 9, fill=1, stroke=0)
        c.save()
    return pdf_bytes(build)


# --- Office formats -------------------------------------------------------------
def docx_bytes(cv):
    name, headline, sections = cv
    d = Document()
    d.core_properties.author = "RoleMapper fixtures"
    import datetime
    d.core_properties.created = d.core_properties.modified = datetime.datetime(2026, 1, 1)
    d.add_heading(name, level=0)
    d.add_paragraph(headline)
    for heading, lines in sections:
        d.add_heading(heading, level=1)
        for line in lines:
            if line.startswith("• "):
                d.add_paragraph(line[2:], style="List Bullet")
            else:
                d.add_paragraph(line)
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Certificate", "Year"
    t.cell(1, 0).text, t.cell(1, 1).text = "AWS Certified Data Engineer", "2024"
    buf = io.BytesIO()
    d.save(buf)
    text = plain(cv).rstrip("\n") + "\n\nCertificate\tYear\nAWS Certified Data Engineer\t2024\n"
    return fixed_zip(buf.getvalue()), text


def odt_bytes(cv):
    name, headline, sections = cv
    d = OpenDocumentText()
    d.text.addElement(H(outlinelevel=1, text=name))
    d.text.addElement(P(text=headline))
    for heading, lines in sections:
        d.text.addElement(H(outlinelevel=2, text=heading))
        bullets = None
        for line in lines:
            if line.startswith("• "):
                if bullets is None:
                    bullets = List()
                    d.text.addElement(bullets)
                item = ListItem()
                item.addElement(P(text=line[2:]))
                bullets.addElement(item)
            else:
                bullets = None
                d.text.addElement(P(text=line))
    buf = io.BytesIO()
    d.write(buf)
    return fixed_zip(buf.getvalue()), plain(cv)


def fixed_zip(data):
    """The same members with fixed times, so the bytes do not change between runs."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = (zipfile.ZIP_STORED if info.filename == "mimetype"
                                   else zipfile.ZIP_DEFLATED)
            z.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def zip_bomb():
    """A DOCX whose document.xml unpacks to 80 MB (about 80 KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("[Content_Types].xml", (2026, 1, 1, 0, 0, 0)), "<Types/>")
        info = zipfile.ZipInfo("word/document.xml", (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            f.write(b'<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>')
            chunk = b" " * (1 << 20)
            for _ in range(80):
                f.write(chunk)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


# --- RTF and HTML ------------------------------------------------------------------
def rtf_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif o < 128:
            out.append(ch)
        else:
            out.append("\\u%d?" % (o if o < 32768 else o - 65536))
    return "".join(out)


def rtf_text(cv):
    name, headline, sections = cv
    parts = [r"{\rtf1\ansi\deff0{\fonttbl{\f0\fswiss Helvetica;}}\f0\fs22 "]
    parts.append(r"{\b\fs32 " + rtf_escape(name) + r"}\par ")
    parts.append(rtf_escape(headline) + r"\par\par ")
    for heading, lines in sections:
        parts.append(r"{\b " + rtf_escape(heading) + r"}\par ")
        for line in lines:
            parts.append(rtf_escape(line) + r"\par ")
        parts.append(r"\par ")
    parts.append("}")
    return "".join(parts)


def html_text(cv):
    import html
    name, headline, sections = cv
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>CV</title><style>body{font-family:sans-serif}</style></head><body>",
           f"<h1>{e(name)}</h1>", f"<p>{e(headline)}</p>"]
    for heading, lines in sections:
        out.append(f"<h2>{e(heading)}</h2>")
        in_list = False
        for line in lines:
            if line.startswith("• "):
                if not in_list:
                    out.append("<ul>")
                    in_list = True
                out.append(f"  <li>{e(line[2:])}</li>")
            else:
                if in_list:
                    out.append("</ul>")
                    in_list = False
                out.append(f"<p>{e(line)}</p>")
        if in_list:
            out.append("</ul>")
    out.append("<script>document.title = 'not text';</script></body></html>")
    return "\n".join(out) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    # Each good file with the text it was made from.
    good = {
        "one-column.pdf": (one_column(MAYA), plain(MAYA)),
        "ligatures.pdf": (one_column(JO, ligatures=True), plain(JO)),
        "two-column.pdf": two_column(MAYA),
        "table.pdf": table_pdf(MAYA),
        "non-latin.pdf": (one_column(NIKOS), plain(NIKOS)),
        "cv.docx": docx_bytes(MAYA),
        "cv.odt": odt_bytes(NIKOS),
        "cv.rtf": (rtf_text(NIKOS), plain(NIKOS)),
        "cv.html": (html_text(JO), plain(JO)),
        "cv.txt": (plain(NIKOS), plain(NIKOS)),
    }
    for name, (data, text) in good.items():
        write(name, data)
        expected(name, text)
    # Bad files.
    write("bad-encrypted.pdf", encrypted_pdf())
    write("bad-scan.pdf", scanned_pdf())
    pdf = good["one-column.pdf"][0]
    write("bad-truncated.pdf", pdf[: len(pdf) // 3])
    docx = good["cv.docx"][0]
    write("bad-truncated.docx", docx[: len(docx) // 2])
    write("bad-bomb.docx", zip_bomb())
    write("bad-image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


if __name__ == "__main__":
    main()
