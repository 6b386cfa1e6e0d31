"""The gateways: a generic HTTP one for providers' REST APIs, and one for development."""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from lms.core.recovery_services import SMS_FAILED
from lms.errors import ServiceError

_PLACEHOLDER = re.compile(r"\{(phone|phone84|text)\}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the auth header to wherever a redirect points: a 3xx is a failure.
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


# Proxies from the environment (HTTPS_PROXY…) still apply, as an installation may need them.
_OPENER = urllib.request.build_opener(_NoRedirects())


def _failed(code: str) -> ServiceError:
    # The code (a status, "timeout") is what the log shows; never the phone, the text, the answer.
    return ServiceError(code, SMS_FAILED, 503)


def _escaper(content_type: str) -> Callable[[str], str]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return lambda value: json.dumps(value, ensure_ascii=False)[1:-1]
    if kind == "application/x-www-form-urlencoded":
        return urllib.parse.quote_plus
    if kind.endswith("/xml") or kind.endswith("+xml"):
        return lambda value: xml_escape(value, {'"': "&quot;", "'": "&apos;"})
    return lambda value: value


def fill(template: str, values: dict[str, str], escape: Callable[[str], str]) -> str:
    """One pass, so a text that happens to contain "{phone}" is not filled in again."""
    return _PLACEHOLDER.sub(lambda match: escape(values[match.group(1)]), template)


class HttpGateway:
    """Any provider with a REST API: the URL, method, auth header and body come from settings.

    {phone} is 0xxxxxxxxx, {phone84} 84xxxxxxxxx (what Zalo ZNS and many brandname APIs want),
    {text} the message. A 2xx answer (containing LMS_SMS_HTTP_SUCCESS_TEXT, if set) is sent;
    anything else, a redirect or no answer within the timeout, is a failure."""

    name = "http"
    label = "Nhà cung cấp SMS/Zalo ZNS (HTTP)"
    typical_seconds = 0.5  # a guess until real sends are timed

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def request(self, phone: str, text: str) -> urllib.request.Request:
        settings = self.settings
        values = {"phone": phone, "phone84": "84" + phone[1:], "text": text}
        url = fill(settings.sms_http_url, values, lambda value: urllib.parse.quote(value, safe=""))
        method = settings.sms_http_method.strip().upper() or "POST"
        headers = {"User-Agent": "hocvuso-sms/1"}
        data = None
        if method not in ("GET", "HEAD"):
            data = fill(settings.sms_http_body, values, _escaper(settings.sms_http_content_type)).encode()
            headers["Content-Type"] = settings.sms_http_content_type
        line = settings.sms_http_auth_header.strip()
        if line:
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise _failed("bad_auth_header_setting")
            headers[name.strip()] = value.strip()
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise _failed("bad_url_setting")
        return urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - checked above

    def send(self, phone: str, text: str) -> None:
        request = self.request(phone, text)
        try:
            with _OPENER.open(request, timeout=self.settings.sms_http_timeout_seconds) as response:
                status = response.status
                answer = response.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            exc.close()
            raise _failed(f"http_{exc.code}") from None
        except TimeoutError:
            raise _failed("timeout") from None
        except urllib.error.URLError as exc:
            reason = "timeout" if isinstance(exc.reason, TimeoutError) else "unreachable"
            raise _failed(reason) from None
        except OSError:
            raise _failed("unreachable") from None
        if not 200 <= status < 300:
            raise _failed(f"http_{status}")
        expected = self.settings.sms_http_success_text
        if expected and expected not in answer:
            raise _failed("unexpected_answer")


class DevGateway:
    """Sends nothing: keeps the message for admins (and the person's commune staff) at /staff/sms."""

    name = "dev"
    label = "Thử nghiệm: tin nhắn hiện ở trang /staff/sms"
    typical_seconds = 0.0

    def __init__(self, context: Any) -> None:
        self.context = context

    def send(self, phone: str, text: str) -> None:
        from lms.plugins.sms.services import keep_message

        keep_message(self.context, phone=phone, text=text)
