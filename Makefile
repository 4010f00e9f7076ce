# Set-up is two commands: `make build` and `make test`.
# Both create what a fresh Debian machine lacks: the Debian packages (fonts, HarfBuzz subsetting, poppler),
# a .venv with the pinned Python packages (constraints.txt), then build or test.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
APT_PACKAGES := $(shell grep -v '^\s*\#' apt-packages.txt)
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMP_APT   := $(VENV)/.apt-$(shell cat apt-packages.txt | cksum | cut -d' ' -f1)
STAMP_NPM   := node_modules/.npm-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
STAMP_PIP   := $(VENV)/.pip-$(shell cat constraints.txt pyproject.toml setup.py | cksum | cut -d' ' -f1)

.PHONY: build test lint check clean setup pictures bench

build: setup
	$(BIN)/handbook build

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check handbook tests benchmarks build.py
	$(BIN)/mypy

check: setup
	$(BIN)/handbook check

bench: setup
	$(BIN)/python benchmarks/run.py

# The README's page pictures (docs/img/), drawn by `handbook build --png` from the example project.
pictures: setup
	$(BIN)/handbook build --png --only handbook --only cards
	cp dist/handbook-1.png docs/img/cover.png
	cp dist/handbook-4.png docs/img/chapter.png
	cp dist/cards-1.png docs/img/cards-fronts.png
	cp dist/cards-2.png docs/img/cards-backs.png

setup: $(STAMP_APT) $(STAMP_PIP) $(STAMP_NPM)

# axe-core for the web edition's accessibility test (tests/test_web.py), exactly as package-lock.json says.
$(STAMP_NPM): package.json package-lock.json $(STAMP_APT)
	npm ci --no-audit --no-fund --silent
	@rm -f node_modules/.npm-* && touch $@

$(STAMP_APT): apt-packages.txt
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $$missing; \
	fi
	@mkdir -p $(VENV) && rm -f $(VENV)/.apt-* && touch $@

$(STAMP_PIP): constraints.txt pyproject.toml setup.py
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@rm -f $(VENV)/.pip-* && touch $@

clean:
	rm -rf dist .pytest_cache .mypy_cache .ruff_cache
