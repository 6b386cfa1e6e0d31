"""The current dashboard view as CSV, as an XLSX periodic report, and as the printable report's table."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from lms.core.services import AUDIENCES
from lms.plugins.stats.services import Dashboard, Table
from lms.text import official_date

REPORT_TITLE = "Báo cáo kết quả thực hiện phong trào Bình dân học vụ số"
UNITS = {"người": "Người", "lượt": "Lượt", "%": "%", "chứng nhận": "Chứng nhận"}


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is kept as text (a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def filter_lines(board: Dashboard) -> list[str]:
    filters = board.filters
    parts = []
    if filters.audience:
        parts.append(f"Nhóm: {AUDIENCES[filters.audience]}")
    if filters.course:
        parts.append(f"Khóa học: {filters.course.label}")
    return parts


# --- The periodic report's table: one row per indicator, one column per audience --------------


@dataclass
class ReportTable:
    columns: list[str]
    rows: list[tuple[int, str, str, list[float | None]]]  # number, indicator, unit, values per column


def report_table(board: Dashboard) -> ReportTable:
    table = board.tables["audience"]
    columns = [row.label for row in table.rows] + ["Tổng cộng"]
    rows = []
    for number, column in enumerate(table.columns, 1):
        values = [row.values.get(column.key) for row in table.rows]
        values.append(table.total.values.get(column.key) if table.total else None)
        rows.append((number, column.label, UNITS.get(column.unit, column.unit.capitalize()), values))
    return ReportTable(columns, rows)


# --- CSV ------------------------------------------------------------------------------------


def _table_rows(table: Table, keys: list[str]) -> list[list[Any]]:
    rows = []
    for row in table.rows + ([table.total] if table.total else []):
        rows.append([table.title, safe_cell(row.label)] + [row.values.get(key) for key in keys])
    return rows


def all_columns(board: Dashboard) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for table in board.tables.values():
        for column in table.columns:
            seen.setdefault(column.key, column.label)
    return list(seen.items())


def to_csv(board: Dashboard) -> bytes:
    """A title block, then one table: section, row, and every figure as a column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([REPORT_TITLE])
    writer.writerow(["Đơn vị", safe_cell(board.scope_name)])
    writer.writerow(["Kỳ báo cáo", board.period_label])
    for line in filter_lines(board):
        writer.writerow(["Bộ lọc", safe_cell(line)])
    writer.writerow([])
    columns = all_columns(board)
    writer.writerow(["Phần", "Mục"] + [label for _, label in columns])
    for table in board.tables.values():
        writer.writerows(_table_rows(table, [key for key, _ in columns]))
    # The byte order mark makes Excel read UTF-8, so Vietnamese letters stay intact.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------------

PERCENT_FORMAT = '0.0"%"'


def sheet_name(name: str, table: Table) -> str:
    # Sheet names may not contain "/" (nor \ ? * [ ] :) and hold at most 31 characters.
    if name == "place":
        return "Theo thôn" if table.member_label.startswith("Thôn") else "Theo xã"
    return {"audience": "Theo nhóm", "course": "Theo khóa học", "week": "Theo tuần"}.get(name, name[:31])


def to_xlsx(board: Dashboard, *, today: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.properties.title = REPORT_TITLE
    sheet = book.active
    sheet.title = "Báo cáo"
    report = report_table(board)
    width = 3 + len(report.columns)
    last = get_column_letter(width)
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    # Heading as in an administrative document (Decree 30/2020/NĐ-CP): issuer left, motto right.
    issuer = board.filters.commune.name if board.filters.commune else board.scope_name
    half = get_column_letter(max(2, width // 2))
    sheet.merge_cells(f"A1:{half}1")
    sheet.merge_cells(f"A2:{half}2")
    sheet["A1"] = "ỦY BAN NHÂN DÂN"
    sheet["A2"] = safe_cell(issuer.upper())
    right = get_column_letter(width // 2 + 1)
    sheet.merge_cells(f"{right}1:{last}1")
    sheet.merge_cells(f"{right}2:{last}2")
    sheet[f"{right}1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    sheet[f"{right}2"] = "Độc lập - Tự do - Hạnh phúc"
    for cell in ("A1", "A2", f"{right}1", f"{right}2"):
        sheet[cell].font, sheet[cell].alignment = bold, centre
    lines = ["BÁO CÁO", "Kết quả thực hiện phong trào Bình dân học vụ số",
             f"Kỳ báo cáo: {board.period_label}", f"Đơn vị: {board.scope_name}"] + filter_lines(board)
    row = 4
    for index, text in enumerate(lines):
        sheet.merge_cells(f"A{row}:{last}{row}")
        sheet[f"A{row}"] = safe_cell(text)
        sheet[f"A{row}"].alignment = centre
        sheet[f"A{row}"].font = Font(bold=index < 2, size=14 if index == 0 else 12)
        row += 1
    row += 1
    header = ["STT", "Chỉ tiêu", "Đơn vị tính"] + report.columns
    for col, text in enumerate(header, 1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font, cell.alignment, cell.border = bold, centre, box
    header_row = row
    for number, label, unit, values in report.rows:
        row += 1
        for col, value in enumerate([number, label, unit] + values, 1):
            cell = sheet.cell(row=row, column=col, value=value)
            cell.border = box
            if unit == "%" and col > 3:
                cell.number_format = PERCENT_FORMAT
    if board.targets:
        row += 2
        sheet.cell(row=row, column=1, value="Chỉ tiêu đề ra").font = bold
        row += 1
        for col, text in enumerate(["STT", "Nội dung", "Mục tiêu", "Kết quả", "Đạt so với mục tiêu"], 1):
            cell = sheet.cell(row=row, column=col, value=text)
            cell.font, cell.alignment, cell.border = bold, centre, box
        for number, progress in enumerate(board.targets, 1):
            row += 1
            goal = f"{progress.goal}%" if progress.unit == "%" else progress.goal
            for col, value in enumerate([number, safe_cell(progress.description), goal, progress.achieved,
                                         progress.percent_of_goal], 1):
                cell = sheet.cell(row=row, column=col, value=value)
                cell.border = box
                if col == 5 or (col == 4 and progress.unit == "%"):
                    cell.number_format = PERCENT_FORMAT
    row += 2
    place = board.filters.commune.name if board.filters.commune else board.scope_name
    sheet.merge_cells(f"{right}{row}:{last}{row}")
    sheet[f"{right}{row}"] = safe_cell(f"{place}, {official_date(today)}")
    sheet[f"{right}{row}"].alignment = centre
    sheet[f"{right}{row}"].font = Font(italic=True)
    row += 1
    sheet.merge_cells(f"A{row}:{half}{row}")
    sheet[f"A{row}"] = "NGƯỜI LẬP BIỂU"
    sheet.merge_cells(f"{right}{row}:{last}{row}")
    sheet[f"{right}{row}"] = "TM. ỦY BAN NHÂN DÂN"
    for cell in (f"A{row}", f"{right}{row}"):
        sheet[cell].font, sheet[cell].alignment = bold, centre
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 42
    sheet.column_dimensions["C"].width = 12
    for col in range(4, width + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 16
    sheet.row_dimensions[header_row].height = 48
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    for name, table in board.tables.items():
        detail = book.create_sheet(sheet_name(name, table))
        detail.append([table.member_label] + [c.label for c in table.columns])
        for cell in detail[1]:
            cell.font, cell.alignment = bold, centre
        for item in table.rows + ([table.total] if table.total else []):
            detail.append([safe_cell(item.label)] + [item.values.get(c.key) for c in table.columns])
        for index, column in enumerate(table.columns, 2):
            if column.unit == "%":
                for cells in detail.iter_rows(min_row=2, min_col=index, max_col=index):
                    cells[0].number_format = PERCENT_FORMAT
        detail.column_dimensions["A"].width = 40
        for index in range(2, len(table.columns) + 2):
            detail.column_dimensions[get_column_letter(index)].width = 16
        detail.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
