// @ts-check
/**
 * markdownlint custom rule: lines written as table rows (`| a | b |`) that do not render as a table. It happens
 * when a blank line separates the rows from the header, or when the delimiter row (`| --- |`) is missing:
 * Markdown then shows the pipes as text. markdownlint's own table rules only look at real tables, so they
 * cannot see this (it is how the README's pattern table once stopped rendering).
 */

/** @param {readonly any[]} tokens @param {(token: any) => void} visit */
function walk(tokens, visit) {
  for (const token of tokens) {
    visit(token);
    if (Array.isArray(token.children)) walk(token.children, visit);
  }
}

/** @type {import('markdownlint').Rule} */
module.exports = {
  names: ['table-rows-outside-table'],
  description: 'Table rows that do not render as a table',
  tags: ['table'],
  parser: 'micromark',
  function: (params, onError) => {
    walk(params.parsers.micromark.tokens, (token) => {
      if (token.type !== 'paragraph') return;
      const lines = String(token.text)
        .split('\n')
        .map((line) => line.trim());
      if (lines.length > 0 && lines.every((line) => line.startsWith('|') && line.endsWith('|'))) {
        onError({
          lineNumber: token.startLine,
          detail:
            'a blank line or a missing delimiter row (| --- |) keeps these rows from being a table'
        });
      }
    });
  }
};
