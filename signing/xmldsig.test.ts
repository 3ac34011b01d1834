/**
 * XMLDSig enveloped signatures, checked by our verifier and by xmlsec1
 * (libxml2's C14N, an independent implementation), in both directions.
 *
 * xmlsec1 is run as
 *   xmlsec1 --verify --enabled-key-data x509 --trusted-pem <root> --untrusted-pem <intermediate> file.xml
 * --enabled-key-data x509: the key may only come from the X509Certificate in
 * KeyInfo (no KeyValue/KeyName shortcuts), as in the Kazakh profile;
 * --trusted-pem: the test root is the one trust anchor; --untrusted-pem: the
 * intermediate is offered to build the chain but trusted only through the root.
 * So a pass means the signature verifies with the certificate the document
 * carries, and that certificate chains to the test root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSigningError } from './errors.js';
import { softwareKey } from './software-key.js';
import { TestPki, standardPeople, type Person } from './testing/pki.js';
import type { SigningKey } from './types.js';
import { XMLDSIG, signXml, verifyXml } from './xmldsig.js';

let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
let dir: string;
let fileNo = 0;

/**
 * Cyrillic (Kazakh and Russian) text, a default and a prefixed namespace, an
 * xml:lang the signature inherits, attributes out of order with a character
 * reference for a line feed, a CR as a character reference, CRLF line ends, a
 * U+2028 (an XML 1.0 parser must keep it), comments inside and around, a PI.
 */
const DOC = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<!-- Қызмет: анықтама -->',
  '<?qyzmet-form version="2"?>',
  '<certificate xmlns="urn:kz:gov:qyzmet:reference:1" xmlns:p="urn:kz:gov:person" xml:lang="kk" z="last" a="first">',
  '  <p:person p:iin="850315400015" note="бірінші&#10;екінші">ӘБІЛҚАСЫМОВА Гүлнар Серікқызы</p:person>',
  '  <!-- a comment is not signed -->',
  '  <body>Справка выдана для предъявления по месту требования &amp; т.д. &lt;5&gt;\u2028конец</body>',
  '  <raw>строка&#13;с возвратом каретки</raw>',
  '  <?inner instruction?>',
  '  <empty/>',
  '</certificate>',
  '<!-- after -->',
  '',
].join('\r\n');

function keyOf(person: Person): SigningKey {
  return softwareKey({ key: person.keyPem, certificate: person.certDer, label: person.name });
}

function file(name: string, data: string): string {
  const path = join(dir, `${fileNo++}-${name}`);
  writeFileSync(path, data);
  return path;
}

function xmlsec(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('xmlsec1', args, { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

function xmlsecVerify(xml: string): { status: number | null; output: string } {
  return xmlsec([
    '--verify', '--enabled-key-data', 'x509', '--trusted-pem', pki.root.certPath, '--untrusted-pem', pki.ca.certPath,
    file('signed.xml', xml),
  ]); // prettier-ignore
}

/** Signs an XMLDSig template with xmlsec1 (its own C14N and serialisation), for the reverse direction. */
function xmlsecSign(template: string, person: Person): string {
  const out = join(dir, `${fileNo++}-xmlsec-signed.xml`);
  const r = xmlsec([
    '--sign', '--privkey-pem', `${person.keyPath},${person.certPath}`, '--output', out, file('template.xml', template),
  ]); // prettier-ignore
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8');
}

function template(options: { c14n: string; prefix: string; signatureMethod: string; body: string }): string {
  const p = options.prefix ? `${options.prefix}:` : '';
  const ns = options.prefix ? `xmlns:${options.prefix}` : 'xmlns';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<app:request xmlns:app="urn:kz:app" xmlns:x="urn:x" xml:space="preserve" id="r1">${options.body}` +
    `<${p}Signature ${ns}="${XMLDSIG.ns}">\n` +
    `<${p}SignedInfo>\n<${p}CanonicalizationMethod Algorithm="${options.c14n}"/>\n` +
    `<${p}SignatureMethod Algorithm="${options.signatureMethod}"/>\n` +
    `<${p}Reference URI="">\n<${p}Transforms>\n<${p}Transform Algorithm="${XMLDSIG.envelopedSignature}"/>\n` +
    `<${p}Transform Algorithm="${options.c14n}"/>\n</${p}Transforms>\n` +
    `<${p}DigestMethod Algorithm="${XMLDSIG.sha256}"/>\n<${p}DigestValue/>\n</${p}Reference>\n</${p}SignedInfo>\n` +
    `<${p}SignatureValue/>\n<${p}KeyInfo>\n<${p}X509Data/>\n</${p}KeyInfo>\n</${p}Signature></app:request>\n`
  );
}

function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

function elementText(xml: string, localName: string): string {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  return doc.getElementsByTagNameNS(XMLDSIG.ns, localName)[0]!.textContent ?? '';
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-xmldsig-'));
  pki = new TestPki(dir);
  people = standardPeople(pki);
});

describe('signXml', () => {
  it('signs with RSA in the Kazakh profile; both verifiers accept it', async () => {
    const signed = await signXml(DOC, keyOf(people.head));

    // The original text is kept byte for byte; the signature is the document element's last child.
    const at = signed.indexOf('<ds:Signature ');
    expect(signed.slice(0, at) + signed.slice(signed.indexOf('</ds:Signature>') + 15)).toBe(DOC);
    expect(signed.slice(at)).toMatch(/^<ds:Signature [^]*<\/ds:Signature><\/certificate>\r\n<!-- after -->\r\n$/);

    const doc = new DOMParser().parseFromString(signed, 'application/xml');
    const algorithm = (name: string) =>
      [...Array.from(doc.getElementsByTagNameNS(XMLDSIG.ns, name))].map((e) => e.getAttribute('Algorithm'));
    expect(algorithm('CanonicalizationMethod')).toEqual([XMLDSIG.c14n]);
    expect(algorithm('SignatureMethod')).toEqual([XMLDSIG.rsaSha256]);
    expect(algorithm('Transform')).toEqual([XMLDSIG.envelopedSignature, XMLDSIG.c14n]);
    expect(algorithm('DigestMethod')).toEqual([XMLDSIG.sha256]);
    expect(doc.getElementsByTagNameNS(XMLDSIG.ns, 'Reference')[0]!.getAttribute('URI')).toBe('');
    expect(Buffer.from(elementText(signed, 'X509Certificate'), 'base64')).toEqual(people.head.certDer);

    expect(verifyXml(signed)).toEqual({ ok: true, certificate: Uint8Array.from(people.head.certDer), warnings: [] });
    const r = xmlsecVerify(signed);
    expect(r.output).toContain('OK');
    expect(r.status).toBe(0);
  });

  it('signs with EC P-256: ecdsa-sha256 with r||s (64 bytes), accepted by xmlsec1', async () => {
    const signed = await signXml(DOC, keyOf(people.employeeEc));
    expect(signed).toContain(`<ds:SignatureMethod Algorithm="${XMLDSIG.ecdsaSha256}"/>`);
    expect(Buffer.from(elementText(signed, 'SignatureValue'), 'base64')).toHaveLength(64);
    expect(verifyXml(signed)).toEqual({
      ok: true,
      certificate: Uint8Array.from(people.employeeEc.certDer),
      warnings: [],
    });
    expect(xmlsecVerify(signed).status).toBe(0);
  });

  it('signs a self-closing document element and one whose default namespace the signature does not share', async () => {
    for (const xml of [
      '<root attr="x"/>',
      '<root xmlns="urn:a" ><child xmlns=""/></root >\n',
      '<s:Envelope xmlns:s="urn:soap" xmlns:SOAP-ENV="urn:soap-env" xmlns:a="urn:a"><s:Body/></s:Envelope>',
    ]) {
      const signed = await signXml(xml, keyOf(people.sign));
      expect(verifyXml(signed)).toMatchObject({ ok: true });
      const r = xmlsecVerify(signed);
      expect(r.status, `${xml}\n${r.output}`).toBe(0);
    }
  });

  it('refuses what is not well-formed XML, and a document that already carries an enveloped signature', async () => {
    for (const bad of ['', 'plain text', '<a><b></a>', '<a x="1" x="2"/>', '<a>&undefined;</a>', '<a/><b/>']) {
      await expect(signXml(bad, keyOf(people.sign))).rejects.toSatisfy((e) => isSigningError(e, 'malformedSignature'));
    }
    const signed = await signXml(DOC, keyOf(people.sign));
    await expect(signXml(signed, keyOf(people.head))).rejects.toSatisfy((e) => isSigningError(e, 'malformedSignature'));
  });

  it('refuses a key that is not the certificate’s', async () => {
    const wrong = softwareKey({ key: people.head.keyPem, certificate: people.sign.certDer, label: 'wrong' });
    await expect(signXml(DOC, wrong)).rejects.toSatisfy((e) => isSigningError(e, 'signatureInvalid'));
  });
});

describe('verifyXml', () => {
  let signed: string;
  beforeAll(async () => {
    signed = await signXml(DOC, keyOf(people.sign));
  });

  it('says contentMismatch for changed text, and xmlsec1 fails too', () => {
    const changed = replaceOnce(signed, 'Справка выдана', 'Справка вЫдана');
    expect(verifyXml(changed)).toMatchObject({
      ok: false,
      code: 'contentMismatch',
      certificate: Uint8Array.from(people.sign.certDer),
    });
    const r = xmlsecVerify(changed);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAIL|failed/i);

    const attribute = replaceOnce(signed, 'p:iin="850315400015"', 'p:iin="850315400016"');
    expect(verifyXml(attribute)).toMatchObject({ ok: false, code: 'contentMismatch' });
    expect(xmlsecVerify(attribute).status).not.toBe(0);
  });

  it('ignores what C14N ignores: comments, the XML declaration, attribute order, line ends', () => {
    const same = signed
      .replace('<!-- a comment is not signed -->', '<!-- another comment -->')
      .replace('<?xml version="1.0" encoding="UTF-8"?>\r\n', '')
      .replace('z="last" a="first"', 'a="first"   z="last"')
      .replace(/\r\n/g, '\n');
    expect(verifyXml(same)).toMatchObject({ ok: true });
    expect(xmlsecVerify(same).status).toBe(0);
  });

  it('says signatureInvalid for a changed SignatureValue, DigestValue or certificate', () => {
    const value = elementText(signed, 'SignatureValue');
    const bytes = Buffer.from(value, 'base64');
    bytes[10]! ^= 1;
    expect(verifyXml(replaceOnce(signed, value, bytes.toString('base64')))).toMatchObject({
      ok: false,
      code: 'signatureInvalid',
    });

    const digest = elementText(signed, 'DigestValue');
    const otherDigest = Buffer.alloc(32, 7).toString('base64');
    const changedDigest = replaceOnce(signed, digest, otherDigest);
    expect(verifyXml(changedDigest)).toMatchObject({ ok: false, code: 'signatureInvalid' });
    expect(xmlsecVerify(changedDigest).status).not.toBe(0);

    const cert = elementText(signed, 'X509Certificate');
    const otherCert = replaceOnce(signed, cert, people.head.certDer.toString('base64'));
    expect(verifyXml(otherCert)).toMatchObject({
      ok: false,
      code: 'signatureInvalid',
      certificate: Uint8Array.from(people.head.certDer),
    });
  });

  it('says malformedSignature or unsupportedAlgorithm for what it cannot check', () => {
    const cases: Array<[string, string]> = [
      ['<not xml', 'malformedSignature'],
      [DOC, 'malformedSignature'], // no signature
      [signed.replace('</certificate>', `${signed.slice(signed.indexOf('<ds:Signature '), signed.indexOf('</ds:Signature>') + 15)}</certificate>`), 'malformedSignature'], // two
      [signed.replace('URI=""', 'URI="#x"'), 'malformedSignature'],
      [signed.replace(/<ds:X509Certificate>[^<]*/, '<ds:X509Certificate>'), 'malformedSignature'],
      [signed.replace(/<ds:SignatureValue>[^<]*/, '<ds:SignatureValue>@@@'), 'malformedSignature'],
      [signed.replace(/<ds:KeyInfo>.*<\/ds:KeyInfo>/, ''), 'malformedSignature'],
      [signed.replace(XMLDSIG.rsaSha256, 'urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512'), 'unsupportedAlgorithm'],
      [signed.replace(XMLDSIG.sha256, 'http://www.w3.org/2001/04/xmldsig-more#gostr34112015-512'), 'unsupportedAlgorithm'],
      [signed.replace(`<ds:Transform Algorithm="${XMLDSIG.c14n}"/>`, '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>'), 'unsupportedAlgorithm'],
      [signed.replace(`<ds:Transform Algorithm="${XMLDSIG.envelopedSignature}"/>`, ''), 'unsupportedAlgorithm'],
    ]; // prettier-ignore
    for (const [xml, code] of cases) {
      expect(verifyXml(xml), xml.slice(0, 80)).toMatchObject({ ok: false, code });
    }
  });

  it('verifies what xmlsec1 signed: prefixed or default-namespace Signature, inclusive or exclusive C14N', async () => {
    const body =
      '\n  <x:item x:code="Ә-1" b="2" a="1">Қазақстан Республикасы</x:item>\n  <!-- note -->\n  <?pi in body?>\n';
    for (const c14n of [XMLDSIG.c14n, XMLDSIG.excC14n]) {
      for (const prefix of ['ds', '']) {
        for (const person of [people.head, people.employeeEc]) {
          const signatureMethod = person === people.head ? XMLDSIG.rsaSha256 : XMLDSIG.ecdsaSha256;
          const theirs = xmlsecSign(template({ c14n, prefix, signatureMethod, body }), person);
          const label = `${c14n} prefix "${prefix}" ${person.name}`;
          expect(verifyXml(theirs), label).toEqual({
            ok: true,
            certificate: Uint8Array.from(person.certDer),
            warnings: [],
          });
          expect(verifyXml(theirs.replace('Қазақстан', 'Казахстан')), label).toMatchObject({
            ok: false,
            code: 'contentMismatch',
          });
        }
      }
    }
  });

  it('verifies a legacy SHA-1 signature with the warning sha1, and refuses it when SHA-1 is not allowed', () => {
    const body = '\n  <x:item>өтінім</x:item>\n';
    const sha1 = template({
      c14n: XMLDSIG.c14n,
      prefix: 'ds',
      signatureMethod: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      body,
    }).replace(XMLDSIG.sha256, 'http://www.w3.org/2000/09/xmldsig#sha1');
    const theirs = xmlsecSign(sha1, people.head);
    expect(verifyXml(theirs)).toEqual({
      ok: true,
      certificate: Uint8Array.from(people.head.certDer),
      warnings: ['sha1'],
    });
    expect(verifyXml(theirs, { allowSha1: false })).toMatchObject({ ok: false, code: 'unsupportedAlgorithm' });
    // Only the digest in SHA-1 is enough to refuse it.
    const digestOnly = xmlsecSign(
      template({ c14n: XMLDSIG.c14n, prefix: 'ds', signatureMethod: XMLDSIG.rsaSha256, body }).replace(
        XMLDSIG.sha256,
        'http://www.w3.org/2000/09/xmldsig#sha1',
      ),
      people.head,
    );
    expect(verifyXml(digestOnly, { allowSha1: false })).toMatchObject({ ok: false, code: 'unsupportedAlgorithm' });
  });

  it('checks that the signed document is the expected one (option document)', async () => {
    const signed = await signXml(DOC, keyOf(people.head));
    expect(verifyXml(signed, { document: DOC })).toMatchObject({ ok: true });
    const other = DOC.replace('ӘБІЛҚАСЫМОВА', 'СЕРГЕЕВ');
    expect(verifyXml(signed, { document: other })).toMatchObject({ ok: false, code: 'contentMismatch' });
    expect(verifyXml(signed, { document: '<not xml' })).toMatchObject({ ok: false, code: 'contentMismatch' });
  });

  it('signs and verifies a 70 KB document in reasonable time (logged, not asserted)', async () => {
    const rows = Array.from(
      { length: 800 },
      (_, i) => `  <row n="${i}" kind="төлем"><name>Алушы ${i}</name><sum currency="KZT">${i * 1000}</sum></row>`,
    );
    const big = `<?xml version="1.0" encoding="UTF-8"?>\n<registry xmlns="urn:kz:registry">\n${rows.join('\n')}\n</registry>\n`;
    const key = keyOf(people.sign);
    await signXml(big, key);
    let t = performance.now();
    const runs = 5;
    let result = '';
    for (let i = 0; i < runs; i++) result = await signXml(big, key);
    const signMs = (performance.now() - t) / runs;
    t = performance.now();
    for (let i = 0; i < runs; i++) verifyXml(result);
    const verifyMs = (performance.now() - t) / runs;
    console.log(
      `[xmldsig] ${(big.length / 1024).toFixed(0)} KB document: sign ${signMs.toFixed(1)} ms (includes its self-check), verify ${verifyMs.toFixed(1)} ms`,
    );
    expect(verifyXml(result)).toMatchObject({ ok: true });
  });
});
