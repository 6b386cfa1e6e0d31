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
    JCS,
    OB_CONTEXT,
    RDFC,
    Competence,
    IssuerKey,
    build_credential,
    canonical_json,
    decode_status_list,
    did_document,
    did_web,
    did_web_url,
    encode_status_list,
    issuer_profile,
    learner_name_of,
    public_key_from_multibase,
    rdf_canonical,
    sign_credential,
    status_bit,
    status_entry,
    verify_credential,
)

BASE = "https://hocvuso.example.vn"
DID = "did:web:hocvuso.example.vn:issuer:7"
VM = f"{DID}#key-1"
ISSUED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
LIST_URL = f"{BASE}/issuer/7/status-list"


def make_credential(**overrides) -> dict:
    fields = {
        "credential_id": f"{BASE}/c/HVS-ABCD-1234",
        "issuer_id": DID,
        "issuer_name": "Ủy ban nhân dân Xã Minh Châu",
        "issuer_url": f"{BASE}/issuer/7",
        "learner_name": "Nguyễn Văn Ánh",
        "course_title": "Kỹ năng số cơ bản",
        "course_url": f"{BASE}/courses/ky-nang-so",
        "course_summary": "Dùng điện thoại an toàn, dịch vụ công trực tuyến.",
        "criteria": "Hoàn thành tất cả bài học của khóa.",
        "competences": [Competence("an-toan", "An toàn", f"{BASE}/courses?domain=an-toan")],
        "awarded_at": ISSUED,
        "status": status_entry(LIST_URL, 4242),
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


@pytest.mark.parametrize("value", [{1: "x"}, [datetime.now(UTC)], 2**53, "\ud800", {"\udc00": 1}])
def test_canonical_json_rejects_what_it_cannot_sign(value):
    with pytest.raises(ValueError):
        canonical_json(value)


# --- credential shape ---


def test_build_credential_shape():
    cred = make_credential(awarded_at=datetime(2025, 1, 2, 7, 0, 5, 123456, tzinfo=timezone(timedelta(hours=7))))
    assert cred["@context"] == OB_CONTEXT
    assert cred["id"] == f"{BASE}/c/HVS-ABCD-1234"
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["issuer"] == {"id": DID, "type": ["Profile"], "name": "Ủy ban nhân dân Xã Minh Châu",
                              "url": f"{BASE}/issuer/7"}
    assert cred["validFrom"] == cred["awardedDate"] == "2025-01-02T00:00:05Z"
    assert cred["name"] == "Kỹ năng số cơ bản"
    subject = cred["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"] == [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                                      "identityHash": "Nguyễn Văn Ánh"}]
    assert learner_name_of(cred) == "Nguyễn Văn Ánh"
    achievement = subject["achievement"]
    assert achievement["id"] == f"{BASE}/courses/ky-nang-so"
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["inLanguage"] == "vi"
    assert achievement["name"] == "Kỹ năng số cơ bản"
    assert achievement["description"].startswith("Dùng điện thoại")
    assert achievement["criteria"]["narrative"].startswith("Hoàn thành tất cả bài học")
    assert achievement["image"]["type"] == "Image"
    assert achievement["image"]["id"].startswith("data:image/svg+xml;base64,")
    assert achievement["alignment"] == [{
        "type": ["Alignment"], "targetName": "An toàn", "targetUrl": f"{BASE}/courses?domain=an-toan",
        "targetCode": "an-toan", "targetFramework": "Khung năng lực số cho người học (Thông tư 02/2025/TT-BGDĐT)",
        "targetType": "ceasn:Competency"}]
    assert "evidence" not in cred  # learners were not asked to publish their quiz results
    assert cred["credentialStatus"] == {
        "id": f"{LIST_URL}#4242", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "4242", "statusListCredential": LIST_URL}
    assert cred["credentialSchema"][0]["id"].endswith("/ob_v3p0_achievementcredential_schema.json")
    assert "proof" not in cred
    canonical_json(cred)  # nothing unsignable in it


def test_old_credentials_name_the_learner_in_credential_subject():
    assert learner_name_of({"credentialSubject": {"name": "Trần Thị Bình"}}) == "Trần Thị Bình"
    assert learner_name_of({"credentialSubject": {"identifier": [
        {"identityType": "name", "hashed": True, "identityHash": "sha256$00"}]}}) == ""
    assert learner_name_of(None) == ""


def test_naive_datetimes_are_refused(key: IssuerKey):
    with pytest.raises(ValueError):
        make_credential(awarded_at=datetime(2025, 1, 2))
    with pytest.raises(ValueError):
        sign_credential(make_credential(), key=key, verification_method=VM, created=datetime(2025, 1, 2))


# --- signing and verification ---


def test_signed_credential_carries_a_proof_set(signed: dict):
    rdfc, jcs = signed["proof"]
    common = {"type": "DataIntegrityProof", "created": "2025-03-04T05:06:07Z", "verificationMethod": VM,
              "proofPurpose": "assertionMethod"}
    assert rdfc == {**common, "cryptosuite": "eddsa-rdfc-2022", "proofValue": rdfc["proofValue"]}
    # As the spec's test vector signedJCS.json: the JCS proof publishes the context it was hashed with.
    assert jcs == {**common, "cryptosuite": "eddsa-jcs-2022", "@context": OB_CONTEXT,
                   "proofValue": jcs["proofValue"]}
    for proof in (rdfc, jcs):
        assert proof["proofValue"].startswith("z")
        assert len(base58.b58decode(proof["proofValue"][1:])) == 64


def test_each_suite_alone_gives_one_proof_object(key: IssuerKey):
    for suite in (JCS, RDFC):
        one = sign_credential(make_credential(), key=key, verification_method=VM, created=ISSUED, cryptosuites=[suite])
        assert isinstance(one["proof"], dict) and one["proof"]["cryptosuite"] == suite
        assert verify_credential(one, public(key))


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
    assert len(again["proof"]) == 2
    assert verify_credential(again, public(key))


def _set(path: tuple, value):
    def change(doc: dict) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


def _last_char_of_proof_value(index: int):
    def change(doc: dict) -> None:
        value = doc["proof"][index]["proofValue"]
        doc["proof"][index]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
    return change


@pytest.mark.parametrize("tamper", [
    _set(("credentialSubject", "identifier", 0, "identityHash"), "Nguyễn Văn Anh"),
    _set(("validFrom",), "2025-03-04T05:06:08Z"),
    _set(("credentialSubject", "achievement", "name"), "Kỹ năng số nâng cao"),
    _set(("credentialStatus", "statusListIndex"), "4243"),
    _set(("@context",), [OB_CONTEXT[0]]),
    _set(("proof", 0, "created"), "2025-03-04T05:06:08Z"),
    _set(("proof", 1, "verificationMethod"), f"{DID}#key-2"),
    _last_char_of_proof_value(0),
    _last_char_of_proof_value(1),
    lambda doc: doc.pop("proof"),
    lambda doc: doc["credentialSubject"].update(role="x"),
], ids=["learner-name", "validFrom", "course", "status-index", "context", "rdfc-created", "jcs-method",
        "rdfc-proofValue", "jcs-proofValue", "no-proof", "added-field"])
def test_any_change_breaks_the_signature(key: IssuerKey, signed: dict, tamper):
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert verify_credential(tampered, public(key)) is False


@pytest.mark.parametrize("keep", [0, 1])
def test_each_proof_of_the_set_stands_alone(key: IssuerKey, signed: dict, keep: int):
    # A proof set, not a chain: each covers the document without any proof, so a verifier that
    # knows only one of the suites checks that one.
    alone = {**signed, "proof": [signed["proof"][keep]]}
    assert verify_credential(alone, public(key)) is True
    assert verify_credential({**alone, "name": "Khóa khác"}, public(key)) is False


def test_a_jcs_proof_without_the_documents_context_is_hashed_with_it(key: IssuerKey, signed: dict):
    # Credentials issued before 0014 published their JCS proof without @context (hashed with it);
    # the spec then uses the document's @context, so they still verify here.
    _, jcs = signed["proof"]
    without = copy.deepcopy(signed)
    without["proof"] = [{k: v for k, v in jcs.items() if k != "@context"}]
    assert verify_credential(without, public(key)) is True
    without["proof"][0]["@context"] = ["https://example.org/other"]
    assert verify_credential(without, public(key)) is False


def test_rdf_signing_refuses_terms_no_context_defines(key: IssuerKey):
    undefined = make_credential()
    undefined["credentialSubject"]["tenKhac"] = "x"  # would silently drop out of the RDF, unsigned
    with pytest.raises(ValueError, match="not defined"):
        rdf_canonical(undefined)
    relative = make_credential()
    relative["credentialSchema"][0]["type"] = "1EdTechJsonSchemaValidator2019"  # defined by no context
    with pytest.raises(ValueError, match="relative IRI"):
        sign_credential(relative, key=key, verification_method=VM, created=ISSUED)
    assert rdf_canonical(make_credential())  # the credential we issue is fully defined


def test_contexts_come_from_the_package_never_the_network():
    from pyld.jsonld import JsonLdError

    from lms.plugins.certificates.credential import CONTEXT_FILES, document_loader

    for url in CONTEXT_FILES:
        assert document_loader(url)["document"]["@context"]
    with pytest.raises(JsonLdError, match="not shipped"):
        document_loader("https://example.org/ngu-canh.json")
    unknown = {**make_credential(), "@context": [*OB_CONTEXT, "https://example.org/ngu-canh.json"]}
    with pytest.raises(ValueError, match="ngu-canh"):
        rdf_canonical(unknown)


@pytest.mark.parametrize("tamper", [
    _set(("proof",), "not a dict"),
    _set(("proof",), []),
    _set(("proof", 0), "x"),
    _set(("proof", 1, "type"), "Ed25519Signature2020"),
    _set(("proof", 1, "cryptosuite"), "ecdsa-rdfc-2019"),
    _set(("proof", 0, "proofPurpose"), "authentication"),
    _set(("proof", 0, "proofValue"), "z0OIl"),
    _set(("proof", 0, "proofValue"), "uAAAA"),
    _set(("proof", 1, "proofValue"), "zằ"),
    _set(("proof", 1, "proofValue"), 12),
    _set(("proof", 1, "proofValue"), "z"),
    _set(("proof", 1, "created"), 1.5),
    _set(("proof", 1, "@context"), {"a": 1}),
    _set(("proof", 0, "verificationMethod"), 7),
    _set(("credentialSubject",), {"x": float("nan")}),
    _set(("@context",), "https://example.org/ngu-canh.json"),
])
def test_garbage_returns_false_without_raising(key: IssuerKey, signed: dict, tamper):
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    assert verify_credential(tampered, public(key)) is False


@pytest.mark.parametrize("document", [None, [], "proof", 42, {"proof": None}, {"proof": []}])
def test_non_documents_return_false(key: IssuerKey, document):
    assert verify_credential(document, public(key)) is False


def test_deeply_nested_input_returns_false(key: IssuerKey, signed: dict):
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert verify_credential({**signed, "x": deep}, public(key)) is False


# --- did:web, DID documents and the issuer profile ---


@pytest.mark.parametrize(("base", "path", "did", "url"), [
    ("https://hocvuso.example.vn", (), "did:web:hocvuso.example.vn", "https://hocvuso.example.vn/.well-known/did.json"),
    ("https://hocvuso.example.vn/", ("issuer", "12"), "did:web:hocvuso.example.vn:issuer:12",
     "https://hocvuso.example.vn/issuer/12/did.json"),
    ("https://so.example.vn/hvs", (), "did:web:so.example.vn:hvs", "https://so.example.vn/hvs/did.json"),
    ("http://127.0.0.1:8000", (), "did:web:127.0.0.1%3A8000", "http://127.0.0.1:8000/.well-known/did.json"),
    ("http://localhost:8000", ("issuer", "3"), "did:web:localhost%3A8000:issuer:3",
     "http://localhost:8000/issuer/3/did.json"),
    ("https://hocvuso.example.vn:8443", (), "did:web:hocvuso.example.vn%3A8443",
     "https://hocvuso.example.vn:8443/.well-known/did.json"),
])
def test_did_web_and_where_it_resolves(base, path, did, url):
    assert did_web(base, *path) == did
    assert did_web_url(did) == url
    assert did_web_url(f"{did}#key-1") == url


@pytest.mark.parametrize("did", ["did:key:z6Mk", "did:web:", "did:web:a%2Fb", "https://x.vn"])
def test_did_web_url_refuses_what_is_not_did_web(did):
    with pytest.raises(ValueError):
        did_web_url(did)


def test_did_document_and_profile_publish_the_verifying_key(key: IssuerKey, signed: dict):
    document = did_document(DID, key)
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    method = {"id": VM, "type": "Multikey", "controller": DID, "publicKeyMultibase": key.public_multibase}
    assert document == {**document, "id": DID, "verificationMethod": [method], "assertionMethod": [VM]}
    profile = issuer_profile(did=DID, name="Ủy ban nhân dân Xã Minh Châu", url=f"{BASE}/issuer/7", key=key)
    assert profile["type"] == ["Profile"] and profile["id"] == DID == signed["issuer"]["id"]
    assert profile["name"] == signed["issuer"]["name"]
    assert profile["verificationMethod"] == [method] and profile["assertionMethod"] == [VM]
    assert all(proof["verificationMethod"] == VM for proof in signed["proof"])
    assert verify_credential(signed, public_key_from_multibase(method["publicKeyMultibase"]))
    # Every term is defined by the contexts (what JSON-LD safe mode demands).
    assert rdf_canonical(profile) and rdf_canonical(document)


# --- Bitstring Status List ---


def test_status_list_bits_are_counted_from_the_first_bytes_high_bit():
    import base64
    import gzip

    encoded = encode_status_list([0, 9, 131_071], size=131_072)
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16_384 and raw[0] == 0x80 and raw[1] == 0x40 and raw[-1] == 0x01
    bits = decode_status_list(encoded)
    assert [i for i in range(131_072) if status_bit(bits, i)] == [0, 9, 131_071]
    assert encode_status_list([9, 0, 131_071], size=131_072) == encoded  # the same list, the same bytes
    with pytest.raises(ValueError):
        encode_status_list([131_072], size=131_072)
    with pytest.raises(ValueError):
        status_bit(bits, 131_072)


def test_a_status_list_that_inflates_without_end_is_refused():
    import base64
    import gzip

    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 2**20))).decode().rstrip("=")
    with pytest.raises(ValueError, match="too large"):
        decode_status_list(bomb)


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
W3C_SIGNED = {**W3C_DOCUMENT, "proof": {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": W3C_VM,
    "proofPurpose": "assertionMethod",
    "@context": W3C_CONTEXT,
    "proofValue": "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4",
}}


def test_matches_the_w3c_eddsa_jcs_2022_test_vector():
    seed = base58.b58decode(W3C_SECRET[1:])
    assert seed[:2] == b"\x80\x26"
    w3c_key = IssuerKey(Ed25519PrivateKey.from_private_bytes(seed[2:]))
    assert w3c_key.public_multibase == W3C_PUBLIC

    ours = sign_credential(W3C_DOCUMENT, key=w3c_key, verification_method=W3C_VM,
                           created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC), cryptosuites=[JCS])
    # Byte for byte the spec's signed document, proof.@context included.
    assert canonical_json(ours) == canonical_json(W3C_SIGNED)
    # The spec's signed example verifies exactly as published.
    assert verify_credential(copy.deepcopy(W3C_SIGNED), public_key_from_multibase(W3C_PUBLIC)) is True
