import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bounded, forLog, forSummary, jsonForLog, linesForLog, LOG_TEXT_LIMIT } from '../../src/util/untrusted-text.ts';
import { commandOf, runnerCommands } from './helpers/runner-commands.ts';

/** Text a hostile server, Dockerfile or policy file could send. */
const HOSTILE = [
  '::error::pwned',
  '\n::set-env name=X::y',
  '\r::add-mask::x',
  '\r\n::stop-commands::tok',
  'ok\u2028::error::ls',
  'ok\u2029::error::ps',
  'ok\u0085::error::nel',
  '\u00a0\u3000::warning::spaces first',
  '\t::notice::tab first',
  '::ERROR title=x::upper case',
  ':::error:::triple',
  ':\u00ad:error::soft hyphen between the colons',
  ':\u200b:error::zero-width space between the colons',
  '##[set-output name=a]b',
  'text before ##[error]pwned',
  '###[error]three',
  '#\u200b#[error]zero-width in the mark',
  '#\ufeff#[group]bom in the mark',
];

/** Text that would repaint a terminal or hide what precedes it. */
const REPAINT = ['\u001b[2K\u001b[1Gfake line', '\u009b2Kc1 csi', 'a\0b', '\u001b]0;title\u0007', 'visible\rhidden', '\u202eevil'];

/** Every code point the log form must never let through as it is. */
const INVISIBLE = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i), 0xad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0xfeff, 0xe0041].map(
  (c) => String.fromCodePoint(c),
);

describe('runner-rules parser (the test model)', () => {
  it('finds the command in every raw hostile text, so the checks below can fail', () => {
    // The runner does not end lines at U+2028, U+2029 or U+0085; log viewers and terminals may.
    for (const h of HOSTILE) assert.ok(runnerCommands(h.replace(/[\u2028\u2029\u0085]/g, '\n')).length > 0, `no command found in ${JSON.stringify(h)}`);
    assert.equal(commandOf('ok\u2028::error::x'), undefined, 'the runner reads U+2028 as part of the line');
  });
});

describe('forLog', () => {
  it('no hostile text yields a command, alone on a line or after other text', () => {
    for (const h of HOSTILE) {
      for (const line of [forLog(h), `image x: ${forLog(h)}`, ` ${forLog(h)}`]) {
        assert.deepEqual(runnerCommands(`${line}\n`), [], `${JSON.stringify(h)} became ${JSON.stringify(line)}`);
      }
    }
  });

  it('makes every control, format and separator character visible: one line, nothing to repaint a terminal', () => {
    for (const c of INVISIBLE) {
      const out = forLog(`a${c}b`);
      assert.ok(!out.includes(c), `U+${c.codePointAt(0)!.toString(16)} left as it is`);
      assert.match(out, /^a\\(?:[nrt]|x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]+\})b$/);
    }
  });

  it('leaves nothing that repaints a terminal', () => {
    // eslint-disable-next-line no-control-regex -- the control characters are what the test looks for
    for (const r of REPAINT) assert.doesNotMatch(forLog(r), /[\u0000-\u001f\u007f-\u009f\u202e]/, JSON.stringify(r));
  });

  it('writes the escapes documented in the module', () => {
    assert.equal(forLog('a\nb\r\nc\td'), 'a\\nb\\r\\nc\\td');
    assert.equal(forLog('\u001b[31mred'), '\\x1b[31mred');
    assert.equal(forLog('x\u2028y'), 'x\\u2028y');
    assert.equal(forLog('::error::x'), ':\\:error:\\:x');
    assert.equal(forLog(':::'), ':\\:\\:');
    assert.equal(forLog('say ##[error]x'), 'say #\\#[error]x');
    assert.equal(forLog('###[x'), '##\\#[x');
    assert.equal(forLog('plain text: 1 # 2 [3]'), 'plain text: 1 # 2 [3]');
  });

  it('bounds the text and says how much was cut, never splitting a character', () => {
    const out = forLog('y'.repeat(1_000_000));
    assert.ok(out.length < LOG_TEXT_LIMIT + 100);
    assert.match(out, /… \[995904 more characters cut\]$/);
    const emoji = bounded(`${'a'.repeat(9)}😀tail`, 10);
    assert.equal(emoji, `${'a'.repeat(9)}… [6 more characters cut]`);
  });
});

/** What a browser shows for an entity-encoded text. */
function decodeEntities(html: string): string {
  return html.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

describe('forSummary', () => {
  const payloads = [
    '<img src=x onerror=alert(1)>',
    '</td></tr></table><script>alert(1)</script>',
    '[click](https://evil.example)',
    '![image](https://evil.example/x.png)',
    '<https://evil.example>',
    'https://evil.example/bare',
    '@octocat please look',
    '| a | b |\n|---|---|',
    '# heading\n\n## another',
    '**bold** _em_ ~~strike~~ `code` $x^2$',
    'line\n\n<details open>',
    '"quoted" \'single\' & amp \\ back',
  ];

  it('leaves no HTML or Markdown syntax and no line break, and shows the text as it was (controls visible)', () => {
    for (const p of payloads) {
      const out = forSummary(p);
      assert.doesNotMatch(out.replace(/&#\d+;/g, ''), /[<>"'`*_[\]()!|#~\\@$:\n\r]/, `${JSON.stringify(p)} → ${out}`);
      assert.doesNotMatch(out, /&(?!#\d+;)/, 'every & starts an entity');
      assert.equal(decodeEntities(out), p.replace(/\n/g, '\\n'));
    }
  });

  it('is bounded before escaping', () => {
    const out = forSummary('<'.repeat(100_000));
    assert.ok(out.length < 1024 * 6 + 100, `${out.length}`);
    assert.match(decodeEntities(out), /more characters cut\]$/);
  });
});

describe('jsonForLog', () => {
  const value = { tags: HOSTILE, nested: [{ name: 'a\u2028b\u0085c\u007f\u200bd😀' }] };

  it('parses back to the same value', () => {
    assert.deepEqual(JSON.parse(jsonForLog(value)), value);
    assert.deepEqual(JSON.parse(jsonForLog(value, 4)), value);
  });

  it('holds no command, control, format or separator character, compact or indented', () => {
    for (const text of [jsonForLog(value), jsonForLog(value, 2)]) {
      assert.deepEqual(runnerCommands(text), []);
      assert.doesNotMatch(text, /[\u007f-\u009f\u2028\u2029\u200b\ufeff]/);
    }
  });
});

describe('linesForLog', () => {
  it("keeps the layout's line feeds and tabs, and neutralises the rest of each line", () => {
    const out = linesForLog('NAME\tDIGEST\n::error::x\tok\r::warning::y\n');
    assert.equal(out, 'NAME\tDIGEST\n:\\:error:\\:x\tok\\r:\\:warning:\\:y\n');
    assert.deepEqual(runnerCommands(out), []);
  });
});
