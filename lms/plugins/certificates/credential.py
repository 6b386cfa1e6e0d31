"""Open Badges 3.0 credentials with two Data Integrity proofs (eddsa-rdfc-2022 and eddsa-jcs-2022),
the DID documents and issuer profiles that publish the key, and Bitstring Status List credentials.

Everything follows the W3C texts as their test vectors and Digital Bazaar's verifier read them:
- eddsa-jcs-2022 (vc-di-eddsa §3.3): the proof carries the document's `@context`, and the signature
  covers SHA-256(JCS(proof options with that @context)) ‖ SHA-256(JCS(document without proof));
- eddsa-rdfc-2022 (§3.2): the same over RDF canonical N-Quads (URDNA2015, which RDFC-1.0 renamed);
  JSON-LD contexts come from the copies shipped in contexts/, never from the network.
A credential carries both proofs as a proof set; each covers the document without any proof.
"""

import base64
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT_URL = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
OB_CONTEXT = [VC_CONTEXT, OB_CONTEXT_URL]
PROFILE_CONTEXT = [VC_CONTEXT, OB_CONTEXT_URL, DID_CONTEXT, MULTIKEY_CONTEXT]
DID_DOCUMENT_CONTEXT = [DID_CONTEXT, MULTIKEY_CONTEXT]

# The copies of the contexts we sign with (taken from the npm packages Digital Bazaar's verifier
# uses; tests/certificates/test_interop.py checks they are still byte-for-byte the same JSON).
CONTEXTS_DIR = Path(__file__).parent / "contexts"
CONTEXT_FILES = {
    VC_CONTEXT: "credentials-v2.jsonld",
    OB_CONTEXT_URL: "ob-v3p0-context-3.0.3.jsonld",
    DID_CONTEXT: "did-v1.jsonld",
    MULTIKEY_CONTEXT: "multikey-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
}

OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_FILE = Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json"

PROOF_TYPE = "DataIntegrityProof"
JCS = "eddsa-jcs-2022"
RDFC = "eddsa-rdfc-2022"
CRYPTOSUITES = (RDFC, JCS)
PROOF_PURPOSE = "assertionMethod"
KEY_FRAGMENT = "key-1"

# Bitstring Status List: the spec's minimum is 131,072 entries; a larger list leaves room for every
# certificate an installation issues, each at a random index, and still gzips to a few kilobytes.
STATUS_LIST_SIZE = 2**20

COMPETENCE_FRAMEWORK = "Khung năng lực số cho người học (Thông tư 02/2025/TT-BGDĐT)"

# Multicodec prefix (varint 0xed) that marks the bytes after it as a raw Ed25519 public key.
ED25519_PUB_PREFIX = b"\xed\x01"


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
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @property
    def public_multibase(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
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


# --- Canonical forms --------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS), by the maintained `rfc8785` package; ValueError for what JCS cannot express."""
    try:
        return rfc8785.dumps(value)
    except RecursionError as exc:
        raise ValueError("document nested too deeply") from exc


@cache
def _context_document(url: str) -> dict:
    return json.loads((CONTEXTS_DIR / CONTEXT_FILES[url]).read_text("utf-8"))


def document_loader(url: str, options: Any = None) -> dict:
    """pyld's loader: the shipped contexts only. Anything else is refused, never fetched."""
    from pyld.jsonld import JsonLdError

    if url not in CONTEXT_FILES:
        raise JsonLdError(f"context not shipped with the application: {url}", "jsonld.LoadDocumentError",
                          code="loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": _context_document(url)}


def rdf_canonical(document: dict) -> bytes:
    """The document's RDF dataset as canonical N-Quads (URDNA2015 = RDFC-1.0), UTF-8.

    Like JSON-LD's safe mode (which pyld lacks), a document with a term its contexts do not
    define is refused: RDF would silently drop it, and the signature would not cover it."""
    from pyld import jsonld

    try:
        options = {"documentLoader": document_loader}
        _check_fully_defined(document, jsonld.expand(document, options), jsonld.DEFAULT_BASE_IRI)
        nquads = jsonld.normalize(document, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"})
    except jsonld.JsonLdError as exc:
        raise ValueError(f"JSON-LD processing failed: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("document nested too deeply") from exc
    return nquads.encode("utf-8")


def _json_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_json_leaves(v) for k, v in value.items() if k != "@context")
    if isinstance(value, list):
        return sum(_json_leaves(v) for v in value)
    return 0 if value is None else 1


def _expanded_leaves(value: Any, relative: str) -> int:
    """Scalars that survived expansion; ValueError for an IRI that stayed relative (pyld resolves
    those against its placeholder base, `relative`)."""
    if isinstance(value, list):
        return sum(_expanded_leaves(v, relative) for v in value)
    if not isinstance(value, dict):
        return 0
    if "@value" in value:
        return 1
    count = 0
    for key, item in value.items():
        if key in ("@id", "@type"):
            for iri in item if isinstance(item, list) else [item]:
                if not isinstance(iri, str) or ":" not in iri or iri.startswith(relative):
                    raise ValueError(f"relative IRI after expansion: {iri!r}")
                count += 1
        elif key.startswith("@"):
            count += _expanded_leaves(item, relative)
        else:
            if ":" not in key or key.startswith(relative):
                raise ValueError(f"relative property after expansion: {key!r}")
            count += _expanded_leaves(item, relative)
    return count


def _check_fully_defined(document: dict, expanded: Any, relative: str) -> None:
    if _json_leaves(document) != _expanded_leaves(expanded, relative):
        raise ValueError("a term of the document is not defined by its contexts")


def _hash_data(suite: str, unsecured: dict, proof_config: dict) -> bytes:
    canonical = canonical_json if suite == JCS else rdf_canonical
    # Both suites sign the two hashes side by side: proof options first, then the document.
    return hashlib.sha256(canonical(proof_config)).digest() + hashlib.sha256(canonical(unsecured)).digest()


# --- Signing and verifying --------------------------------------------------------------


def utc_timestamp(moment: datetime) -> str:
    # A naive datetime could be local time or UTC; refuse to guess what we sign.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _proofs_of(document: dict) -> list:
    proof = document.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]


def sign_credential(credential: dict, *, key: IssuerKey, verification_method: str, created: datetime,
                    cryptosuites: Iterable[str] = CRYPTOSUITES) -> dict:
    """A copy of credential with one DataIntegrityProof per cryptosuite (a proof set, or a single
    proof object for one suite). Any proof it had is replaced."""
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    proofs = []
    for suite in cryptosuites:
        options = {"type": PROOF_TYPE, "cryptosuite": suite, "created": utc_timestamp(created),
                   "verificationMethod": verification_method, "proofPurpose": PROOF_PURPOSE}
        # Both suites hash the options under the document's @context; only JCS publishes it in
        # the proof (as the spec's test vector signedJCS.json does), RDF processing inherits it.
        config = {**options, "@context": unsecured["@context"]} if "@context" in unsecured else options
        signature = key.sign(_hash_data(suite, unsecured, config))
        proof = config if suite == JCS else dict(options)
        proofs.append({**proof, "proofValue": "z" + base58.b58encode(signature).decode("ascii")})
    if not proofs:
        raise ValueError("no cryptosuite to sign with")
    return {**unsecured, "proof": proofs if len(proofs) > 1 else proofs[0]}


@dataclass(frozen=True)
class ProofCheck:
    cryptosuite: str
    verification_method: str
    valid: bool


def check_proofs(document: Any, public_key_for: Callable[[str], Ed25519PublicKey | None]) -> list[ProofCheck]:
    """Each proof of the document, checked with the key its verificationMethod resolves to.

    Never raises for a malformed document: what cannot be checked is simply not valid."""
    if not isinstance(document, dict):
        return []
    proofs = _proofs_of(document)
    checks = []
    for proof in proofs if isinstance(proofs, list) else []:
        suite = proof.get("cryptosuite", "") if isinstance(proof, dict) else ""
        method = proof.get("verificationMethod", "") if isinstance(proof, dict) else ""
        suite, method = (suite if isinstance(suite, str) else ""), (method if isinstance(method, str) else "")
        try:
            key = public_key_for(method) if method else None
            valid = key is not None and _verify_proof(document, proof, key)
        except (ValueError, TypeError, KeyError, RecursionError, InvalidSignature):
            valid = False
        checks.append(ProofCheck(suite, method, valid))
    return checks


def verify_credential(document: Any, public_key: Ed25519PublicKey) -> bool:
    """True only if the document has at least one proof and every proof is one public_key made."""
    checks = check_proofs(document, lambda _method: public_key)
    return bool(checks) and all(check.valid for check in checks)


def _verify_proof(document: dict, proof: Any, public_key: Ed25519PublicKey) -> bool:
    if not isinstance(proof, dict):
        return False
    suite = proof.get("cryptosuite")
    if proof.get("type") != PROOF_TYPE or suite not in CRYPTOSUITES or proof.get("proofPurpose") != PROOF_PURPOSE:
        return False
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        return False
    signature = base58.b58decode(proof_value[1:])
    if len(signature) != 64:
        return False
    # A proof set: each proof covers the document without any of them.
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # The proof's @context must be a prefix of the document's; JCS hashes the document with it.
        proof_list = options["@context"] if isinstance(options["@context"], list) else [options["@context"]]
        doc_context = unsecured.get("@context")
        doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_context is None or doc_list[:len(proof_list)] != proof_list:
            return False
        if suite == JCS:
            unsecured["@context"] = options["@context"]
    # Without its own @context, a proof's options are read under the document's.
    config = {"@context": unsecured["@context"], **options} if "@context" in unsecured else options
    public_key.verify(signature, _hash_data(suite, unsecured, config))
    return True


# --- Identifiers: did:web for each issuer ---------------------------------------------------


def did_web(base_url: str, *path: str) -> str:
    """did:web for the site (and a path under it): the host with its port as %3A, path parts after ':'."""
    parts = urlsplit(base_url.rstrip("/"))
    segments = [s for s in parts.path.split("/") if s] + list(path)
    return "did:web:" + quote(parts.netloc, safe="") + "".join(":" + quote(s, safe="") for s in segments)


def did_web_url(did: str) -> str:
    """Where a did:web document lives: https://host/path/did.json, or /.well-known/did.json with no path.
    Loopback hosts are read over http, so a development server can be checked too."""
    if not did.startswith("did:web:"):
        raise ValueError("not a did:web identifier")
    host, *segments = did[len("did:web:"):].split("#", 1)[0].split(":")
    host = unquote(host)
    if not host or "/" in host:
        raise ValueError("not a did:web identifier")
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    scheme = "http" if name in ("localhost", "127.0.0.1", "[::1]") else "https"
    path = "/".join(unquote(s) for s in segments) + "/did.json" if segments else ".well-known/did.json"
    return f"{scheme}://{host}/{path}"


def issuer_did(base_url: str, commune_id: int | None) -> str:
    """Each commune's People's Committee is an issuer of its own (did:web:host:issuer:<id>); the
    installation itself (did:web:host) issues for learners without a commune, and nothing else."""
    return did_web(base_url, "issuer", str(commune_id)) if commune_id else did_web(base_url)


def _verification_method(did: str, key: IssuerKey) -> dict:
    return {"id": f"{did}#{KEY_FRAGMENT}", "type": "Multikey", "controller": did,
            "publicKeyMultibase": key.public_multibase}


def did_document(did: str, key: IssuerKey) -> dict:
    """The DID document: the Multikey that signs, authorised for assertions (credentials)."""
    method = _verification_method(did, key)
    return {"@context": list(DID_DOCUMENT_CONTEXT), "id": did, "verificationMethod": [method],
            "assertionMethod": [method["id"]]}


def issuer_profile(*, did: str, name: str, url: str, key: IssuerKey, legacy_method: str | None = None) -> dict:
    """The Open Badges Profile of an issuer (at /issuer or /issuer/<commune>): its name as the
    credentials give it, and its key, under contexts that define every term (JSON-LD safe mode).

    legacy_method: the key's id in credentials issued before did:web (`<base>/issuer#key-1`), so
    files downloaded then can still be checked."""
    methods = [_verification_method(did, key)]
    if legacy_method:
        methods.append({"id": legacy_method, "type": "Multikey", "controller": legacy_method.split("#", 1)[0],
                        "publicKeyMultibase": key.public_multibase})
    return {"@context": list(PROFILE_CONTEXT), "id": did, "type": ["Profile"], "name": name, "url": url,
            "verificationMethod": methods, "assertionMethod": [m["id"] for m in methods]}


# --- The credential -----------------------------------------------------------------------


@dataclass(frozen=True)
class Competence:
    code: str  # the course pack's domain slug, e.g. "an-toan"
    name: str  # e.g. "An toàn"
    url: str


@cache
def _badge_image() -> str:
    svg = (Path(__file__).parent / "assets" / "badge.svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def status_entry(list_url: str, index: int) -> dict:
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": list_url}


def build_credential(*, credential_id: str, issuer_id: str, issuer_name: str, issuer_url: str,
                     learner_name: str, course_title: str, course_url: str, course_summary: str,
                     criteria: str, competences: Iterable[Competence], awarded_at: datetime,
                     status: dict | None) -> dict:
    """The unsigned OpenBadgeCredential: learner_name earned the course's Achievement.

    The learner is named by an IdentityObject of type "name" (as on the paper and the public page);
    nothing else about them (no phone number, hashed or not: ten digits are guessed in seconds).
    No evidence (quiz results): learners have not been asked to publish them."""
    awarded = utc_timestamp(awarded_at)
    achievement = {
        "id": course_url,
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": course_title,
        "description": course_summary or course_title,
        "criteria": {"id": course_url, "narrative": criteria},
        "image": {"id": _badge_image(), "type": "Image", "caption": "Huy hiệu Bình dân học vụ số"},
        "inLanguage": "vi",
    }
    alignments = [{"type": ["Alignment"], "targetName": c.name, "targetUrl": c.url, "targetCode": c.code,
                   "targetFramework": COMPETENCE_FRAMEWORK, "targetType": "ceasn:Competency"}
                  for c in competences]
    if alignments:
        achievement["alignment"] = alignments
    credential = {
        "@context": list(OB_CONTEXT),
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": issuer_name, "url": issuer_url},
        "validFrom": awarded,
        "awardedDate": awarded,
        "name": course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": learner_name}],
            "achievement": achievement,
        },
        # "JsonSchema" (VC JSON Schema) is defined by the VC v2 context; 1EdTech's own type name is
        # defined by no context, so JSON-LD safe mode (and eddsa-rdfc-2022 with it) would fail.
        "credentialSchema": [{"id": OB_SCHEMA_URL, "type": "JsonSchema"}],
    }
    if status is not None:
        credential["credentialStatus"] = status
    return credential


def learner_name_of(document: Any) -> str:
    """The learner's name in a credential, new (identifier) or from before 0014 (credentialSubject.name)."""
    subject = document.get("credentialSubject") if isinstance(document, dict) else None
    if not isinstance(subject, dict):
        return ""
    for identity in subject.get("identifier") or []:
        if isinstance(identity, dict) and identity.get("identityType") == "name" and not identity.get("hashed"):
            return str(identity.get("identityHash", ""))
    return str(subject.get("name", ""))


# --- Bitstring Status List ------------------------------------------------------------------


def encode_status_list(revoked: Iterable[int], size: int = STATUS_LIST_SIZE) -> str:
    """Multibase base64url (no padding) of the GZIP of the bitstring; index 0 is the first byte's
    most significant bit (Bitstring Status List v1.0 §3.1)."""
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list gives the same bytes on every host.
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_status_list(encoded: str, *, max_bytes: int = 16 * 2**20) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    packed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    import zlib

    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    bits = inflater.decompress(packed, max_bytes)
    if inflater.unconsumed_tail:
        raise ValueError("status list too large")
    return bits


def status_bit(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise ValueError("status index outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(*, list_url: str, issuer_id: str, revoked: Iterable[int], valid_from: datetime) -> dict:
    """The unsigned BitstringStatusListCredential for revocation."""
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": utc_timestamp(valid_from),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": encode_status_list(revoked)},
    }
