# gs_dynamics workspace. Every target sets itself up on first use (scripts/bootstrap.sh):
# Debian packages (when root), .venv, PyTorch CPU, ROS 2 Kilted from PyPI wheels (or a
# sourced /opt/ros install), colcon build. Warm setup takes seconds.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
ENV := source scripts/env.sh
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: all setup build demo run test test-unit test-integration lint format bench clean help

all: test

help:
	@echo "make demo   - set up, bring up the planning stack on the simulator, run a bounded demo"
	@echo "make run    - set up and keep the planning stack running until Ctrl-C (ros2 launch, or gs-stack)"
	@echo "make test   - set up, lint, run every package's pytest suite and the integration tests"
	@echo "make lint   - ruff check + ruff format --check"
	@echo "make format - ruff format + ruff check --fix"
	@echo "make bench  - the packages' benchmarks (BENCH=\"render sim track dyn plan\")"
	@echo "make clean  - remove build/, install/, log/ (keeps .venv)"

setup:
	@scripts/bootstrap.sh

build: setup

demo: setup
	@$(ENV) && python -m gs_dynamics.demo $(DEMO_ARGS)

# ros2 launch where it is installed (bootstrap installs it from ../shared/ros2-cli, or a
# sourced ROS 2 install has it); otherwise gs-stack, which starts the same processes.
run: setup
	@$(ENV) && if command -v ros2 >/dev/null && python -c 'import launch_ros' 2>/dev/null; \
	  then exec ros2 launch gs_dynamics planning.launch.py $(ARGS); \
	  else exec gs-stack planning --skip-missing $(ARGS); fi

lint: setup
	@$(ENV) && ruff check . && ruff format --check . && echo "lint: clean"

format: setup
	@$(ENV) && ruff format . && ruff check --fix .

test: setup lint
	@$(ENV) && python -m pytest $(PYTEST_ARGS)

test-unit: setup
	@$(ENV) && python -m pytest src $(PYTEST_ARGS)

test-integration: setup
	@$(ENV) && python -m pytest test $(PYTEST_ARGS)

# The benchmarks of the packages (each README records its numbers and command). The full
# set takes roughly 20-30 min on a 2-core machine; BENCH=<name> runs one of them.
BENCH ?= render sim track dyn plan
bench: setup
	@$(ENV) && mkdir -p out/bench && for b in $(BENCH); do case $$b in \
	  render) gs-render-bench ;; \
	  sim) gs-sim-bench --frames 90 --episode ;; \
	  track) gs-sim generate --object rope --episodes 1 --seed 2000 --pushes 1 \
	           --out out/bench/track_episode --quiet && \
	         gs-track-bench out/bench/track_episode/episode_0000.mcap --budgets 5 10 20 30 ;; \
	  dyn) gs-dyn bench --render ;; \
	  plan) gs-plan bench --task rope_straighten --seeds 1000-1019 --out out/bench/plan ;; \
	  *) echo "unknown benchmark '$$b' (render sim track dyn plan)"; exit 2 ;; \
	esac; done

clean:
	rm -rf build install log
