/**
 * `labelSelector` and `fieldSelector` as kube-apiserver parses and matches them (docs: concepts/overview/working-with-
 * objects/labels and field-selectors; k8s.io/apimachinery pkg/labels/selector.go and pkg/fields/selector.go).
 *
 * Labels: comma-separated requirements `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`,
 * `key>n`, `key<n`. `!=` and `notin` also match objects without the key (selector.go Requirement.Matches).
 * Fields: comma-separated `field=v`, `field==v`, `field!=v`, values escaped with `\`; a field the resource does not
 * offer is a 400 `field label not supported: <field>` (the field-label conversion funcs of pkg/apis/core/v1).
 */
import { badRequest } from './status.ts';

type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | '>' | '<';

interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Tokens: identifiers (keys, values, `in`, `notin`) and the operator characters. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text.charAt(at);
    if (/\s/.test(char)) at += 1;
    else if (text.startsWith('==', at) || text.startsWith('!=', at)) {
      tokens.push(text.slice(at, at + 2));
      at += 2;
    } else if ('!=,()<>'.includes(char)) {
      tokens.push(char);
      at += 1;
    } else {
      const start = at;
      while (at < text.length && !/[\s!=,()<>]/.test(text.charAt(at))) at += 1;
      tokens.push(text.slice(start, at));
    }
  }
  return tokens;
}

const isWord = (token: string | undefined): token is string => token !== undefined && !/^(==|!=|[!=,()<>])$/.test(token);

export function parseLabelSelector(text: string): LabelMatcher {
  const tokens = tokenize(text);
  const requirements: LabelRequirement[] = [];
  let at = 0;
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why}`);
  const key = (): string => {
    const token = tokens[at++];
    if (!isWord(token)) throw fail(`found '${token ?? ''}', expected: identifier`);
    if (!QUALIFIED_KEY.test(token) || token.length > 317) throw fail(`key: Invalid value: "${token}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
    return token;
  };
  const value = (): string => {
    const token = tokens[at];
    if (!isWord(token)) return '';
    at += 1;
    if (!LABEL_VALUE.test(token)) throw fail(`values[0]: Invalid value: "${token}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`);
    return token;
  };
  while (at < tokens.length) {
    if (tokens[at] === '!') {
      at += 1;
      requirements.push({ key: key(), op: '!exists', values: [] });
    } else {
      const name = key();
      const op = tokens[at];
      if (op === undefined || op === ',') requirements.push({ key: name, op: 'exists', values: [] });
      else if (op === '=' || op === '==' || op === '!=') {
        at += 1;
        requirements.push({ key: name, op: op === '!=' ? '!=' : '=', values: [value()] });
      } else if (op === '>' || op === '<') {
        at += 1;
        const bound = value();
        if (!/^-?\d+$/.test(bound)) throw fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
        requirements.push({ key: name, op, values: [bound] });
      } else if (op === 'in' || op === 'notin') {
        at += 1;
        if (tokens[at++] !== '(') throw fail(`found '${tokens[at - 1] ?? ''}', expected: '('`);
        const values: string[] = [];
        while (tokens[at] !== ')') {
          if (at >= tokens.length) throw fail(`found '', expected: ')'`);
          values.push(value());
          if (tokens[at] === ',') at += 1;
          else if (tokens[at] !== ')') throw fail(`found '${tokens[at] ?? ''}', expected: ',' or ')'`);
        }
        at += 1;
        requirements.push({ key: name, op, values });
      } else throw fail(`found '${op}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    if (at < tokens.length && tokens[at++] !== ',') throw fail(`found '${tokens[at - 1] ?? ''}', expected: ','`);
  }
  return (labels) => requirements.every((requirement) => matches(requirement, labels ?? {}));
}

function matches({ key, op, values }: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, key);
  const actual = labels[key] ?? '';
  switch (op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
    case 'in':
      return has && values.includes(actual);
    case '!=':
    case 'notin':
      return !has || !values.includes(actual);
    case '>':
    case '<':
      return has && /^-?\d+$/.test(actual) && (op === '>' ? Number(actual) > Number(values[0]) : Number(actual) < Number(values[0]));
  }
}

export interface FieldTerm {
  field: string;
  equal: boolean;
  value: string;
}

/** Splits on the first unescaped `,` (pkg/fields/selector.go splitTerms) and unescapes `\,`, `\=`, `\\`. */
export function parseFieldSelector(text: string, supported: ReadonlySet<string>): FieldTerm[] {
  const terms: FieldTerm[] = [];
  let current = '';
  const raw: string[] = [];
  for (let at = 0; at < text.length; at += 1) {
    const char = text.charAt(at);
    if (char === '\\' && at + 1 < text.length) {
      current += char + text.charAt(at + 1);
      at += 1;
    } else if (char === ',') {
      raw.push(current);
      current = '';
    } else current += char;
  }
  if (text !== '') raw.push(current);
  for (const term of raw) {
    const found = splitTerm(term);
    if (!found) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [field, operator, escaped] = found;
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    terms.push({ field, equal: operator !== '!=', value: unescape(escaped, text) });
  }
  return terms;
}

function splitTerm(term: string): [string, string, string] | undefined {
  for (let at = 0; at < term.length; at += 1) {
    for (const operator of ['!=', '==', '=']) {
      if (term.startsWith(operator, at)) return [term.slice(0, at).trim(), operator, term.slice(at + operator.length)];
    }
  }
  return undefined;
}

function unescape(value: string, selector: string): string {
  let out = '';
  for (let at = 0; at < value.length; at += 1) {
    const char = value.charAt(at);
    if (char !== '\\') {
      if (char === '=' || char === ',') throw badRequest(`invalid selector: '${selector}'; unescaped ${char} in value`);
      out += char;
      continue;
    }
    const next = value.charAt(at + 1);
    if (next !== '\\' && next !== ',' && next !== '=') throw badRequest(`invalid selector: '${selector}'; invalid escape sequence`);
    out += next;
    at += 1;
  }
  return out;
}

export function matchesFields(terms: FieldTerm[], fields: Record<string, string>): boolean {
  return terms.every((term) => (fields[term.field] === term.value) === term.equal);
}
