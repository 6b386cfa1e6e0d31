"""Done when an independent verifier agrees: Digital Bazaar's @digitalbazaar/vc 7 with its
eddsa-jcs-2022 and eddsa-rdfc-2022 cryptosuites and @digitalbazaar/vc-bitstring-status-list
(tests/certificates/verifier, installed from the npm registry by .ci/run) checks credentials
issued through the HTTP flow, exactly as /c/<code>.json publishes them."""

import copy
import json

import pytest

from lms.plugins.certificates.credential import CONTEXT_FILES, CONTEXTS_DIR
from tests.certificates.certtools import completed_course
from tests.certificates.credtools import issuer_documents, path_of, run_verifier, schema_errors
from tests.factories import fresh, login, make_user, post_form

SUITES = ["eddsa-jcs-2022", "eddsa-rdfc-2022"]


def _one_character(text: str) -> str:
    return text[:-1] + ("b" if text[-1] != "b" else "c")


def _tampered(credential: dict) -> dict[str, dict]:
    """The credential with one character changed in each place a forger would change."""
    versions = {}
    name = copy.deepcopy(credential)
    identity = name["credentialSubject"]["identifier"][0]
    identity["identityHash"] = _one_character(identity["identityHash"])
    versions["name"] = name
    date = copy.deepcopy(credential)
    date["validFrom"] = date["validFrom"].replace(date["validFrom"][3], str((int(date["validFrom"][3]) + 1) % 10), 1)
    versions["date"] = date
    achievement = copy.deepcopy(credential)
    achievement["credentialSubject"]["achievement"]["name"] = _one_character(
        achievement["credentialSubject"]["achievement"]["name"])
    versions["achievement"] = achievement
    for index, proof in enumerate(credential["proof"]):
        changed = copy.deepcopy(credential)
        value = proof["proofValue"]
        changed["proof"][index]["proofValue"] = value[:-1] + ("2" if value[-1] != "2" else "3")
        versions[f"proof-{proof['cryptosuite']}"] = changed
    return versions


def test_the_shipped_contexts_are_the_ones_the_verifier_uses():
    answer = run_verifier({"contexts": list(CONTEXT_FILES)})
    for url, file in CONTEXT_FILES.items():
        assert answer["contexts"][url] == json.loads((CONTEXTS_DIR / file).read_text("utf-8")), url


def test_digital_bazaar_verifies_issued_credentials_and_sees_revocation(client, db, settings, tmp_path, make_client):
    user, certificate = completed_course(client, db, settings, tmp_path, name="Nguyễn Văn Ánh")
    outsider = make_client()  # what anyone on the internet gets
    credential = outsider.get(f"/c/{certificate.code}.json").json()
    assert schema_errors(credential) == []
    documents = issuer_documents(outsider, credential)
    profiles = [outsider.get(f"/issuer/{user.commune_id}").json(), outsider.get("/issuer").json(),
                outsider.get("/.well-known/did.json").json()]
    tampered = _tampered(credential)

    for suite in SUITES:
        answer = run_verifier({"credentials": [credential, *tampered.values()], "documents": documents,
                               "suites": [suite], "checkStatus": True,
                               "safe": [credential, *documents.values(), *profiles]})
        valid, *forged = answer["results"]
        assert valid["verified"] is True, (suite, valid)
        assert valid["proofs"] == [{"cryptosuite": suite, "verified": True}]
        assert valid["status"]["revoked"] == [False]
        for (what, _), result in zip(tampered.items(), forged, strict=True):
            if what.startswith("proof-") and not what.endswith(suite):
                # The other suite's proof was changed: this suite's proof alone still holds.
                assert result["verified"] is True, (suite, what)
                continue
            assert result["verified"] is False, (suite, what, result)
        assert all(item["ok"] for item in answer["safe"]), answer["safe"]

    staff = make_user(db, settings, role="staff", commune=_commune(db, user))
    login(client, staff.phone)
    page = f"/staff/certificates/{certificate.id}"
    assert post_form(client, f"{page}/revoke", {"reason": "Cấp nhầm người"}, page=page).status_code == 303
    fresh(db)
    revoked = outsider.get(f"/c/{certificate.code}.json").json()
    assert revoked == credential  # as issued: the status list is what changed
    status_url = credential["credentialStatus"]["statusListCredential"]
    documents[status_url] = outsider.get(path_of(status_url)).json()
    for suite in SUITES:
        [result] = run_verifier({"credentials": [revoked], "documents": documents, "suites": [suite],
                                 "checkStatus": True})["results"]
        assert result["proofs"] == [{"cryptosuite": suite, "verified": True}]
        assert result["status"] == {"verified": True, "revoked": [True], "errors": []}, suite


def test_a_re_signed_credential_from_before_status_lists_verifies_too(client, db, settings, tmp_path, engine):
    from sqlalchemy import update

    from lms.db import write_session
    from lms.plugins.certificates.models import Certificate

    _, certificate = completed_course(client, db, settings, tmp_path)
    legacy = json.loads(json.dumps(certificate.credential))
    legacy.pop("credentialStatus")
    with write_session(engine) as session:
        session.execute(update(Certificate).where(Certificate.id == certificate.id).values(
            status_index=None, credential=legacy))
    credential = client.get(f"/c/{certificate.code}.json").json()
    [result] = run_verifier({"credentials": [credential], "documents": issuer_documents(client, credential),
                             "checkStatus": True})["results"]
    assert result["verified"] is True and result["status"]["revoked"] == [False], result
    assert sorted(p["cryptosuite"] for p in result["proofs"]) == sorted(SUITES)


@pytest.mark.parametrize("commune", [True, False])
def test_the_issuer_documents_pass_json_ld_safe_mode(client, db, settings, tmp_path, commune):
    user, _ = completed_course(client, db, settings, tmp_path)
    prefix = f"/issuer/{user.commune_id}" if commune else "/issuer"
    documents = [client.get(prefix).json(), client.get(f"{prefix}/status-list").json(),
                 client.get(f"{prefix}/did.json" if commune else "/.well-known/did.json").json()]
    answer = run_verifier({"safe": documents})
    assert [item["ok"] for item in answer["safe"]] == [True, True, True], answer["safe"]


def _commune(db, user):
    from lms.core.models import Place

    return db.get(Place, user.commune_id)
