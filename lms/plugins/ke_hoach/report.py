"""The periodic report to the People's Committee: the plan's tasks in a period, beside the
commune's learning figures of the same period (from the statistics plugin), on paper and as XLSX."""

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from lms.context import Context
from lms.core.models import Place
from lms.plugins.ke_hoach import services
from lms.plugins.ke_hoach.models import Evidence, Plan
from lms.plugins.ke_hoach.periods import QUARTER_NAMES
from lms.plugins.stats import services as stats
from lms.spreadsheet import safe_cell
from lms.stats_scope import local_today
from lms.text import InvalidInput, official_date

KINDS = {"thang": "Tháng", "quy": "Quý", "nam": "Năm", "khoang": "Từ ngày … đến ngày …"}


@dataclass(frozen=True)
class ReportPeriod:
    kind: str
    start: date
    end: date
    name: str  # "tháng 11/2026"

    @property
    def label(self) -> str:
        return f"{self.name} (từ ngày {self.start:%d/%m/%Y} đến hết ngày {self.end:%d/%m/%Y})"

    def query(self) -> dict[str, str]:
        """The URL parameters that ask for this period again."""
        if self.kind == "thang":
            return {"ky": "thang", "thang": f"{self.start:%Y-%m}"}
        if self.kind == "quy":
            return {"ky": "quy", "quy": str((self.start.month - 1) // 3 + 1), "nam": str(self.start.year)}
        if self.kind == "nam":
            return {"ky": "nam", "nam": str(self.start.year)}
        return {"ky": "khoang", "from": self.start.isoformat(), "to": self.end.isoformat()}


def _year(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 2000 <= int(raw) <= 2100:
        raise InvalidInput("Năm là số có 4 chữ số, từ 2000 đến 2100.")
    return int(raw)


def parse_period(params: Any) -> tuple[ReportPeriod | None, dict[str, str]]:
    """The period asked for in the URL, or field → Vietnamese message."""
    def get(name: str) -> str:
        return str(params.get(name) or "").strip()[:20]

    kind, errors = get("ky"), {}
    try:
        if kind == "thang":
            raw = get("thang")
            match = re.fullmatch(r"(\d{4})-(\d{1,2})", raw) or re.fullmatch(r"(\d{1,2})[/.-](\d{4})", raw)
            if match is None:
                raise InvalidInput("Hãy chọn tháng, ví dụ 11/2026.")
            first, second = match.groups()
            year, month = (int(first), int(second)) if len(first) == 4 else (int(second), int(first))
            if not 1 <= month <= 12:
                raise InvalidInput("Tháng phải từ 1 đến 12.")
            _year(str(year))
            start = date(year, month, 1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return ReportPeriod(kind, start, end, f"tháng {month:02d}/{year}"), {}
        if kind == "quy":
            quarter = get("quy")
            if quarter not in ("1", "2", "3", "4"):
                errors["quy"] = "Hãy chọn quý I, II, III hoặc IV."
            try:
                year = _year(get("nam"))
            except InvalidInput as exc:
                errors["nam"] = str(exc)
            if errors:
                return None, errors
            start = date(year, 3 * int(quarter) - 2, 1)
            end = (date(year, 3 * int(quarter), 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return ReportPeriod(kind, start, end, f"quý {QUARTER_NAMES[int(quarter) - 1]}/{year}"), {}
        if kind == "nam":
            try:
                year = _year(get("nam"))
            except InvalidInput as exc:
                return None, {"nam": str(exc)}
            return ReportPeriod(kind, date(year, 1, 1), date(year, 12, 31), f"năm {year}"), {}
        if kind == "khoang":
            days: dict[str, date | None] = {}
            for name in ("from", "to"):
                try:
                    days[name] = stats.parse_day(get(name))
                    if days[name] is None:
                        errors[name] = "Hãy nhập ngày (ngày/tháng/năm)."
                except InvalidInput as exc:
                    errors[name] = str(exc)
            if not errors and days["to"] < days["from"]:
                errors["to"] = "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu."
            if errors:
                return None, errors
            return ReportPeriod(kind, days["from"], days["to"],
                                f"từ {days['from']:%d/%m/%Y} đến {days['to']:%d/%m/%Y}"), {}
    except InvalidInput as exc:
        return None, {"thang": str(exc)}
    return None, {"ky": "Hãy chọn kỳ báo cáo: tháng, quý, năm hoặc khoảng ngày."}


# --- The report --------------------------------------------------------------------------------


@dataclass
class TaskLine:
    state: services.TaskState
    result: str  # in words: "Hoàn thành ngày 05/11/2026", "Thực hiện 3/4 kỳ", "TRỄ HẠN: …"
    evidence: list[Evidence]  # dated inside the period

    @property
    def task(self) -> Any:
        return self.state.task


@dataclass(frozen=True)
class Figure:
    label: str
    value: float | None
    unit: str
    note: str = ""


@dataclass
class Report:
    plan: Plan
    commune: Place
    period: ReportPeriod
    today: date
    groups: list[tuple[str, list[TaskLine]]]
    late: list[TaskLine]
    counts: dict[str, int]
    figures: list[Figure]
    figures_note: str = ""
    evidence_total: int = 0
    lines: list[TaskLine] = field(default_factory=list)


def _result(state: services.TaskState, today: date) -> str:
    task = state.task
    if state.periods is not None:
        tally = state.periods
        current = [p for p in tally.running if p.start <= today]
        upcoming = len(tally.running) - len(current)
        parts = []
        if tally.due:
            done = f"Thực hiện {len(tally.done)}/{tally.due} kỳ"
            if tally.done:
                done += " (" + "; ".join(p.label for p in tally.done) + ")"
            parts.append(done)
        if tally.missed:
            parts.append(f"Bỏ lỡ {len(tally.missed)} kỳ: " + "; ".join(p.label for p in tally.missed))
        if current:
            parts.append("Đang diễn ra, chưa có minh chứng: " + "; ".join(p.label for p in current))
        if upcoming:
            parts.append(f"{upcoming} kỳ chưa đến")
        if not parts:
            parts.append("Không có kỳ đến hạn trong kỳ báo cáo")
        if task.status in services.SETTLED:
            parts.append(f"Tình trạng: {state.status_label}")
        return ". ".join(parts)
    if task.status == "hoan-thanh":
        when = f" ngày {services.local_day(task.done_at):%d/%m/%Y}" if task.done_at else ""
        return f"Hoàn thành{when}"
    if state.late:
        return state.late_text
    return state.status_label


def build(ctx: Context, db: Session, plan: Plan, period: ReportPeriod, *, today: date | None = None) -> Report:
    """Every task of the plan as it stood in the period, and the learning figures of the commune
    for the same days (up to today, for a period not over yet)."""
    today = today or local_today()
    commune = db.get(Place, plan.commune_id)
    tasks = services.tasks_of(db, plan.id)
    evidence = services.evidence_of(db, [t.id for t in tasks])
    window = (period.start, period.end)
    lines = []
    for task in tasks:
        state = services.assess(task, evidence[task.id], today=today, window=window)
        inside = [e for e in evidence[task.id] if period.start <= services.local_day(e.at) <= period.end]
        lines.append(TaskLine(state, _result(state, today), inside))
    order = list(services.BODIES)
    groups: dict[str, list[TaskLine]] = {}
    for line in lines:
        groups.setdefault(line.task.body, []).append(line)
    grouped = [(services.BODIES.get(body, body), rows) for body, rows in
               sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))]
    late = [line for line in lines if line.state.late]
    counts = {
        "total": len(lines), "done": sum(1 for line in lines if line.state.done), "late": len(late),
        "missed": sum(len(line.state.periods.missed) for line in lines if line.state.periods is not None),
        "with_evidence": sum(1 for line in lines if line.evidence),
    }
    figures, note = learning_figures(ctx, db, commune.id, period, today=today)
    return Report(plan, commune, period, today, grouped, late, counts, figures, note,
                  sum(len(line.evidence) for line in lines), lines)


def learning_figures(ctx: Context, db: Session, commune_id: int, period: ReportPeriod, *,
                     today: date) -> tuple[list[Figure], str]:
    """The statistics dashboard's headline for the commune and the period (as /stats shows it)."""
    if period.start > today:
        return [], "Kỳ báo cáo chưa bắt đầu nên chưa có số liệu học tập."
    end = min(period.end, today)
    view = stats.open_view(ctx, db, {"from": period.start.isoformat(), "to": end.isoformat()},
                           commune_id=commune_id, everywhere=False)
    if view.board is None:
        return [], "Chưa lấy được số liệu học tập cho kỳ này."
    note = "" if end == period.end else f"Số liệu học tập tính đến hết ngày {end:%d/%m/%Y}."
    return [Figure(h.label, h.value, h.unit, h.note) for h in view.board.headline], note


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:.1f}".replace(".", ",")


def file_name(report: Report, suffix: str) -> str:
    period = report.period
    return f"bao-cao-ke-hoach-{report.plan.id}-{period.start.isoformat()}-{period.end.isoformat()}.{suffix}"


# --- XLSX --------------------------------------------------------------------------------------

TITLE = "Báo cáo kết quả thực hiện kế hoạch tuyên truyền"


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    book.properties.title = TITLE
    sheet = book.active
    sheet.title = "Báo cáo"
    bold, wrap = Font(bold=True), Alignment(vertical="top", wrap_text=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    def heading(row: int, text: str, *, size: int = 12, is_bold: bool = True) -> None:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        cell = sheet.cell(row=row, column=1, value=safe_cell(text))
        cell.font, cell.alignment = Font(bold=is_bold, size=size), centre

    sheet.merge_cells("A1:C1")
    sheet.merge_cells("A2:C2")
    sheet["A1"] = safe_cell(f"ỦY BAN NHÂN DÂN {report.commune.name.upper()}")
    sheet["A2"] = "VĂN PHÒNG HĐND VÀ UBND"
    sheet.merge_cells("D1:G1")
    sheet.merge_cells("D2:G2")
    sheet["D1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    sheet["D2"] = "Độc lập - Tự do - Hạnh phúc"
    for name in ("A1", "A2", "D1", "D2"):
        sheet[name].font, sheet[name].alignment = bold, centre
    heading(4, "BÁO CÁO", size=14)
    heading(5, TITLE)
    heading(6, report.plan.title, is_bold=False)
    heading(7, f"Kỳ báo cáo: {report.period.label}", is_bold=False)
    counts = report.counts
    row = 9
    sheet.cell(row=row, column=1, value="I. Tình hình thực hiện nhiệm vụ").font = bold
    row += 1
    sheet.cell(row=row, column=1, value=safe_cell(
        f"Tổng số {counts['total']} nhiệm vụ; hoàn thành {counts['done']}; trễ hạn hoặc bỏ lỡ kỳ {counts['late']} "
        f"(bỏ lỡ {counts['missed']} kỳ); {counts['with_evidence']} nhiệm vụ có minh chứng trong kỳ."))
    row += 1
    header = ["STT", "Mục", "Nhiệm vụ", "Đơn vị chủ trì (phối hợp)", "Thời hạn", "Kết quả trong kỳ", "Minh chứng"]
    for col, text in enumerate(header, 1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font, cell.alignment, cell.border = bold, centre, box
    number_ = 0
    for _body, lines in report.groups:
        for line in lines:
            number_ += 1
            row += 1
            task = line.task
            partners = f" (phối hợp: {task.partners})" if task.partners else ""
            proofs = "\n".join(f"{services.local_day(e.at):%d/%m/%Y}: {e.title}" for e in line.evidence)
            values = [number_, task.section, task.title, line.state.body_label + partners, line.state.timing,
                      line.result, proofs]
            for col, value in enumerate(values, 1):
                cell = sheet.cell(row=row, column=col, value=safe_cell(value))
                cell.border, cell.alignment = box, wrap
    row += 2
    sheet.cell(row=row, column=1, value="II. Kết quả học tập của người dân trong kỳ").font = bold
    if report.figures_note:
        row += 1
        sheet.cell(row=row, column=1, value=safe_cell(report.figures_note)).font = Font(italic=True)
    row += 1
    for col, text in enumerate(["STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú"], 1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font, cell.alignment, cell.border = bold, centre, box
    for index, figure in enumerate(report.figures, 1):
        row += 1
        for col, value in enumerate([index, figure.label, figure.unit, figure.value, figure.note], 1):
            cell = sheet.cell(row=row, column=col, value=safe_cell(value))
            cell.border = box
    row += 2
    sheet.merge_cells(start_row=row, start_column=4, end_row=row, end_column=7)
    sheet.cell(row=row, column=4, value=safe_cell(f"{report.commune.name}, {official_date(report.today)}")).font = \
        Font(italic=True)
    row += 1
    sheet.cell(row=row, column=1, value="NGƯỜI LẬP BÁO CÁO").font = bold
    sheet.merge_cells(start_row=row, start_column=4, end_row=row, end_column=7)
    sheet.cell(row=row, column=4, value="VĂN PHÒNG HĐND VÀ UBND").font = bold
    for letter, width in zip("ABCDEFG", (6, 9, 48, 28, 18, 36, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    detail = book.create_sheet("Minh chứng")
    detail.append(["Mục", "Nhiệm vụ", "Ngày", "Minh chứng", "Nhóm", "Địa chỉ"])
    for cell in detail[1]:
        cell.font, cell.alignment = bold, centre
    for line in report.lines:
        for proof in line.evidence:
            detail.append([safe_cell(line.task.section), safe_cell(line.task.title), services.local_day(proof.at),
                           safe_cell(proof.title), safe_cell(proof.group), safe_cell(proof.url)])
    for row_cells in detail.iter_rows(min_row=2, min_col=3, max_col=3):
        row_cells[0].number_format = "DD/MM/YYYY"
    for letter, width in zip("ABCDEF", (9, 48, 12, 48, 22, 40), strict=True):
        detail.column_dimensions[letter].width = width
    detail.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
