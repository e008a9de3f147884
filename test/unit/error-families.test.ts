import assert from 'node:assert/strict';
import { readFileSync, globSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ContentTrustError,
  ExpiredError,
  InputError,
  InternalError,
  MultiError,
  NetworkError,
  NotInitialisedError,
  PublishError,
  RegistryError,
  TrustError,
  VersionConflictError,
  asContentTrustError,
  failureMessage,
  valuesOrThrow,
  type ErrorCode,
  type InputErrorCode,
  type InternalErrorCode,
  type NetworkErrorCode,
  type PublishErrorCode,
  type RegistryErrorCode,
  type TrustErrorCode,
} from '../../src/errors.ts';
import { reportFailure } from '../../src/action/report.ts';
import { assertCode } from './helpers/errors.ts';

// The public contract: every code users match on, none renamed or removed.
// A code missing here, or one ErrorCode lacks, is a type error.
const EVERY_CODE: Record<ErrorCode, true> = {
  INPUT_INVALID: true,
  PROXY_INVALID: true,
  PROXY_FAILED: true,
  REFERENCE_INVALID: true,
  KEY_INVALID: true,
  KEY_UNSUPPORTED: true,
  PASSPHRASE_WRONG: true,
  PASSPHRASE_MISSING: true,
  CREDENTIALS_HELPER_FAILED: true,
  POLICY_INVALID: true,
  DOCKERFILE_INVALID: true,
  TRUST_SERVER_INVALID: true,
  FILE_NOT_FOUND: true,
  FILE_IS_DIRECTORY: true,
  FILE_NOT_DIRECTORY: true,
  FILE_UNREADABLE: true,
  FILE_NOT_TEXT: true,
  FILE_TOO_LARGE: true,
  SERVER_UNREACHABLE: true,
  TLS_FAILED: true,
  AUTH_REFUSED: true,
  AUTH_REALM_INSECURE: true,
  HTTP_ERROR: true,
  TIMEOUT: true,
  LENGTH_EXCEEDED: true,
  TAG_NOT_FOUND: true,
  PIN_MISMATCH: true,
  BUILD_METADATA_INVALID: true,
  DIGEST_MISMATCH: true,
  MANIFEST_INVALID: true,
  MANIFEST_MISMATCH: true,
  MANIFEST_UNSUPPORTED: true,
  REPO_NOT_INITIALISED: true,
  METADATA_INVALID: true,
  KEY_ID_MISMATCH: true,
  THRESHOLD_NOT_MET: true,
  HASH_MISMATCH: true,
  ROLLBACK: true,
  EXPIRED: true,
  EXPIRING: true,
  ROOT_INVALID: true,
  ROOT_NOT_PINNED: true,
  ROOT_ROTATION_INVALID: true,
  NOT_SIGNED: true,
  SIGNER_MISSING: true,
  POLICY_NO_MATCH: true,
  POLICY_VALIDITY: true,
  KEY_NOT_DELEGATE: true,
  PUBLISH_REJECTED: true,
  VERSION_CONFLICT: true,
  SNAPSHOT_KEY_NOT_ON_SERVER: true,
  POST_VERIFY_FAILED: true,
  KEY_WRONG_ROLE: true,
  SIGNER_NOT_FOUND: true,
  PKCS11_URI_INVALID: true,
  PKCS11_TOOL_MISSING: true,
  PKCS11_MODULE_INVALID: true,
  PKCS11_TOKEN_NOT_FOUND: true,
  PKCS11_OBJECT_NOT_FOUND: true,
  PKCS11_AMBIGUOUS: true,
  PKCS11_PIN_INCORRECT: true,
  PKCS11_PIN_LOCKED: true,
  PKCS11_FAILED: true,
  SIGN_COMMAND_FAILED: true,
  SIGN_COMMAND_TIMEOUT: true,
  SIGNATURE_INVALID: true,
  TAG_OUTSIDE_PATHS: true,
  SIGNER_PATHS_CONFLICT: true,
  SIGNER_KEY_NOT_FOUND: true,
  SIGNER_LAST_KEY: true,
  DEPLOY_FILE_INVALID: true,
  DEPLOY_IMAGE_UNRESOLVED: true,
  DEPLOY_PIN_UNSUPPORTED: true,
  DEPLOY_FILE_CHANGED: true,
  FILE_OUTSIDE_WORKSPACE: true,
  FILE_UNWRITABLE: true,
  INTERNAL: true,
};

// Each code is one family's: no two families share one (each line is a type error otherwise).
type Shared<A, B> = [Extract<A, B>] extends [never] ? true : false;
const families = [
  true satisfies Shared<InputErrorCode, NetworkErrorCode | RegistryErrorCode | TrustErrorCode | PublishErrorCode | InternalErrorCode>,
  true satisfies Shared<NetworkErrorCode, RegistryErrorCode | TrustErrorCode | PublishErrorCode | InternalErrorCode>,
  true satisfies Shared<RegistryErrorCode, TrustErrorCode | PublishErrorCode | InternalErrorCode>,
  true satisfies Shared<TrustErrorCode, PublishErrorCode | InternalErrorCode>,
  true satisfies Shared<PublishErrorCode, InternalErrorCode>,
];

describe('error families', () => {
  it('ErrorCode is every stable code, each in one family', () => {
    assert.equal(Object.keys(EVERY_CODE).length, 77);
    assert.ok(families.every(Boolean));
  });

  it('a family takes only its own codes', () => {
    // @ts-expect-error TIMEOUT is a NetworkError's code, not an InputError's
    assert.equal(new InputError('TIMEOUT', 'x').code, 'TIMEOUT');
    // @ts-expect-error EXPIRED is a TrustError's code
    assert.ok(new PublishError('EXPIRED', 'x'));
    // @ts-expect-error no such code
    assert.ok(new TrustError('NOT_A_CODE', 'x'));
    // @ts-expect-error every error is of a family: the root is abstract
    assert.ok(new ContentTrustError('INTERNAL', 'x'));
    const e = new RegistryError('TAG_NOT_FOUND', 'no such tag');
    const code: RegistryErrorCode = e.code;
    assert.equal(code, 'TAG_NOT_FOUND');
  });

  it('each error has code, message, cause and its class name', () => {
    const cause = new Error('socket hang up');
    const e = new NetworkError('HTTP_ERROR', 'r.test: HTTP 503', { cause, status: 503 });
    assert.ok(e instanceof ContentTrustError && e instanceof Error);
    assert.deepEqual([e.name, e.code, e.message, e.cause, e.status], ['NetworkError', 'HTTP_ERROR', 'r.test: HTTP 503', cause, 503]);
    assert.equal(new InputError('INPUT_INVALID', 'x').name, 'InputError');
    assert.equal(new InternalError('INTERNAL', 'x').name, 'InternalError');
  });

  it('the classes control flow tells apart fix their code and are of their family', () => {
    const cases: [ContentTrustError, abstract new (...args: never[]) => ContentTrustError, string, ErrorCode][] = [
      [new VersionConflictError('r.test/a: another publish changed the repository first'), PublishError, 'VersionConflictError', 'VERSION_CONFLICT'],
      [new NotInitialisedError('r.test/a has no trust data'), TrustError, 'NotInitialisedError', 'REPO_NOT_INITIALISED'],
      [new ExpiredError('r.test/a: timestamp.json expired'), TrustError, 'ExpiredError', 'EXPIRED'],
    ];
    for (const [e, family, name, code] of cases) {
      assert.ok(e instanceof family, name);
      assert.equal(e.name, name);
      assert.equal(e.code, code);
    }
    const cause = new Error('inner');
    assert.equal(new ExpiredError('x', { cause }).cause, cause);
  });

  it('no code string a class fixes appears in src/ outside errors.ts: control flow uses the class', () => {
    const owned = ['VERSION_CONFLICT', 'REPO_NOT_INITIALISED', 'EXPIRED'];
    for (const file of globSync('src/**/*.ts').filter((f) => f !== 'src/errors.ts')) {
      const text = readFileSync(file, 'utf8');
      for (const code of owned) assert.ok(!text.includes(`'${code}'`), `${file} names '${code}': construct or test its class instead`);
    }
  });

  it('asContentTrustError keeps ours and makes anything else INTERNAL, with the cause', () => {
    const ours = new TrustError('ROLLBACK', 'x');
    assert.equal(asContentTrustError(ours), ours);
    const foreign = new TypeError('boom');
    const wrapped = asContentTrustError(foreign);
    assert.ok(wrapped instanceof InternalError);
    assert.deepEqual([wrapped.code, wrapped.message, wrapped.cause], ['INTERNAL', 'unexpected error: boom', foreign]);
    assert.equal(asContentTrustError('text').message, 'unexpected error: text');
  });
});

describe('MultiError', () => {
  it('one failure: its message (with the subject when it lacks it), its code, its error as cause', () => {
    const error = new TrustError('NOT_SIGNED', 'has no trust data for tag v1');
    const m = new MultiError([{ subject: 'r.test/a:v1', error }]);
    assert.deepEqual([m.code, m.message, m.cause, m.failures.length], ['NOT_SIGNED', 'r.test/a:v1: has no trust data for tag v1', error, 1]);
    const named = new MultiError([{ subject: 'r.test/a:v1', error: new TrustError('NOT_SIGNED', 'image r.test/a:v1 is not signed') }]);
    assert.equal(named.message, 'image r.test/a:v1 is not signed');
  });

  it('several: the first code, every failure kept, the message listing 20 and counting the rest', () => {
    const failures = Array.from({ length: 25 }, (_, i) => ({ subject: `r.test/img${i}:v1`, error: i === 0 ? new InputError('REFERENCE_INVALID', 'bad') : new NetworkError('TIMEOUT', 'slow') }));
    const m = new MultiError(failures);
    assert.equal(m.code, 'REFERENCE_INVALID');
    assert.equal(m.failures.length, 25);
    const lines = m.message.split('\n');
    assert.equal(lines[0], '25 failures:');
    assert.equal(lines[1], '- r.test/img0:v1: bad');
    assert.equal(lines.length, 1 + 20 + 1);
    assert.equal(lines.at(-1), '- and 5 more');
  });

  it('a failure carries its policy entry as context, shown after the message, which stays as thrown', () => {
    const error = new TrustError('SIGNER_MISSING', 'image r.test/a:v1: signer "release" did not sign it');
    const failure = { subject: 'r.test/a:v1', error, policyEntry: 'strict' };
    assert.equal(failureMessage(failure), 'image r.test/a:v1: signer "release" did not sign it [policy entry "strict"]');
    assert.equal(new MultiError([failure]).message, 'image r.test/a:v1: signer "release" did not sign it [policy entry "strict"]');
    assert.equal(error.message, 'image r.test/a:v1: signer "release" did not sign it');
    assert.equal(failureMessage({ subject: 'x', error }), error.message);
  });

  it('valuesOrThrow: the values in order, or one MultiError of every failure (foreign ones INTERNAL)', () => {
    assert.deepEqual(
      valuesOrThrow(
        [
          { ok: true, value: 1 },
          { ok: true, value: 2 },
        ],
        (i) => `s${i}`,
      ),
      [1, 2],
    );
    const m = assertCode(
      () =>
        valuesOrThrow(
          [
            { ok: true, value: 1 },
            { ok: false, error: new RangeError('oops') },
            { ok: false, error: new TrustError('ROLLBACK', 'older') },
          ],
          (i) => `s${i}`,
        ),
      'INTERNAL',
      's1: unexpected error: oops',
    );
    assert.ok(m instanceof MultiError);
    assert.deepEqual(
      m.failures.map((f) => [f.subject, f.error.code]),
      [
        ['s1', 'INTERNAL'],
        ['s2', 'ROLLBACK'],
      ],
    );
  });
});

describe('reportFailure (the action)', () => {
  it('shows each failure with its policy entry; the step fails on the code', (t) => {
    const written: string[] = [];
    t.mock.method(process.stdout, 'write', (chunk: string) => written.push(String(chunk)) > 0);
    const exitCode = process.exitCode;
    const failures = [
      { subject: 'r.test/a:v1', error: new TrustError('SIGNER_MISSING', 'image r.test/a:v1: signer "release" did not sign it'), policyEntry: 'strict' },
      { subject: 'r.test/b:v1', error: new RegistryError('TAG_NOT_FOUND', 'image r.test/b:v1: the registry has no such tag') },
    ];
    try {
      const reported = reportFailure(new MultiError(failures), 'two images');
      assert.deepEqual(
        reported.map((f) => f.message),
        ['image r.test/a:v1: signer "release" did not sign it [policy entry "strict"]', 'image r.test/b:v1: the registry has no such tag'],
      );
    } finally {
      process.exitCode = exitCode;
    }
    const out = written.join('');
    assert.match(out, /::error title=SIGNER_MISSING%3A r\.test\/a%3Av1::image r\.test\/a:v1: signer "release" did not sign it \[policy entry "strict"\]/);
    assert.match(out, /::error::SIGNER_MISSING: 2 images or repositories failed/);
    assert.equal(failures[0]!.error.message, 'image r.test/a:v1: signer "release" did not sign it');
  });
});

describe('reportFailure (the action): deployment files', () => {
  it('annotates a failure at each file and line that names the image (properties escaped), and says where in the message', (t) => {
    const written: string[] = [];
    t.mock.method(process.stdout, 'write', (chunk: string) => written.push(String(chunk)) > 0);
    const exitCode = process.exitCode;
    const places = [
      { file: 'k8s/app,1.yaml', line: 12 },
      { file: 'compose::x.yaml', line: 3 },
    ];
    try {
      const reported = reportFailure(new MultiError([{ subject: 'r.test/a:v1', error: new TrustError('NOT_SIGNED', 'image r.test/a:v1: not signed'), places }]), 'verify');
      assert.equal(reported[0]!.message, 'image r.test/a:v1: not signed [named at k8s/app,1.yaml:12, compose::x.yaml:3]');
    } finally {
      process.exitCode = exitCode;
    }
    const lines = written.join('').split('\n');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('::error title=')).map((l) => l.slice(0, l.indexOf('::', 2) + 2)),
      ['::error title=NOT_SIGNED%3A r.test/a%3Av1,file=k8s/app%2C1.yaml,line=12::', '::error title=NOT_SIGNED%3A r.test/a%3Av1,file=compose%3A\\%3Ax.yaml,line=3::'],
    );
  });
});

describe('assertCode', () => {
  it('checks code and message of a throw, a rejection and an async function, and returns the error', async () => {
    const e = assertCode(
      () => {
        throw new InputError('INPUT_INVALID', 'the mode is missing');
      },
      'INPUT_INVALID',
      /mode/,
    );
    assert.equal(e.name, 'InputError');
    await assertCode(Promise.reject(new TrustError('ROLLBACK', 'older')), 'ROLLBACK', 'older');
    await assertCode(async () => {
      throw new TrustError('ROLLBACK', 'older');
    }, 'ROLLBACK');
  });

  it('fails on another code, another message, a foreign error, or nothing thrown', async () => {
    assert.throws(
      () =>
        assertCode(() => {
          throw new InputError('INPUT_INVALID', 'x');
        }, 'KEY_INVALID'),
      /expected KEY_INVALID, got INPUT_INVALID: x/,
    );
    assert.throws(
      () =>
        assertCode(
          () => {
            throw new InputError('INPUT_INVALID', 'x');
          },
          'INPUT_INVALID',
          'y',
        ),
      /to include "y"/,
    );
    assert.throws(
      () =>
        assertCode(
          () => {
            throw new InputError('INPUT_INVALID', 'x');
          },
          'INPUT_INVALID',
          /y/,
        ),
      assert.AssertionError,
    );
    assert.throws(
      () =>
        assertCode(() => {
          throw new Error('plain');
        }, 'INPUT_INVALID'),
      /expected a ContentTrustError with code INPUT_INVALID, got Error: plain/,
    );
    assert.throws(() => assertCode(() => 1, 'INPUT_INVALID'), /nothing was/);
    await assert.rejects(assertCode(Promise.resolve(1), 'INPUT_INVALID'), /the promise was fulfilled/);
  });
});
