# Two commands on a fresh machine (Python 3.10+ with venv; PyPI reachable):
#   make demo   # set up .venv and run the end-to-end demo
#   make test   # set up .venv and run the default (fast) test suite
# More: make test-all (slow tests + external consumers: Blender, assimp, controlnet_aux).

VENV ?= .venv
PY := $(VENV)/bin/python
# CPU build of torch; on a CUDA machine override, e.g. make setup TORCH_SPEC="torch"
TORCH_SPEC ?= torch==2.13.0
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: setup setup-full demo test test-all lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) "$(TORCH_SPEC)"
	$(PY) -m pip install $(PIP_FLAGS) -e ".[test,smplx]"
	# reference drawing code for the ControlNet pixel-parity test; --no-deps keeps pip from
	# replacing the CPU torch with a CUDA build through torchvision/timm
	$(PY) -m pip install $(PIP_FLAGS) --no-deps "controlnet_aux==0.0.10"
	touch $@

demo: setup
	$(PY) -m experiments.demo

test: setup
	$(PY) -m pytest -q

# Everything, slow tests included. Installs the real consumer programs and reference libraries.
setup-full: setup
	-if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $$(grep -v '^#' requirements-apt-full.txt); fi
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-full.txt
	# rtmlib: crop/decode parity reference; --no-deps keeps its GUI OpenCV out
	$(PY) -m pip install $(PIP_FLAGS) --no-deps "rtmlib==0.0.16"

test-all: setup-full
	$(PY) -m pytest -q -m "slow or not slow"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache runs
