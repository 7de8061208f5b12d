#!/bin/sh
# The one test command (README): unit tests, then PostgreSQL integration tests, then the browser test.
set -e
cd "$(dirname "$0")/.."
node --test --test-concurrency=1 --import tsx test/unit/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts
