import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, UnsetVariableError } from '../src/exec/expand.js';

const env = { TOKEN: 's3cret', EMPTY: '', _under_1: 'u' };

test('replaces ${NAME} from the environment', () => {
  assert.equal(expand('Bearer ${TOKEN}', env), 'Bearer s3cret');
  assert.equal(expand('${TOKEN}${TOKEN}', env), 's3crets3cret');
  assert.equal(expand('a${_under_1}b', env), 'aub');
  assert.equal(expand('[${EMPTY}]', env), '[]');
});

test('$${NAME} is an escape for a literal ${NAME}', () => {
  assert.equal(expand('$${TOKEN}', env), '${TOKEN}');
  assert.equal(expand('$${UNSET_ONE} ${TOKEN}', env), '${UNSET_ONE} s3cret');
});

test('any other $ is left for the shell', () => {
  const shell = 'echo $HOME $1 $$ $? ${X:-default} ${#} $ {TOKEN} ${1BAD} ${} $';
  assert.equal(expand(shell, env), shell);
});

test('an unset variable throws UnsetVariableError naming it', () => {
  assert.throws(
    () => expand('curl ${TOKEN} ${MISSING_VAR}', env),
    (err: unknown) =>
      err instanceof UnsetVariableError &&
      err.variable === 'MISSING_VAR' &&
      err.message === 'environment variable MISSING_VAR is not set',
  );
});

test('values are inserted verbatim, never expanded again', () => {
  assert.equal(expand('${A}', { A: '${B}', B: 'no' }), '${B}');
});
