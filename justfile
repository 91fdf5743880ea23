# Developer shortcuts; each is a thin wrapper over cargo or a script.

# run the demo (the whole chain on an embedded default)
demo:
    cargo run --release -- demo

# all tests, with the interop peers installed and required
test-all:
    bash scripts/test-all.sh

# unit and integration tests only (peer tests skip when a peer is missing)
test:
    cargo test --workspace

# lints as CI runs them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# install interop peers into ./.peers
peers:
    bash scripts/install-peers.sh
