/**
 * PKCS#11 URIs (RFC 7512) naming a private key on a token:
 * `pkcs11:token=ci;object=dct-signer;id=%01?module-path=/usr/lib/...`.
 * Parsed strictly: every attribute is known and given once, every value is
 * percent-decoded (and UTF-8 where it is text), and what this tool cannot
 * honour is refused by name rather than ignored, so a URI never selects a
 * different key than the one its author meant.
 */
import { InputError } from '../errors.ts';

export interface Pkcs11Uri {
  /** Token label (CKA_LABEL of the token, `token=`). */
  token?: string | undefined;
  manufacturer?: string | undefined;
  model?: string | undefined;
  serial?: string | undefined;
  /** Slot ID, a decimal number (`slot-id=`). */
  slotId?: string | undefined;
  /** Key label (CKA_LABEL, `object=`). */
  object?: string | undefined;
  /** Key ID (CKA_ID, `id=`), as lower-case hex. */
  id?: string | undefined;
  /** The provider library (`?module-path=`). */
  modulePath?: string | undefined;
}

/** Whether an input names a key by PKCS#11 URI rather than holding PEM (the scheme is case-insensitive, RFC 3986). */
export function isPkcs11Uri(value: string): boolean {
  return /^pkcs11:/i.test(value.trim());
}

/** Path attributes this tool selects by, and the field each fills. */
const PATH_ATTRIBUTES: Record<string, keyof Pkcs11Uri> = {
  token: 'token',
  manufacturer: 'manufacturer',
  model: 'model',
  serial: 'serial',
  'slot-id': 'slotId',
  object: 'object',
  id: 'id',
};

/** RFC 7512 attributes that are valid but not honoured here, and why (never silently dropped: each narrows the choice of key or module). */
const REFUSED: Record<string, string> = {
  'pin-value': 'a PIN in the URI would sit in the workflow file or the logs; put the PIN in the passphrase instead',
  'pin-source': 'the PIN is read from the passphrase only; put the PIN there',
  'module-name': 'give the library path instead: ?module-path=/path/to/provider.so (or the module input)',
  'library-manufacturer': 'the library is chosen by path only: drop it, and give ?module-path= (or the module input)',
  'library-description': 'the library is chosen by path only: drop it, and give ?module-path= (or the module input)',
  'library-version': 'the library is chosen by path only: drop it, and give ?module-path= (or the module input)',
  'slot-description': 'choose the token by token= (its label), serial= or slot-id= instead',
  'slot-manufacturer': 'choose the token by token= (its label), serial= or slot-id= instead',
};

/** The longest URI read: far above any real one. */
const MAX_URI_LENGTH = 4096;

/**
 * Parses `text` (named by `where` in errors, e.g. "the delegation-key input").
 * Messages never echo the URI whole: a `pin-value` in it is a secret.
 */
export function parsePkcs11Uri(text: string, where: string): Pkcs11Uri {
  const bad = (why: string) => new InputError('PKCS11_URI_INVALID', `${where} is not a usable PKCS#11 URI: ${why} (RFC 7512, e.g. pkcs11:token=ci;object=dct-signer)`);
  const uri = text.trim();
  if (uri.length > MAX_URI_LENGTH) throw bad(`it is ${uri.length} characters long`);
  if (!isPkcs11Uri(uri)) throw bad('it does not start with "pkcs11:"');
  const rest = uri.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  if (/[\s"<>\\^`{|}#]/.test(path) || /[\s"<>\\^`{}#]/.test(query)) throw bad('it holds a space, a control character or one of "<>\\^`{}|# unescaped; percent-encode it (%20 for a space)');
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const read = (part: string, separator: string, isQuery: boolean) => {
    if (part === '') return;
    for (const attribute of part.split(separator)) {
      const eq = attribute.indexOf('=');
      if (eq <= 0) throw bad(`${safeName(attribute)} is not a name=value attribute`);
      const name = attribute.slice(0, eq);
      const raw = attribute.slice(eq + 1);
      if (seen.has(name)) throw bad(`attribute ${safeName(name)} is given twice`);
      seen.add(name);
      if (Object.hasOwn(REFUSED, name)) throw bad(`attribute ${name} is not supported here: ${REFUSED[name]}`);
      if (name === 'type') {
        if (decodeText(raw, name, bad) !== 'private') throw bad('type must be "private" (the private key signs) or left out');
        continue;
      }
      if (isQuery) {
        if (name !== 'module-path') throw bad(`unknown query attribute ${safeName(name)}: the only one honoured is module-path`);
        out.modulePath = nonEmpty(decodeText(raw, name, bad), name, bad);
        continue;
      }
      if (name === 'module-path') throw bad('module-path is a query attribute: write it after "?", e.g. pkcs11:token=ci;object=dct-signer?module-path=/usr/lib/softhsm/libsofthsm2.so');
      const field = Object.hasOwn(PATH_ATTRIBUTES, name) ? PATH_ATTRIBUTES[name] : undefined;
      if (field === undefined) throw bad(`unknown attribute ${safeName(name)}: use token, serial, manufacturer, model, slot-id to choose the token and object and/or id to choose the key`);
      if (field === 'id') {
        const bytes = decodeBytes(raw, name, bad);
        if (bytes.length === 0) throw bad('id is empty');
        out.id = bytes.toString('hex');
      } else {
        const value = nonEmpty(decodeText(raw, name, bad), name, bad);
        if (field === 'slotId' && !/^\d{1,20}$/.test(value)) throw bad('slot-id must be a decimal number');
        out[field] = value;
      }
    }
  };
  read(path, ';', false);
  read(query, '&', true);
  if (out.object === undefined && out.id === undefined) throw bad('it names no key: add object=<label> and/or id=<%xx bytes> (pkcs11-tool --list-objects shows them)');
  return out;
}

function nonEmpty(value: string, name: string, bad: (why: string) => InputError): string {
  if (value === '') throw bad(`${name} is empty`);
  return value;
}

/** Percent-decoding to bytes; a `%` not followed by two hex digits is refused. */
function decodeBytes(raw: string, name: string, bad: (why: string) => InputError): Buffer {
  const bytes: number[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw[i] === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw bad(`the value of ${name} has a "%" not followed by two hex digits`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      // Whole code points: a character outside the BMP is two UTF-16 units.
      const c = String.fromCodePoint(raw.codePointAt(i)!);
      bytes.push(...Buffer.from(c, 'utf8'));
      i += c.length;
    }
  }
  return Buffer.from(bytes);
}

function decodeText(raw: string, name: string, bad: (why: string) => InputError): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(decodeBytes(raw, name, bad));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw bad(`the value of ${name} is not UTF-8 once percent-decoded`);
  }
}

/** An attribute name for a message: short, printable (never a value: it may be a secret). */
function safeName(name: string): string {
  return JSON.stringify(name.slice(0, 40).replace(/[^\x20-\x7e]/g, '?'));
}
