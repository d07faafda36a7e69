/**
 * Refuses an object spread of a `Position` (issue 22, "every record change is an event"): outside
 * shared/domain/ a record changes only through a named function of shared/domain/position-lifecycle.ts, which
 * declares the fields it may touch. Uses type information (the spread argument's type, through aliases,
 * `Readonly<>`, unions with null/undefined and intersections), so a rename of the variable does not hide it.
 */

'use strict';

/** Type helpers whose result is still (part of) the record they wrap: `Readonly<Position>`, `Partial<…>`. */
const WRAPPERS = new Set(['Readonly', 'Partial', 'Required', 'Pick', 'Omit']);

/** True when `type` is, or is made of, the `Position` interface declared in shared/domain/position.ts. */
function isPosition(type, seen = new Set()) {
  if (!type || seen.has(type)) return false;
  seen.add(type);
  if (type.isUnion?.() || type.isIntersection?.()) return type.types.some((t) => isPosition(t, seen));
  for (const symbol of [type.aliasSymbol, type.getSymbol?.()]) {
    if (symbol?.getName() === 'Position' && declaredInPositionModule(symbol)) return true;
  }
  // `Readonly<Position>` and the like keep the record in their alias arguments.
  if (type.aliasSymbol && WRAPPERS.has(type.aliasSymbol.getName())) {
    return (type.aliasTypeArguments ?? []).some((t) => isPosition(t, seen));
  }
  return false;
}

function declaredInPositionModule(symbol) {
  return (symbol.getDeclarations?.() ?? []).some((d) =>
    /shared[\\/]domain[\\/]position\.ts$/.test(d.getSourceFile().fileName),
  );
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'No object spread of a Position outside shared/domain/: use a named change of position-lifecycle.ts',
    },
    messages: {
      spread:
        'A Position changes only through a named function of shared/domain/position-lifecycle.ts (which declares the fields it touches), not by spreading `{{text}}`.',
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program || !services.esTreeNodeToTSNodeMap) {
      throw new Error('no-position-spread needs type information (parserOptions.projectService)');
    }
    const checker = services.program.getTypeChecker();
    return {
      'ObjectExpression > SpreadElement'(node) {
        const tsNode = services.esTreeNodeToTSNodeMap.get(node.argument);
        const type = checker.getTypeAtLocation(tsNode);
        if (isPosition(type)) {
          context.report({
            node,
            messageId: 'spread',
            data: { text: context.sourceCode.getText(node.argument) },
          });
        }
      },
    };
  },
};

module.exports = rule;
