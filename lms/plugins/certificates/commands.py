"""`lms certificates verify FILE.json [--issuer FILE] [--status FILE]`.

Works for anyone, in any installation or none: the issuer's key comes from where the proof's
verificationMethod points (did:web → its did.json, an https URL → that document), and revocation
from the status list the credential names; both over HTTP, or from files given for offline use.
Nothing of this installation (database, keys) is consulted."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

VALID, TAMPERED, REVOKED, UNREADABLE, STATUS_UNKNOWN = 0, 1, 2, 3, 4
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TIMEOUT_SECONDS = 10
MAX_DOCUMENT_BYTES = 2_000_000
ACCEPT = "application/did+ld+json, application/ld+json, application/vc+ld+json, application/json;q=0.9"


class Unresolved(Exception):
    """A document the check needs could not be had; the message says which and why (Vietnamese)."""


def verify_command(
    path: str = typer.Argument(..., help="Tệp chứng nhận đã tải về (.json)."),
    issuer: str | None = typer.Option(None, "--issuer", help="Tài liệu DID hoặc hồ sơ đơn vị cấp (.json), "
                                      "để kiểm tra không cần mạng."),
    status: str | None = typer.Option(None, "--status", help="Danh sách trạng thái (.json), để kiểm tra "
                                      "thu hồi không cần mạng."),
) -> None:
    """Kiểm tra chứng nhận: hợp lệ, bị sửa đổi hay đã thu hồi."""
    raise typer.Exit(verify_file(path, issuer_file=issuer, status_file=status))


def verify_file(path: str, *, issuer_file: str | None = None, status_file: str | None = None,
                fetch: Callable[[str], Any] | None = None) -> int:
    """Check one credential and print the verdict in Vietnamese; returns the exit code."""
    try:
        document = _read_json(path)
        given = [_read_json(p) for p in (issuer_file, status_file) if p]
    except Unresolved as exc:
        typer.echo(str(exc), err=True)
        return UNREADABLE
    documents = {d["id"]: d for d in given if isinstance(d, dict) and isinstance(d.get("id"), str)}
    # A file given stands for what would be fetched: with --issuer no key is fetched, with
    # --status no status list.
    resolver = _Resolver(documents, fetch or _fetch, keys_offline=bool(issuer_file))
    return _verify(document, resolver, status_offline=bool(status_file))


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise Unresolved(f"Không đọc được tệp {path}: {exc}") from exc


def _fetch(url: str) -> Any:
    if not url.startswith(("https://", "http://")):
        raise Unresolved(f"Không tải được {url}: chỉ hỗ trợ địa chỉ http(s).")
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": "hocvuso-verify"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unresolved(f"Không tải được {url}: {reason}") from exc
    if len(body) > MAX_DOCUMENT_BYTES:
        raise Unresolved(f"Không tải được {url}: tài liệu quá lớn.")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Unresolved(f"{url} không phải JSON.") from exc


class _Resolver:
    """Documents by URL: the files given first, then (unless offline) over HTTP, each once."""

    def __init__(self, documents: dict[str, Any], fetch: Callable[[str], Any], *, keys_offline: bool) -> None:
        self.documents = documents
        self.fetch = fetch
        self.keys_offline = keys_offline
        self.controllers: dict[str, str] = {}  # verificationMethod → its controller

    def document(self, identifier: str, *, offline: bool) -> Any:
        from lms.plugins.certificates.credential import did_web_url

        if identifier in self.documents:
            return self.documents[identifier]
        if offline:
            raise Unresolved(f"Không có tài liệu {identifier} trong các tệp đã cho.")
        try:
            url = did_web_url(identifier) if identifier.startswith("did:web:") else identifier
        except ValueError as exc:
            raise Unresolved(f"Mã định danh không hợp lệ: {identifier}") from exc
        document = self.fetch(url)
        self.documents[identifier] = document
        return document

    def public_key(self, method: str) -> Any:
        """The key of a verification method its controller authorises for assertions."""
        from lms.plugins.certificates.credential import public_key_from_multibase

        if method.startswith("did:key:"):
            multibase = method[len("did:key:"):].split("#", 1)[0]
            self.controllers[method] = method.split("#", 1)[0]
            return public_key_from_multibase(multibase)
        controller_id = method.split("#", 1)[0]
        controller = self.document(controller_id, offline=self.keys_offline)
        if not isinstance(controller, dict):
            return None
        methods = [m for m in controller.get("verificationMethod") or [] if isinstance(m, dict)]
        found = next((m for m in methods if m.get("id") == method), None)
        allowed = {m if isinstance(m, str) else m.get("id") for m in controller.get("assertionMethod") or []
                   if isinstance(m, str | dict)}
        if found is None or method not in allowed or found.get("type") != "Multikey":
            return None
        self.controllers[method] = str(found.get("controller", controller_id))
        return public_key_from_multibase(found.get("publicKeyMultibase"))


def _issuer_id(document: dict) -> str:
    issuer = document.get("issuer")
    return str(issuer.get("id", "")) if isinstance(issuer, dict) else str(issuer or "")


def _signed_by_issuer(document: Any, resolver: _Resolver) -> tuple[bool, list[str]]:
    """(every proof verifies and was made by the document's issuer, the cryptosuites checked)."""
    from lms.plugins.certificates.credential import check_proofs

    if not isinstance(document, dict):
        return False, []
    failures: list[Unresolved] = []

    def key_for(method: str) -> Any:
        try:
            return resolver.public_key(method)
        except Unresolved as exc:
            failures.append(exc)
            return None

    checks = check_proofs(document, key_for)
    if failures:
        raise failures[0]
    issuer = _issuer_id(document)
    # The issuer named in the credential must control the key (its DID, or before 0014 the
    # issuer URL the key's id starts with).
    bound = all(issuer and issuer in (resolver.controllers.get(c.verification_method), c.verification_method
                                      .split("#", 1)[0]) for c in checks)
    return bool(checks) and bound and all(c.valid for c in checks), [c.cryptosuite for c in checks]


def _vietnam_time(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return moment.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y (giờ Việt Nam)")


def _status_entries(document: dict) -> list[dict]:
    status = document.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if status else []
    return [e for e in entries if isinstance(e, dict)]


def _revoked(document: dict, entry: dict, resolver: _Resolver, *, offline: bool) -> tuple[bool, str]:
    """(the entry's bit is set, when the list was last changed); Unresolved when it cannot be told."""
    from lms.plugins.certificates.credential import decode_status_list, status_bit

    url = entry.get("statusListCredential")
    if entry.get("type") != "BitstringStatusListEntry" or not isinstance(url, str):
        raise Unresolved("Chứng nhận ghi một kiểu trạng thái không hỗ trợ.")
    if offline and url not in resolver.documents:
        raise Unresolved(f"Tệp --status không phải danh sách {url}.")
    status_list = resolver.document(url, offline=offline)
    if not isinstance(status_list, dict) or status_list.get("id") != url:
        raise Unresolved(f"{url} không phải danh sách trạng thái.")
    signed, _ = _signed_by_issuer(status_list, resolver)
    if not signed or _issuer_id(status_list) != _issuer_id(document):
        raise Unresolved(f"Danh sách trạng thái {url} không có chữ ký hợp lệ của đơn vị cấp.")
    subject = status_list.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise Unresolved(f"{url} không phải danh sách thu hồi.")
    try:
        bit = status_bit(decode_status_list(subject.get("encodedList")), int(entry.get("statusListIndex")))
    except (ValueError, TypeError) as exc:
        raise Unresolved(f"Không đọc được danh sách trạng thái {url}.") from exc
    return bit, _vietnam_time(status_list.get("validFrom"))


def _verify(document: Any, resolver: _Resolver, *, status_offline: bool) -> int:
    from lms.plugins.certificates.credential import learner_name_of

    if not isinstance(document, dict):
        typer.echo("BỊ SỬA ĐỔI: tệp không phải một chứng nhận.")
        return TAMPERED
    try:
        signed, suites = _signed_by_issuer(document, resolver)
    except Unresolved as exc:
        typer.echo(f"KHÔNG KIỂM TRA ĐƯỢC chữ ký: {exc}", err=True)
        return UNREADABLE
    if not signed:
        typer.echo("BỊ SỬA ĐỔI: chữ ký không khớp với nội dung (hoặc không do đơn vị ghi trên chứng nhận cấp).")
        return TAMPERED
    name = learner_name_of(document)
    subject = document.get("credentialSubject") or {}
    course = (subject.get("achievement") or {}).get("name", "") if isinstance(subject, dict) else ""
    issuer = document.get("issuer")
    issuer_name = issuer.get("name", "") if isinstance(issuer, dict) else ""
    what = (f"chứng nhận của {name}, khóa học «{course}», do {issuer_name} cấp lúc "
            f"{_vietnam_time(document.get('awardedDate') or document.get('validFrom'))}")
    entries = [e for e in _status_entries(document) if e.get("statusPurpose") == "revocation"]
    if not entries:
        typer.echo(f"HỢP LỆ: {what}; chữ ký đúng ({', '.join(suites)}). Chứng nhận cấp theo định dạng cũ, "
                   f"không kèm danh sách thu hồi: xem tình trạng tại {document.get('id', '')}.")
        return VALID
    try:
        results = [_revoked(document, entry, resolver, offline=status_offline) for entry in entries]
    except Unresolved as exc:
        typer.echo(f"CHƯA RÕ TÌNH TRẠNG: {what}; chữ ký đúng, nhưng không kiểm tra được việc thu hồi: {exc}")
        return STATUS_UNKNOWN
    updated = results[0][1]
    if any(bit for bit, _ in results):
        typer.echo(f"ĐÃ THU HỒI: {what}; chứng nhận không còn giá trị (theo danh sách thu hồi của đơn vị cấp, "
                   f"cập nhật lúc {updated}).")
        return REVOKED
    typer.echo(f"HỢP LỆ: {what}; chữ ký đúng ({', '.join(suites)}); chưa bị thu hồi (danh sách thu hồi "
               f"cập nhật lúc {updated}).")
    return VALID
