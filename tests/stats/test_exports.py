"""The current view as CSV, as an XLSX periodic report and as a printable A4 report."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.factories import login, post_form, text_of
from tests.stats.statstools import build_town

AUDIENCE_COLUMNS = ["Cán bộ, công chức, viên chức", "Doanh nghiệp, hộ kinh doanh", "Tổ công nghệ số cộng đồng",
                    "Người dân", "Tổng cộng"]
TRAP = '=HYPERLINK("http://lua-dao.example","Bấm vào đây")'


@pytest.fixture
def town(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    login(client, town.staff.phone)
    # A village name typed by staff that a spreadsheet would run as a formula.
    east = town.places.villages[0]
    renamed = post_form(client, f"/staff/villages/{east.id}", {"name": TRAP}, page="/staff/villages")
    assert renamed.status_code == 303, renamed.text
    return town


def test_csv_is_utf8_with_bom_and_neutralises_formulas(client, town):
    response = client.get("/stats/export.csv?audience=&to=" + town.days["D0"].isoformat())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="thong-ke-xa-minh-chau-tu-dau-') and ".csv" in disposition
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Báo cáo kết quả thực hiện phong trào Bình dân học vụ số"]
    assert rows[1] == ["Đơn vị", "Xã Minh Châu"]
    assert rows[2][0] == "Kỳ báo cáo" and rows[2][1].startswith("từ khi bắt đầu đến hết ngày")
    header = rows[4]
    assert header[:3] == ["Phần", "Mục", "Người học (lũy kế)"]
    table = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[5:]}
    officials = table[("Theo nhóm đối tượng", "Cán bộ, công chức, viên chức")]
    assert (officials["Người học (lũy kế)"], officials["Lượt hoàn thành bài học"],
            officials["Tỷ lệ đạt bài kiểm tra"]) == ("2", "3", "50.0")
    assert table[("Theo nhóm đối tượng", "Tổng cộng")]["Tỷ lệ đạt bài kiểm tra"] == "66.7"
    # The trap is text: a leading quote, never a formula; and no cell starts with = + - @.
    assert table[("Theo thôn/tổ dân phố", "'" + TRAP)]["Người học (lũy kế)"] == "3"
    assert not any(cell[:1] in "=+-@" and cell for row in rows for cell in row)
    assert table[("Theo khóa học", "Khóa không kiểm tra")]["Khóa học đã hoàn thành"] == "1"
    assert sum(int(r["Lượt hoàn thành bài học"] or 0) for (part, _), r in table.items() if part == "Theo tuần") == 8


def test_xlsx_is_a_periodic_report_with_detail_sheets(client, town):
    saved = post_form(client, "/stats/targets", {"audience": "can-bo", "kind": "hoan-thanh",
                                                 "course": "khoa-kiem-tra", "value": "80"}, page="/stats/targets")
    assert saved.status_code == 303
    start, end = town.days["D40"], town.days["D0"]
    response = client.get(f"/stats/export.xlsx?from={start.isoformat()}&to={end.isoformat()}")
    assert response.status_code == 200
    assert response.headers["content-type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Báo cáo", "Theo nhóm", "Theo thôn", "Theo khóa học", "Theo tuần"]
    assert book.properties.title == "Báo cáo kết quả thực hiện phong trào Bình dân học vụ số"
    sheet = book["Báo cáo"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "ỦY BAN NHÂN DÂN" and cells[1][0] == "XÃ MINH CHÂU"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells[0] and "Độc lập - Tự do - Hạnh phúc" in cells[1]
    assert cells[3][0] == "BÁO CÁO"
    assert cells[4][0] == "Kết quả thực hiện phong trào Bình dân học vụ số"
    assert cells[5][0] == f"Kỳ báo cáo: từ ngày {start:%d/%m/%Y} đến hết ngày {end:%d/%m/%Y}"
    assert cells[6][0] == "Đơn vị: Xã Minh Châu"
    header = next(i for i, row in enumerate(cells) if row[0] == "STT")
    assert cells[header] == ["STT", "Chỉ tiêu", "Đơn vị tính", *AUDIENCE_COLUMNS]
    indicators = {row[1]: row[2:] for row in cells[header + 1:header + 13] if row[0]}
    assert indicators["Người học (lũy kế)"] == ["Người", 2, 1, 0, 2, 5]
    assert indicators["Đăng ký mới trong kỳ"] == ["Người", 2, 1, 0, 2, 5]
    assert indicators["Hoạt động 30 ngày"] == ["Người", 2, 1, 0, 1, 4]
    assert indicators["Lượt hoàn thành bài học"] == ["Lượt", 3, 2, 0, 3, 8]
    assert indicators["Tỷ lệ đạt bài kiểm tra"] == ["%", 50.0, None, None, 100.0, 66.7]
    assert indicators["Chứng nhận đã cấp"] == ["Chứng nhận", 1, 1, 0, 1, 3]
    assert indicators["Lượt có mặt tại sự kiện"] == ["Lượt", 0, 0, 0, 1, 1]
    rate_row = header + 1 + list(indicators).index("Tỷ lệ đạt bài kiểm tra")
    assert sheet.cell(row=rate_row + 1, column=4).number_format == '0.0"%"'
    target = next(row for row in cells if row[0] == 1 and "hoàn thành khóa" in str(row[1]))
    assert target[1:5] == ["Tỷ lệ cán bộ, công chức, viên chức hoàn thành khóa «Khóa có bài kiểm tra»",
                           "80%", 50.0, 62]
    assert any("NGƯỜI LẬP BIỂU" in row for row in cells) and any("TM. ỦY BAN NHÂN DÂN" in row for row in cells)
    villages = [[c.value for c in row] for row in book["Theo thôn"].iter_rows()]
    assert villages[0][:2] == ["Thôn/tổ dân phố", "Người học (lũy kế)"]
    trap = next(row for row in villages if str(row[0]).endswith("Bấm vào đây\")"))
    assert trap[0] == "'" + TRAP and trap[1] == 3
    assert book["Theo thôn"].cell(row=villages.index(trap) + 1, column=1).data_type == "s"  # not a formula
    courses = {row[0]: row for row in ([c.value for c in r] for r in book["Theo khóa học"].iter_rows())}
    assert courses["Khóa có bài kiểm tra"][1] == 5


def test_printable_report_page(client, town):
    page = client.get("/stats/report?audience=can-bo")
    assert page.status_code == 200
    assert "stats/report." in page.text and "<form" not in page.text
    text = text_of(page.text)
    assert "BÁO CÁO Kết quả thực hiện phong trào Bình dân học vụ số" in text
    assert "Đơn vị: Xã Minh Châu · Nhóm: Cán bộ, công chức, viên chức" in text
    assert "1 Người học (lũy kế) Người 2 2" in text  # officials, then the total of this view
    assert "NGƯỜI LẬP BIỂU" in text and "TM. ỦY BAN NHÂN DÂN" in text
    assert "<svg" in page.text
    css = client.get(client.app.state.static.url("stats/report.css")).text
    assert "@page{size:A4 portrait" in css and "@media print" in css
