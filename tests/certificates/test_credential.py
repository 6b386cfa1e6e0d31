"""Open Badges credentials: the issuer key, JCS, eddsa-jcs-2022 signing and verification."""

import copy
import json
from datetime import UTC, datetime, timedelta, timezone

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.keys import new_signing_key
from lms.plugins.certificates.credential import (
    OB_CONTEXT,
    IssuerKey,
    build_credential,
    canonical_json,
    issuer_profile,
    public_key_from_multibase,
    sign_credential,
    verify_credential,
)

BASE = "https://hocvuso.example.vn"
VM = f"{BASE}/issuer#key-1"
ISSUED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def make_credential(**overrides) -> dict:
    fields = {
        "base_url": BASE,
        "code": "ABCD-1234",
        "issuer_name": "Học vụ số",
        "learner_name": "Nguyễn Văn Ánh",
        "course_title": "Kỹ năng số cơ bản",
        "course_url": f"{BASE}/khoa-hoc/ky-nang-so",
        "course_summary": "Dùng điện thoại an toàn, dịch vụ công trực tuyến.",
        "issued_at": ISSUED,
    } | overrides
    return build_credential(**fields)


@pytest.fixture(scope="module")
def key() -> IssuerKey:
    return IssuerKey.from_pem(new_signing_key())


@pytest.fixture
def signed(key: IssuerKey) -> dict:
    return sign_credential(make_credential(), key=key, verification_method=VM, created=ISSUED)


def public(key: IssuerKey):
    return public_key_from_multibase(key.public_multibase)


# --- issuer key ---


def test_key_from_pem_text_or_bytes_is_the_same_key():
    pem = new_signing_key()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    from_text, from_bytes = IssuerKey.from_pem(pem), IssuerKey.from_pem(pem.encode("ascii"))
    assert from_text.public_multibase == from_bytes.public_multibase
    assert from_text.public_multibase != IssuerKey.from_pem(new_signing_key()).public_multibase
    # What one signs, the other's public key verifies: they hold the same private key.
    assert public(from_bytes).verify(from_text.sign(b"xin chao"), b"xin chao") is None


def test_a_key_of_another_type_is_refused():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="not an Ed25519"):
        IssuerKey.from_pem(pem)


@pytest.mark.parametrize("pem", ["", "khóa hỏng", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_a_broken_pem_is_refused(pem):
    with pytest.raises(ValueError):
        IssuerKey.from_pem(pem)


# --- multibase ---


def test_multibase_round_trip(key: IssuerKey):
    assert key.public_multibase.startswith("z6Mk")
    raw = public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base58.b58decode(key.public_multibase[1:]) == b"\xed\x01" + raw
    assert public(key).verify(key.sign(b"xin chao"), b"xin chao") is None


@pytest.mark.parametrize("value", [
    "",
    "z",
    "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",   # no multibase prefix
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0",  # 0 is not base58btc
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",   # one character short
    "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1 Multikey
    "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2ằ",
    None,
])
def test_malformed_multibase_raises_value_error(value):
    with pytest.raises(ValueError):
        public_key_from_multibase(value)


# --- JCS ---


def test_canonical_json_sorts_keys_without_spaces():
    assert canonical_json({"b": [1, True, None], "a": {"d": False, "c": "x"}}) == \
        b'{"a":{"c":"x","d":false},"b":[1,true,null]}'


def test_canonical_json_keeps_vietnamese_as_utf8():
    out = canonical_json({"tên": "Nguyễn Văn Ánh"})
    assert out == '{"tên":"Nguyễn Văn Ánh"}'.encode()
    assert b"\\u" not in out


def test_canonical_json_escapes_like_rfc_8785():
    assert canonical_json(["\n\t\"\\\x0f\x7f/€"]) == '["\\n\\t\\"\\\\\\u000f\x7f/€"]'.encode()


def test_canonical_json_orders_keys_by_utf16_code_units():
    # RFC 8785 §3.2.3: the astral U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FB33.
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    decoded = json.loads(canonical_json({k: i for i, k in enumerate(keys)}))
    assert list(decoded) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize("value", [
    1.5, {"a": 0.0}, {1: "x"}, [datetime.now(UTC)], 2**53, "\ud800", {"\udc00": 1},
])
def test_canonical_json_rejects_what_it_cannot_sign(value):
    with pytest.raises(ValueError):
        canonical_json(value)


# --- credential shape ---


def test_build_credential_shape():
    cred = make_credential(issued_at=datetime(2025, 1, 2, 7, 0, 5, 123456,
                                              tzinfo=timezone(timedelta(hours=7))))
    assert cred["@context"] == OB_CONTEXT
    assert cred["id"] == f"{BASE}/c/ABCD-1234"
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["issuer"] == {"id": f"{BASE}/issuer", "type": ["Profile"], "name": "Học vụ số"}
    assert cred["validFrom"] == "2025-01-02T00:00:05Z"
    assert cred["name"] == "Kỹ năng số cơ bản"
    subject = cred["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Nguyễn Văn Ánh"
    achievement = subject["achievement"]
    assert achievement["id"] == f"{BASE}/khoa-hoc/ky-nang-so"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "Kỹ năng số cơ bản"
    assert achievement["description"].startswith("Dùng điện thoại")
    assert achievement["criteria"]["narrative"].startswith("Hoàn thành tất cả bài học")
    assert "proof" not in cred
    canonical_json(cred)  # nothing unsignable in it


def test_naive_datetimes_are_refused(key: IssuerKey):
    with pytest.raises(ValueError):
        make_credential(issued_at=datetime(2025, 1, 2))
    with pytest.raises(ValueError):
        sign_credential(make_credential(), key=key, verification_method=VM, created=datetime(2025, 1, 2))


# --- signing and verification ---


def test_signed_credential_has_the_proof(signed: dict):
    proof = signed["proof"]
    assert proof == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2025-03-04T05:06:07Z",
        "verificationMethod": VM,
        "proofPurpose": "assertionMethod",
        "proofValue": proof["proofValue"],
    }
    assert proof["proofValue"].startswith("z")
    assert len(base58.b58decode(proof["proofValue"][1:])) == 64


def test_sign_does_not_touch_its_input(key: IssuerKey):
    cred = make_credential()
    before = copy.deepcopy(cred)
    sign_credential(cred, key=key, verification_method=VM, created=ISSUED)
    assert cred == before


def test_verifies_with_the_right_key_only(key: IssuerKey, signed: dict):
    assert verify_credential(signed, public(key)) is True
    assert verify_credential(json.loads(json.dumps(signed)), public(key)) is True
    other = IssuerKey(Ed25519PrivateKey.generate())
    assert verify_credential(signed, public(other)) is False


def test_resigning_replaces_an_old_proof(key: IssuerKey, signed: dict):
    again = sign_credential(signed, key=key, verification_method=VM, created=ISSUED)
    assert verify_credential(again, public(key))


def _set(path: tuple, value):
    def change(doc: dict) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


def _last_char_of_proof_value(doc: dict) -> None:
    value = doc["proof"]["proofValue"]
    doc["proof"]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")


@pytest.mark.parametrize("tamper", [
    _set(("credentialSubject", "name"), "Nguyễn Văn Anh"),
    _set(("validFrom",), "2025-03-04T05:06:08Z"),
    _set(("credentialSubject", "achievement", "name"), "Kỹ năng số nâng cao"),
    _set(("@context",), [OB_CONTEXT[0]]),
    _set(("proof", "created"), "2025-03-04T05:06:08Z"),
    _set(("proof", "verificationMethod"), f"{BASE}/issuer#key-2"),
    _last_char_of_proof_value,
    lambda doc: doc.pop("proof"),
    lambda doc: doc["credentialSubject"].update(extra="x"),
], ids=["learner-name", "validFrom", "course", "context", "created", "verificationMethod",
        "proofValue", "no-proof", "added-field"])
def test_any_change_breaks_the_signature(key: IssuerKey, signed: dict, tamper):
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert verify_credential(tampered, public(key)) is False


def test_proof_may_carry_the_documents_context(key: IssuerKey, signed: dict):
    # eddsa-jcs-2022 allows proof.@context when it is a prefix of the document's @context.
    with_context = copy.deepcopy(signed)
    with_context["proof"]["@context"] = OB_CONTEXT
    assert verify_credential(with_context, public(key)) is True
    with_context["proof"]["@context"] = ["https://example.org/other"]
    assert verify_credential(with_context, public(key)) is False


@pytest.mark.parametrize("tamper", [
    _set(("proof",), "not a dict"),
    _set(("proof",), []),
    _set(("proof", "type"), "Ed25519Signature2020"),
    _set(("proof", "cryptosuite"), "eddsa-rdfc-2022"),
    _set(("proof", "proofPurpose"), "authentication"),
    _set(("proof", "proofValue"), "z0OIl"),
    _set(("proof", "proofValue"), "uAAAA"),
    _set(("proof", "proofValue"), "zằ"),
    _set(("proof", "proofValue"), 12),
    _set(("proof", "proofValue"), "z"),
    _set(("proof", "created"), 1.5),
    _set(("proof", "@context"), {"a": 1}),
    _set(("credentialSubject",), {"x": float("nan")}),
])
def test_garbage_returns_false_without_raising(key: IssuerKey, signed: dict, tamper):
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert verify_credential(tampered, public(key)) is False


@pytest.mark.parametrize("document", [None, [], "proof", 42, {"proof": None}])
def test_non_documents_return_false(key: IssuerKey, document):
    assert verify_credential(document, public(key)) is False


def test_deeply_nested_input_returns_false(key: IssuerKey, signed: dict):
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert verify_credential({**signed, "x": deep}, public(key)) is False


# --- issuer profile ---


def test_issuer_profile_publishes_the_verifying_key(key: IssuerKey, signed: dict):
    profile = issuer_profile(base_url=BASE, name="Học vụ số", key=key)
    assert profile["id"] == f"{BASE}/issuer"
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Học vụ số"
    [method] = profile["verificationMethod"]
    assert method == {"id": VM, "type": "Multikey", "controller": f"{BASE}/issuer",
                      "publicKeyMultibase": key.public_multibase}
    assert VM in profile["assertionMethod"]
    assert signed["proof"]["verificationMethod"] == method["id"]
    assert signed["issuer"]["id"] == method["controller"]
    assert verify_credential(signed, public_key_from_multibase(method["publicKeyMultibase"]))


# --- interoperability with the W3C spec's test vector ---

# From w3c/vc-di-eddsa TestVectors (keyPair.json, eddsa-jcs-2022/signedJCS.json).
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"  # multicodec 0x8026 + 32-byte seed
W3C_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
W3C_DOCUMENT = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_VM = f"https://vc.example/issuers/5678#{W3C_PUBLIC}"
W3C_PROOF_VALUE = "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"


def test_matches_the_w3c_eddsa_jcs_2022_test_vector():
    seed = base58.b58decode(W3C_SECRET[1:])
    assert seed[:2] == b"\x80\x26"
    w3c_key = IssuerKey(Ed25519PrivateKey.from_private_bytes(seed[2:]))
    assert w3c_key.public_multibase == W3C_PUBLIC

    ours = sign_credential(W3C_DOCUMENT, key=w3c_key, verification_method=W3C_VM,
                           created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC))
    assert ours["proof"]["proofValue"] == W3C_PROOF_VALUE

    # The spec's signed example carries proof.@context; it must verify as published.
    theirs = {**W3C_DOCUMENT, "proof": {**{k: v for k, v in ours["proof"].items() if k != "proofValue"},
                                        "@context": W3C_CONTEXT, "proofValue": W3C_PROOF_VALUE}}
    assert verify_credential(theirs, public_key_from_multibase(W3C_PUBLIC)) is True
