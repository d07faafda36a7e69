/**
 * Issue 22: the lint rule that refuses an object spread of a `Position` outside shared/domain/ (typed: it
 * reads the spread argument's type, so it sees through aliases, `Readonly<>` and nullable unions).
 */
import { join } from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rule from '../../eslint-rules/no-position-spread.cjs';

const ROOT = join(__dirname, '..', '..');
// The fixture's own small project (its text is each case's, not the file on disk).
const FIXTURE = join(ROOT, 'test', 'fixtures', 'lint');
const FILE = join(FIXTURE, 'case.ts');
const HEADER = "import type { Position } from '../../../shared/domain/position';\n";

const tester = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    // CI=true makes typescript-eslint infer a single run and build the program from the files on disk, not
    // from each case's text: this tester always lints the text it is given.
    parserOptions: {
      project: join(FIXTURE, 'tsconfig.json'),
      tsconfigRootDir: FIXTURE,
      disallowAutomaticSingleRunInference: true,
    },
  },
});

const spread = (code: string) => ({ filename: FILE, code: HEADER + code, errors: [{ messageId: 'spread' }] });

tester.run('no-position-spread', rule, {
  valid: [
    { filename: FILE, code: HEADER + 'export const f = (p: Position) => p.quantity;' },
    // Other records spread freely: only the position record is guarded.
    { filename: FILE, code: HEADER + 'export const f = (o: { a: number }) => ({ ...o, a: 1 });' },
    // A local type that happens to be called Position is not the domain's record.
    {
      filename: FILE,
      code: 'interface Position { x: number }\nexport const f = (p: Position) => ({ ...p, x: 1 });',
    },
    // An array of positions spread into an array is not a record change.
    { filename: FILE, code: HEADER + 'export const f = (ps: Position[]) => [...ps];' },
  ],
  invalid: [
    spread('export const f = (p: Position) => ({ ...p, quantity: 1 });'),
    spread('export const f = (p: Readonly<Position>) => ({ ...p });'),
    spread('export const f = (p: Position | null) => ({ ...p! });'),
    spread('type Rec = Position;\nexport const f = (r: Rec) => ({ ...r, version: 2 });'),
    spread('export const f = (p: Partial<Position>) => ({ ...p });'),
    spread('export const f = (p: Position & { extra: 1 }) => ({ ...p });'),
  ],
});
