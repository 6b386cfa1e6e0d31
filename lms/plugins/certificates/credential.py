"""Open Badges 3.0 credentials signed with a Data Integrity proof (eddsa-jcs-2022)."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

OB_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
CRITERIA = "Hoàn thành tất cả bài học và đạt bài kiểm tra cuối khóa (nếu có)."

# Multicodec prefix (varint 0xed) that marks the bytes after it as a raw Ed25519 public key.
ED25519_PUB_PREFIX = b"\xed\x01"
# JCS serialises numbers as IEEE 754 doubles; larger integers would not survive a JavaScript verifier.
MAX_SAFE_INT = 2**53 - 1


class IssuerKey:
    """An Ed25519 key pair, from the PEM (PKCS8, unencrypted) that lms.keys resolves."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key

    @classmethod
    def from_pem(cls, pem: bytes | str) -> "IssuerKey":
        """The key in a PEM text; ValueError when it is not an Ed25519 private key."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("the signing key is not an Ed25519 private key")
        return cls(private)

    @property
    def public_multibase(self) -> str:
        raw = self._private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)
        return "z" + base58.b58encode(ED25519_PUB_PREFIX + raw).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    if not isinstance(value, str) or not value.startswith("z"):
        raise ValueError("not a base58btc multibase string")
    try:
        decoded = base58.b58decode(value[1:])
    except ValueError as exc:  # bad alphabet, including non-ASCII (UnicodeEncodeError)
        raise ValueError("not a base58btc multibase string") from exc
    if len(decoded) != len(ED25519_PUB_PREFIX) + 32 or not decoded.startswith(ED25519_PUB_PREFIX):
        raise ValueError("not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[len(ED25519_PUB_PREFIX):])


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) for the JSON we produce: objects with string keys, strings, ints, bools,
    None, lists. Sort keys by UTF-16 code units (RFC 8785 §3.2.3 — for BMP-only keys this equals
    Python's default str ordering, but implement it properly), no whitespace, ensure_ascii=False,
    UTF-8. Raise ValueError for floats (we never sign floats) and non-string keys."""
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be valid I-JSON
        raise ValueError("string is not valid Unicode") from exc


def _utf16_key(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like the code units RFC 8785 sorts by; astral
    # characters become surrogates (0xD800..) and so sort before e.g. U+FB33, unlike str order.
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise ValueError("key is not valid Unicode") from exc


def _write(value: Any, parts: list[str]) -> None:
    # bool before int: True is an int in Python.
    if value is None or isinstance(value, bool):
        parts.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise ValueError(f"integer {value} is outside the JSON safe range")
        parts.append(str(value))
    elif isinstance(value, float):
        raise ValueError("floats are not signed: their JCS form depends on ECMAScript number printing")
    elif isinstance(value, str):
        # json.dumps escapes exactly what RFC 8785 §3.2.2.2 requires (", \, control characters,
        # with \b \t \n \f \r short forms and lower-case \u00xx) and leaves the rest as is.
        parts.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, list | tuple):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object keys must be strings")
        parts.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                parts.append(",")
            parts.append(json.dumps(key, ensure_ascii=False))
            parts.append(":")
            _write(value[key], parts)
        parts.append("}")
    else:
        raise ValueError(f"cannot canonicalise {type(value).__name__}")


def _utc_timestamp(moment: datetime) -> str:
    # A naive datetime could be local time or UTC; refuse to guess what we sign.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_profile(*, base_url: str, name: str, key: IssuerKey) -> dict:
    """The issuer document published at {base_url}/issuer: OB 3.0 Profile with
    "verificationMethod": [{"id": f"{base_url}/issuer#key-1", "type": "Multikey",
    "controller": f"{base_url}/issuer", "publicKeyMultibase": key.public_multibase}]."""
    base_url = base_url.rstrip("/")
    issuer_id = f"{base_url}/issuer"
    key_id = f"{issuer_id}#key-1"
    return {
        "@context": OB_CONTEXT,
        "id": issuer_id,
        "type": ["Profile"],
        "name": name,
        "url": base_url,
        "verificationMethod": [{
            "id": key_id,
            "type": "Multikey",
            "controller": issuer_id,
            "publicKeyMultibase": key.public_multibase,
        }],
        # Verifiers check the key is authorised for the proof's purpose, not merely listed.
        "assertionMethod": [key_id],
    }


def build_credential(*, base_url: str, code: str, issuer_name: str, learner_name: str,
                     course_title: str, course_url: str, course_summary: str,
                     issued_at: datetime) -> dict:
    """The unsigned OpenBadgeCredential: learner_name earned the course's Achievement, issued by us."""
    base_url = base_url.rstrip("/")
    return {
        "@context": list(OB_CONTEXT),
        "id": f"{base_url}/c/{code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{base_url}/issuer", "type": ["Profile"], "name": issuer_name},
        "validFrom": _utc_timestamp(issued_at),
        "name": course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": learner_name,
            "achievement": {
                "id": course_url,
                "type": ["Achievement"],
                "name": course_title,
                "description": course_summary,
                "criteria": {"narrative": CRITERIA},
            },
        },
    }


def _hash_data(unsecured: dict, proof_config: dict) -> bytes:
    # eddsa-jcs-2022 signs the two hashes side by side: proof options first, then the document.
    return (hashlib.sha256(canonical_json(proof_config)).digest()
            + hashlib.sha256(canonical_json(unsecured)).digest())


def sign_credential(credential: dict, *, key: IssuerKey, verification_method: str,
                    created: datetime) -> dict:
    """Return a copy of credential with an eddsa-jcs-2022 DataIntegrityProof added."""
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _utc_timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    # The proof configuration borrows the document's @context, which binds the signature to it.
    proof_config = dict(proof)
    if "@context" in unsecured:
        proof_config["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(unsecured, proof_config))
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    return {**unsecured, "proof": proof}


def verify_credential(document: dict, public_key: Ed25519PublicKey) -> bool:
    """True only if the document carries one well-formed eddsa-jcs-2022 proof that public_key made."""
    try:
        return _verify(document, public_key)
    except (ValueError, TypeError, RecursionError, InvalidSignature):
        return False


def _verify(document: Any, public_key: Ed25519PublicKey) -> bool:
    if not isinstance(document, dict):
        return False
    proof = document.get("proof")
    # A list would be a proof set or chain, which we never issue.
    if not isinstance(proof, dict):
        return False
    if (proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE
            or proof.get("proofPurpose") != PROOF_PURPOSE):
        return False
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        return False
    signature = base58.b58decode(proof_value[1:])
    if len(signature) != 64:
        return False

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_options = {k: v for k, v in proof.items() if k != "proofValue"}
    # Per the spec a proof may carry its own @context; it must be a prefix of the document's,
    # and then it is the one the document was hashed with.
    if "@context" in proof_options:
        proof_context = proof_options["@context"]
        doc_context = unsecured.get("@context")
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_context is None or doc_list[:len(proof_list)] != proof_list:
            return False
        unsecured["@context"] = proof_context
    proof_config = dict(proof_options)
    if "@context" in unsecured:
        proof_config["@context"] = unsecured["@context"]
    public_key.verify(signature, _hash_data(unsecured, proof_config))
    return True
