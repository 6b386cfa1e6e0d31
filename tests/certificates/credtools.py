"""Fetching what a verifier needs over HTTP, and running Digital Bazaar's verifier (verify.mjs)."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lms.plugins.certificates.credential import OB_SCHEMA_FILE, did_web_url

VERIFIER = Path(__file__).parent / "verifier"


def path_of(url: str) -> str:
    """The path (and query) of an URL of the site under test, as a TestClient asks for it."""
    if url.startswith("did:web:"):
        url = did_web_url(url)
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def client_fetch(client):
    """verify_file's fetch, served by the app in-process."""
    def fetch(url: str):
        response = client.get(path_of(url))
        assert response.status_code == 200, (url, response.status_code)
        return response.json()
    return fetch


def issuer_documents(client, credential: dict) -> dict:
    """What the credential points to: its issuer's DID document and its status list, by id."""
    did = credential["issuer"]["id"]
    documents = {did: client_fetch(client)(did)}
    status = credential.get("credentialStatus")
    if status:
        documents[status["statusListCredential"]] = client_fetch(client)(status["statusListCredential"])
    return documents


def schema_errors(document: dict) -> list[str]:
    """What the Open Badges 3.0 JSON Schema (1EdTech, shipped with the plugin) finds wrong."""
    import jsonschema

    schema = json.loads(OB_SCHEMA_FILE.read_text("utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    checker = validator(schema, format_checker=validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message}" for e in checker.iter_errors(document)]


def run_verifier(payload: dict) -> dict:
    """verify.mjs with @digitalbazaar/vc. In CI a missing installation is a failure, not a skip."""
    node = shutil.which("node")
    installed = (VERIFIER / "node_modules" / "@digitalbazaar" / "vc").is_dir()
    if node is None or not installed:
        reason = ("the independent verifier is not installed: run `npm ci --prefix tests/certificates/verifier`"
                  if node else "node is not on this machine")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    result = subprocess.run([node, str(VERIFIER / "verify.mjs")], input=json.dumps(payload),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
