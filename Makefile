# Developer entry points. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SAIO_DIR ?= .saio
# Re-install only when the package metadata changes.
STAMP := $(VENV)/.installed

.PHONY: help venv run stop test unit functional bench genconfig pep8 clean

help:
	@echo "make venv        $(VENV) with zaqar-swift, Swift, Keystone and test tools"
	@echo "make run         local Swift in $(SAIO_DIR) + the API on :8888 + websocket on :9000 (Ctrl-C stops all)"
	@echo "make stop        stop whatever 'make run' left running"
	@echo "make test        unit + functional tests (a real local Swift)"
	@echo "make unit | functional | bench | genconfig | pep8 | clean"

venv: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[saio,test,keystone-test]'
	touch $@

run: venv
	$(BIN)/zaqar-swift-saio start --data-dir $(SAIO_DIR)
	@trap 'kill $$(cat $(SAIO_DIR)/websocket.pid 2>/dev/null) 2>/dev/null; rm -f $(SAIO_DIR)/websocket.pid; \
	       $(BIN)/zaqar-swift-saio stop --data-dir $(SAIO_DIR); rm -f $(SAIO_DIR)/api.pid' EXIT; \
	trap 'exit 0' INT; trap 'exit 143' TERM HUP; \
	$(BIN)/zaqar-swift-websocket --config-file $(SAIO_DIR)/zaqar-swift.conf & echo $$! > $(SAIO_DIR)/websocket.pid; \
	echo "zaqar-swift API: --config-file $(SAIO_DIR)/zaqar-swift.conf, websocket ws://127.0.0.1:9000/ (Ctrl-C stops both and Swift)"; \
	bash -c 'echo $$$$ > $(SAIO_DIR)/api.pid; exec $(BIN)/zaqar-swift-api --config-file $(SAIO_DIR)/zaqar-swift.conf'

stop:
	@pid=$$(cat $(SAIO_DIR)/api.pid 2>/dev/null || true); \
	if [ -n "$$pid" ] && grep -qs zaqar-swift-api /proc/$$pid/cmdline; then kill $$pid; fi; \
	rm -f $(SAIO_DIR)/api.pid
	@pid=$$(cat $(SAIO_DIR)/websocket.pid 2>/dev/null || true); \
	if [ -n "$$pid" ] && grep -qs zaqar-swift-websocket /proc/$$pid/cmdline; then kill $$pid; fi; \
	rm -f $(SAIO_DIR)/websocket.pid
	@if [ -x $(BIN)/zaqar-swift-saio ]; then $(BIN)/zaqar-swift-saio stop --data-dir $(SAIO_DIR); fi

# pytest exits 5 when it collects no test: make fails on it like on any
# other non-zero status, so an empty run never passes.
test: venv
	$(BIN)/pytest -q unit functional

unit: venv
	$(BIN)/pytest -q unit

functional: venv
	$(BIN)/pytest -q functional

bench: venv
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/posts.py
	$(BIN)/python bench/drain.py

genconfig: venv
	$(BIN)/oslo-config-generator --config-file etc/oslo-config-generator/zaqar-swift.conf
	$(BIN)/oslopolicy-sample-generator --config-file etc/oslo-policy-generator/zaqar-swift.conf

pep8: venv
	$(BIN)/flake8 zaqar_swift unit functional bench

clean: stop
	rm -rf $(VENV) $(SAIO_DIR) build *.egg-info .pytest_cache .tox
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
