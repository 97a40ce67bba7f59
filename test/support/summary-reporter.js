// Prints one closing line "Tests: N passed, N failed, N skipped" per jest run, and
// appends the counts to $PORTCULLIS_TEST_SUMMARY_FILE so scripts/test.sh can total
// several runs (SQLite, real servers, PostgreSQL) into the final line CI reads.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const counts = {
      passed: results.numPassedTests,
      // A suite that fails to load has no failed tests of its own; count it as a failure.
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    if (process.env.PORTCULLIS_TEST_SUMMARY_FILE) appendFileSync(process.env.PORTCULLIS_TEST_SUMMARY_FILE, `${JSON.stringify(counts)}\n`);
  }
}
module.exports = SummaryReporter;
