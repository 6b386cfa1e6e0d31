"""QR codes for printed links: certificates, event posters, tickets, login cards.

`qr_png` feeds PDFs; `qr_svg` is inlined in HTML pages, where CSS sizes it, and remembered per
worker (a ticket is opened again and again; drawing its code was a fifth of the page's time).
Both use error correction level M (about 15 % of the code can be damaged or covered,
e.g. by a stamp or a fold, and it still scans).
"""

import functools
import io
import re

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathFillImage

_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def _qr(data: str, *, box_size: int = 10, border: int = 4) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """PNG bytes of a black-on-white QR code for `data`; `border` is the quiet zone in modules."""
    image = _qr(data, box_size=box_size, border=border).make_image()
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


# The opening tag's fixed size (in mm) would stop CSS from sizing the code.
_SIZE_ATTRIBUTE = re.compile(r'\s(?:width|height)="[^"]*"')


@functools.lru_cache(maxsize=512)
def qr_svg(data: str) -> str:
    """An inline `<svg>` element (one `<path>`, white background, `viewBox` set, no fixed width or
    height) for an HTML page; give it a size with CSS."""
    image = _qr(data).make_image(image_factory=SvgPathFillImage)
    svg = image.to_string(encoding="unicode")
    head, sep, body = svg.partition(">")
    head = _SIZE_ATTRIBUTE.sub("", head) + ' shape-rendering="crispEdges"'
    # The path's id would repeat if a page showed two codes.
    body = body.replace(' id="qr-path"', "")
    return head + sep + body
