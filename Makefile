# Rebound: the two commands a newcomer needs are `make run` and `make test`.
# Both install whatever is missing first (scripts/setup.sh).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: run test setup setup-test build release deb package-check lint fmt unit api-fuzz e2e bench bench-micro bench-dashboard fuzz clean-data

## Build everything and serve on http://127.0.0.1:3000 (SQLite in ./data).
## A first run serves before the browser app is built (scripts/run.sh).
run:
	@bash scripts/run.sh

## Every test: unit, integration on SQLite and PostgreSQL, Playwright in Chromium.
## (Each step is timed: a slow CI run says where its time went.)
test: setup-test build package-check unit api-fuzz e2e

setup:
	@bash scripts/setup.sh build

setup-test:
	@bash scripts/setup.sh test

## Server (ssr) and browser (wasm) halves, via cargo-leptos.
build:
	time cargo leptos build --split

## Release build: target/release/rebound and target/site (WASM with the
## wasm-release profile and wasm-opt), then what the browser app weighs.
release: setup
	time cargo leptos build --release --split
	@bash scripts/site-sizes.sh

## Debian package from the release build: target/debian/rebound_<version>_<arch>.deb.
deb: release
	bash scripts/deb.sh release
	bash scripts/deb-check.sh

## The package's layout checked from the debug build (CI): every path the
## unit names is in it, and the unpacked binary serves pages and the WASM.
package-check:
	bash scripts/deb.sh debug
	bash scripts/deb-check.sh

## Rust tests (engine, app's ssr half, server with a real HTTP server).
unit:
	time cargo test --workspace --exclude app
	time cargo test -p app --features ssr

## Schemathesis against the real server's own OpenAPI document (scripts/schemathesis.sh).
api-fuzz:
	time bash scripts/schemathesis.sh

## Browser tests against the real binary (end2end/start-server.sh).
e2e:
	cd end2end && time npx playwright test

## Formatting and clippy for each half with its own features.
lint:
	cargo fmt --all --check
	cargo clippy -p engine -p server --all-targets -- -D warnings
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

## Benchmarks (tables, not timed tests). `bench`: intake and dispatch end to end,
## real `rebound serve` processes against bare ceilings in their own processes
## (scripts/bench.sh, about 6 minutes). `bench-micro`: the in-process benches.
## `bench-dashboard` seeds 1 M SQLite and 10 M PostgreSQL orders on its first run
## (kept for later runs) and reads the WASM size from `make build`'s output.
bench:
	bash scripts/bench.sh

bench-micro:
	cargo bench -p engine
	cargo bench -p server --bench delivery

bench-dashboard:
	cargo bench -p server --bench dashboard

## Fuzz the parsers (nightly + cargo-fuzz); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 120
fuzz:
	rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
	cd engine/fuzz && for t in bounce_message smtp_reply order_json; do \
	  cargo +nightly fuzz run -O $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 || exit 1; done

clean-data:
	rm -rf data
