// A vfile reporter for remark-cli (`--report <this file>`) that prints one line of JSON, so the docs check
// (scripts/verify/docs.ts) reads remark-validate-links' findings without parsing the human report.
export default function jsonReporter(files) {
  return JSON.stringify(
    files.map((file) => ({
      path: file.path,
      messages: file.messages.map((message) => ({
        line: message.line ?? undefined,
        column: message.column ?? undefined,
        reason: message.cause ? `${message.reason}: ${String(message.cause)}` : message.reason,
        ruleId: message.ruleId ?? undefined,
        source: message.source ?? undefined,
        fatal: message.fatal === true
      }))
    }))
  );
}
