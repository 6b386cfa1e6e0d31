"""Small charts drawn on the server as inline SVG: no script, readable on a 360 px phone.

Each chart is an image with a title for screen readers; the page always shows the
same numbers in a table beside it. Markup.format escapes every value put in."""

from markupsafe import Markup

WIDTH = 340
LABEL_CHARS = 44


def number(value: float | None, unit: str = "") -> str:
    """Vietnamese style: 12.345 and 72,5; "—" when there is nothing to divide."""
    if value is None:
        return "—"
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", ".")
    else:
        text = f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text}%" if unit == "%" else text


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _open(chart_id: str, title: str, height: int) -> list[Markup]:
    return [Markup('<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="{}-title" '
                   'xmlns="http://www.w3.org/2000/svg">').format(WIDTH, height, chart_id),
            Markup('<title id="{}-title">{}</title>').format(chart_id, title)]


def bars(chart_id: str, title: str, rows: list[tuple[str, float | None]], unit: str = "") -> Markup:
    """Horizontal bars, the label above each bar: long Vietnamese names fit a phone."""
    label_h, bar_h, gap, top = 17, 14, 9, 2
    row_h = label_h + bar_h + gap
    largest = max((v for _, v in rows if v), default=0) or 1
    # Percentages keep 100 % as the full bar; counts scale to the largest.
    full = 100 if unit == "%" else largest
    parts = _open(chart_id, title, top + row_h * max(1, len(rows)))
    for index, (label, value) in enumerate(rows):
        y = top + index * row_h
        width = round(250 * (value or 0) / full, 1)
        if value and width < 2:
            width = 2  # a small non-zero value stays visible
        parts.append(Markup('<text class="chart-label" x="0" y="{}">{}</text>').format(y + 13, _short(label)))
        parts.append(Markup('<rect class="chart-bar" fill="#0b5394" x="0" y="{}" width="{}" height="{}" rx="2"/>')
                     .format(y + label_h, width, bar_h))
        parts.append(Markup('<text class="chart-value" x="{}" y="{}">{}</text>')
                     .format(width + 5, y + label_h + 12, number(value, unit)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def columns(chart_id: str, title: str, points: list[tuple[str, float | None]]) -> Markup:
    """Vertical bars over time (weeks); the first, middle and last are labelled."""
    height, left, bottom, top = 170, 34, 140, 12
    count = max(1, len(points))
    step = (WIDTH - left - 4) / count
    largest = max((v for _, v in points if v), default=0) or 1
    parts = _open(chart_id, title, height)
    parts.append(Markup('<line stroke="#767676" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(left, bottom, WIDTH - 2,
                                                                                           bottom))
    parts.append(Markup('<line stroke="#c8c8c8" x1="{}" y1="{}" x2="{}" y2="{}"/>').format(left, top, WIDTH - 2, top))
    parts.append(Markup('<text class="chart-value" x="{}" y="{}" text-anchor="end">{}</text>')
                 .format(left - 4, top + 4, number(largest)))
    parts.append(Markup('<text class="chart-value" x="{}" y="{}" text-anchor="end">0</text>')
                 .format(left - 4, bottom + 4))
    labelled = {0, count // 2, count - 1}
    for index, (label, value) in enumerate(points):
        bar_h = round((bottom - top) * (value or 0) / largest, 1)
        x = round(left + index * step + step * 0.15, 1)
        bar_w = round(step * 0.7, 1)
        parts.append(Markup('<rect class="chart-bar" fill="#0b5394" x="{}" y="{}" width="{}" height="{}">'
                            '<title>{}: {}</title></rect>')
                     .format(x, round(bottom - bar_h, 1), bar_w, bar_h, label, number(value)))
        if index in labelled:
            anchor, tx = "middle", round(x + bar_w / 2, 1)
            if index == 0:
                anchor, tx = "start", x
            elif index == count - 1:
                anchor, tx = "end", round(x + bar_w, 1)
            parts.append(Markup('<text class="chart-label" x="{}" y="{}" text-anchor="{}">{}</text>')
                         .format(tx, bottom + 18, anchor, label.split("–")[0]))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
