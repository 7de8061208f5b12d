# The targets mirror package.json scripts; `make check` is what CI runs.
.PHONY: setup dev run simulator migrate test typecheck check bench
setup:
	npm ci
run dev:
	npm start
simulator:
	npm run simulator
migrate:
	npx simcast migrate
typecheck:
	npm run typecheck
test:
	npm test
check: typecheck test
bench:
	npm run bench
