# The two commands in the README. Both install what is missing first, so they work on a
# fresh Debian/Ubuntu machine and are quick when everything is already there.

.PHONY: run test bench package

# Where the tests' Matrix server (Synapse) is installed; kept between runs.
export CAMPAIGN_SAFE_SYNAPSE_VENV ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/campaign-safe/synapse-1.163.2

## Build and open the app.
# The build carries one test target so that cargo turns on the same crate features as
# `make test` does (the test tools ask for some of them): the two commands then share one
# build, and running the app after the tests, or the tests after the app, rebuilds nothing.
run:
	@scripts/setup.sh run
	@echo "==> Building Campaign Safe (the first build takes 5 to 15 minutes on 2 cores)"
	cargo build --locked --bin campaign-safe --test e2e_axe
	@echo "==> Starting Campaign Safe"
	"$${CARGO_TARGET_DIR:-target}/debug/campaign-safe"

## Build the release .deb into target/package/ (install it with apt-get install ./….deb).
package:
	@scripts/setup.sh package
	scripts/package.sh

## Run every test: unit, integration (mock runtime) and end-to-end (real window under Xvfb).
test:
	@scripts/setup.sh test
	@echo "==> Running all tests (screenshots go to target/e2e/)"
	env -u DISPLAY -u WAYLAND_DISPLAY cargo test --locked --lib --bins --tests -- --test-threads=2
