"""Hostile uploads: build them (xlsx bombs with zipfile, odd CSVs), then time the worst reads.

``python -m benchmarks.hostile`` reads every hostile file of :func:`hostile_uploads` with the
dashboard's default limits (:class:`profiler.partner.ReadLimits`), each in a fresh measurement:
wall time, peak Python allocation (``tracemalloc``) and the process's peak RSS growth. It prints
one line per file and the worst figures, and exits 1 if any read raised anything but
``PartnerDataError`` (an unhandled error) or passed 5 s / 100 MB.

The builders are plain functions, so the unit tests make their own (smaller, generated) files
with them; the suite does not depend on these exact payloads.

    python -m benchmarks.hostile [--big]   # --big adds the 600k-row and 1.2M-cell workbooks
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from profiler.partner import MAX_BYTES

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>{doctype}'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '{dimension}<sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"


def column_letters(n: int) -> str:
    """1 -> ``A``, 16384 -> ``XFD``."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _cell(ref: str, value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_xml(rows: Iterable[list], *, dimension: str | None = None,
              extra: Iterable[tuple[str, object]] = (), doctype: str = "",
              refs: bool = True) -> Iterator[bytes]:
    """The sheet XML in chunks: ``rows`` from A1, then ``extra`` cells (``("XFD1048576", 1)``).

    ``dimension`` writes a ``<dimension ref=...>`` (which may lie); ``refs=False`` leaves out the
    optional ``r`` attributes.
    """
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    yield SHEET_HEAD.format(doctype=doctype, dimension=dim).encode()
    buf = []
    n = 0
    for n, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{column_letters(j)}{n}", v) if refs else
                        _cell("", v).replace(' r=""', "") for j, v in enumerate(row, start=1))
        buf.append(f'<row r="{n}">{cells}</row>' if refs else f"<row>{cells}</row>")
        if len(buf) >= 5000:
            yield "".join(buf).encode()
            buf = []
    if buf:
        yield "".join(buf).encode()
    for ref, value in extra:
        row_no = "".join(ch for ch in ref if ch.isdigit())
        yield f'<row r="{row_no}">{_cell(ref, value)}</row>'.encode()
    yield SHEET_TAIL.encode()


def xlsx(rows: Iterable[list] = (), *, sheet: Iterable[bytes] | None = None,
         members: dict[str, bytes] | None = None, **kwargs) -> bytes:
    """A minimal .xlsx (what openpyxl needs), its first sheet from ``rows`` or raw ``sheet``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for chunk in (sheet if sheet is not None else sheet_xml(rows, **kwargs)):
                fh.write(chunk)
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def lying_sizes(content: bytes, factor: int = 1000) -> bytes:
    """The same zip with every member's uncompressed size in the central directory cut down."""
    data = bytearray(content)
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        size = int.from_bytes(data[pos + 24:pos + 28], "little")
        data[pos + 24:pos + 28] = max(1, size // factor).to_bytes(4, "little")
        pos += 4
    return bytes(data)


def entity_bomb(levels: int = 9) -> Iterator[bytes]:
    """A sheet whose DOCTYPE defines "billion laughs" entities."""
    ents = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1))
    yield from sheet_xml([["x", f"&a{levels};"]], doctype=f"<!DOCTYPE worksheet [{ents}]>")


def header_rows(n: int, width: int = 4) -> Iterator[list]:
    """A header and ``n`` rows of small numbers."""
    yield [f"col{j}" for j in range(width)]
    for i in range(n):
        yield [i] + [1] * (width - 1)


def hostile_uploads(big: bool = False) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` for every hostile file the benchmark reads."""
    yield "one cell at XFD1048576", xlsx([["a", "b"], [1, 2]], extra=[("XFD1048576", 1)])
    yield "lying dimension A1:XFD1048576", xlsx([["a", "b"], [1, 2]],
                                                dimension="A1:XFD1048576")
    yield "lying dimension A1:A1, 510k rows", xlsx(header_rows(510_000, 1), dimension="A1:A1")
    yield "cells without r, 520k rows", xlsx(header_rows(520_000, 1), refs=False)
    yield "1.2M cells, 8 columns", xlsx(header_rows(150_000, 8))
    yield "row 1048576 only", xlsx(extra=[("A1048576", 1)])
    yield "entity bomb", xlsx(sheet=entity_bomb())
    yield "sizes lie in the zip directory", lying_sizes(xlsx(header_rows(50_000, 4)))
    yield "2,000 zip members", xlsx([["a"], [1]], members={f"x/{i}": b"" for i in range(2000)})
    yield "60 MB of zeros in a member", xlsx(
        [["a"], [1]], members={"xl/media/zero.bin": bytes(60_000_000)})
    yield "deeply nested XML", xlsx(sheet=[SHEET_HEAD.format(doctype="", dimension="").encode(),
                                           b"<row>" + b"<x>" * 200_000 + b"</x>" * 200_000,
                                           b"</row>", SHEET_TAIL.encode()])
    yield "truncated zip", xlsx([["a"], [1]])[:-30]
    yield "csv: 500,001 rows", b"a,b\n" + b"1,2\n" * 500_001
    near = MAX_BYTES - 1_000  # the largest upload accepted, less a little
    yield f"csv: one {near / 1e6:.0f} MB line", b"a," + b"x" * near + b"\n"
    yield "csv: 190 columns, as many rows as fit", (",".join(f"c{i}" for i in range(190)) + "\n"
                                                    ).encode() + ((",".join("1" * 190) + "\n")
                                                                  .encode() * (near // 380))
    yield "csv: 8 short columns, as many rows as fit", b"a,b,c,d,e,f,g,h\n" + (
        b"1,2,3,4,5,6,7,8\n" * (near // 16))
    if big:
        yield "600k rows", xlsx(header_rows(600_000, 7))
        yield "XFD1048576 with a lying dimension A1:B2", xlsx(
            [["a", "b"], [1, 2]], extra=[("XFD1048576", 1)], dimension="A1:B2")


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _read(content: bytes, name: str) -> str:
    from profiler.partner import PartnerDataError, read_table_upload

    try:
        frame = read_table_upload(content, name + ".upload", max_bytes=MAX_BYTES)
        return f"read ({len(frame):,} rows)"
    except PartnerDataError as exc:
        return "refused: " + str(exc)[:90]
    except Exception as exc:  # noqa: BLE001 (the point: report anything unhandled)
        return f"UNHANDLED {type(exc).__name__}: {exc}"[:120]


def measure(content: bytes, name: str) -> tuple[float, float, str]:
    """Read one file with the default limits: (seconds, peak MB allocated, outcome).

    Timed without tracing (tracemalloc slows Python down several times), then read again under
    ``tracemalloc`` for the peak allocation.
    """
    started = time.perf_counter()
    outcome = _read(content, name)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    _read(content, name)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak, outcome


def main(argv: list[str] | None = None) -> int:
    """Time and size every hostile read; exit 1 on an unhandled error or a blown budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="add the largest workbooks")
    args = parser.parse_args(argv)
    worst_s = worst_mb = 0.0
    unhandled = 0
    rss0 = _rss_kb()
    count = 0
    for name, content in hostile_uploads(args.big):
        count += 1
        seconds, peak, outcome = measure(content, name)
        worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak)
        unhandled += outcome.startswith("UNHANDLED")
        print(f"{name:42} {len(content):>11,} B {seconds:6.2f} s {peak:7.1f} MB  {outcome}",
              flush=True)
        del content
    rss = (_rss_kb() - rss0) / 1024
    print(f"{count} hostile files: worst {worst_s:.2f} s, worst peak allocation {worst_mb:.1f} MB"
          f" (tracemalloc), process peak RSS growth {rss:.0f} MB; {unhandled} unhandled")
    return 1 if unhandled or worst_s > 5 or worst_mb > 100 else 0


if __name__ == "__main__":
    sys.exit(main())
