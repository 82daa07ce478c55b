#!/usr/bin/env bash
# Set up everything the workspace needs, idempotently, and build it with colcon.
#
#   scripts/bootstrap.sh          # apt packages (when root), .venv, pip, colcon build
#
# Each step is skipped when a stamp file shows its inputs are unchanged, so a warm run takes
# seconds. Two install paths share this script (DESIGN.md section 5):
#   * a sourced ROS 2 install (/opt/ros/<distro>, ROS_DISTRO set): .venv sees its Python
#     packages (--system-site-packages) and no ROS wheels are installed;
#   * otherwise ROS 2 Kilted core from PyPI wheels (requirements/ros-wheels.txt).
#
# ---------------------------------------------------------------------------------------
# Known quirks of the PyPI ROS 2 wheels, all handled here and nowhere else:
#  1. `ros-rclpy` does not pull in an RMW, nor the ament_cmake / rosidl build pieces an
#     interface package needs (ament_cmake_include_directories, ament_cmake_ros_core, the
#     typesupport generators, ...): requirements/ros-wheels.txt lists them explicitly.
#  2. The wheels' shared libraries live in site-packages/ros_*.libs and .venv/lib; they
#     are found through `ros-wheels-bootstrapper`, a .pth hook that re-executes Python
#     with LD_LIBRARY_PATH set. Consequence: every Python start costs one exec, and
#     `python -c`/`python -m` work as usual; nothing to do here but install it.
#  3. The message packages' CMake export files hard-code the wheel build host's paths
#     /opt/python/cp311-cp311/include/python3.11 and
#     /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include.
#     We create those paths as symlinks to this interpreter's headers and .venv's numpy
#     (needs root, or an existing writable /opt/python).
#  4. colcon-core's ament_python builds call `setup.py develop`, removed in setuptools 80:
#     setuptools is pinned below 80 in requirements/base.txt.
#  5. The wheels install CMake configs and the ament index under .venv/share, which is
#     not a colcon prefix: CMAKE_PREFIX_PATH and AMENT_PREFIX_PATH point at .venv
#     (see scripts/env.sh).
# ---------------------------------------------------------------------------------------
set -euo pipefail
shopt -s nullglob

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$ROOT/.venv/.stamps"
PYTHON_BIN="${PYTHON:-python3}"

log() { printf '[bootstrap] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

system_ros() { [[ -n "${ROS_DISTRO:-}" && -d "/opt/ros/${ROS_DISTRO}" ]]; }

# --- 1. Debian packages listed by the packages (src/*/apt.txt) --------------------------
apt_packages() {
  local wanted=() missing=()
  local files=(apt.txt src/*/apt.txt)
  [[ -f apt.txt ]] || files=("${files[@]:1}")
  ((${#files[@]})) || return 0
  mapfile -t wanted < <(sed 's/#.*//' "${files[@]}" | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
  ((${#wanted[@]})) || return 0
  for p in "${wanted[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $EUID -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]} (not root: install them with apt-get)"
    return 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- 2. virtual environment and Python packages -----------------------------------------
python_env() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating .venv with $PYTHON_BIN ($("$PYTHON_BIN" --version))"
    if system_ros; then
      "$PYTHON_BIN" -m venv --system-site-packages "$VENV"
    else
      "$PYTHON_BIN" -m venv "$VENV"
    fi
  fi
  mkdir -p "$STAMPS"
  local reqs=(requirements/base.txt src/*/requirements.txt)
  system_ros || reqs+=(requirements/ros-wheels.txt)
  local h
  h="$(hash_of "${reqs[@]}")"
  if [[ "$(cat "$STAMPS/pip" 2>/dev/null)" != "$h" ]]; then
    log "pip install -r ${reqs[*]}"
    local args=()
    for r in "${reqs[@]}"; do args+=(-r "$r"); done
    # torch first and alone: its pin must win before anything could pull a CUDA build.
    "$VENV/bin/pip" install -q --disable-pip-version-check "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
    "$VENV/bin/pip" install -q --disable-pip-version-check "${args[@]}" 2>&1 | grep -v "is ignored" || true
    "$VENV/bin/python" -c "import torch, numpy, yaml; assert torch.__version__.startswith('2.13.0')"
    echo "$h" > "$STAMPS/pip"
  fi
}

# --- 3. quirk 3: the wheel build host's include paths -------------------------------------
wheel_host_paths() {
  system_ros && return 0
  local inc numpy_dir base=/opt/python/cp311-cp311
  inc="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  numpy_dir="$VENV/lib/python3.11/site-packages/numpy"
  if [[ "$(readlink "$base/include/python3.11" 2>/dev/null)" == "$inc" &&
        "$(readlink "$base/lib/python3.11/site-packages/numpy" 2>/dev/null)" == "$numpy_dir" ]]; then
    return 0
  fi
  if ! mkdir -p "$base/include" "$base/lib/python3.11/site-packages" 2>/dev/null; then
    log "cannot create $base (the ROS wheels' CMake files need it): run once as root"
    return 1
  fi
  ln -sfn "$inc" "$base/include/python3.11"
  ln -sfn "$numpy_dir" "$base/lib/python3.11/site-packages/numpy"
}

# --- 4. ROS 2 launch / CLI tooling (ros2 launch, launch_testing, the ros2 command) -----------
# The PyPI wheels have no launch, launch_ros, launch_testing, ros2launch or ros2cli. Where the
# unmodified sources are beside the checkout (../shared/ros2-cli: development machines and
# CI) they are installed with pip --target into build/ros2-cli/site (this checkout's own,
# so worktrees sharing one .venv keep theirs; scripts/env.sh puts it on PYTHONPATH, PATH and
# AMENT_PREFIX_PATH), and composition_interfaces (a message package launch_ros imports) is
# built by colcon with the project's interfaces (step 5). Nothing is done when the
# environment already provides them (a sourced ROS 2 install).
# Opt-in for machines that reach the ROS 2 repositories: GS_ROS2_CLI_FROM_GIT=1 clones the
# pinned commits of requirements/ros2-cli-sources.txt instead (not exercised on the
# project's machines, which cannot reach github.com).
ROS2_CLI_DIR="$ROOT/build/ros2-cli"
ROS2_CLI_SHARED="${GS_ROS2_CLI_SOURCES:-$ROOT/../shared/ros2-cli}"
ros2_cli_provided() {
  # the environment without this checkout's own paths (e.g. when env.sh is sourced)
  local path="" entry
  IFS=: read -ra _entries <<< "${PYTHONPATH:-}"
  for entry in "${_entries[@]}"; do
    [[ -z "$entry" || "$entry" == "$ROOT"/* ]] || path="${path:+$path:}$entry"
  done
  local modules=launch,launch_ros,launch_testing,launch_testing_ros,ros2cli,ros2launch
  PYTHONPATH="$path" "$VENV/bin/python" -c "import $modules,composition_interfaces" \
    >/dev/null 2>&1
}
ros2_cli_sources() {
  # prints a folder laid out like ../shared/ros2-cli (<repository>/<package>/), fetching the
  # pinned commits first when asked to
  if [[ "${GS_ROS2_CLI_FROM_GIT:-0}" == 1 ]]; then
    local clones="$ROS2_CLI_DIR/git/clones" tree="$ROS2_CLI_DIR/git/tree" repo commit pkgs
    rm -rf "$tree"
    while read -r repo commit pkgs; do
      local name="${repo#*/}" clone="$clones/${repo#*/}"
      if [[ "$(git -C "$clone" rev-parse HEAD 2>/dev/null)" != "$commit" ]]; then
        log "fetching $repo at $commit" >&2
        rm -rf "$clone" && mkdir -p "$clone"
        git -C "$clone" init -q
        git -C "$clone" fetch -q --depth 1 "https://github.com/$repo.git" "$commit"
        git -C "$clone" checkout -q FETCH_HEAD
      fi
      mkdir -p "$tree/$name"
      if [[ "$pkgs" == "$name" && -f "$clone/setup.py" ]]; then
        cp -r "$clone"/. "$tree/$name/" && rm -rf "$tree/$name/.git"
      else
        for p in $pkgs; do cp -r "$clone/$p" "$tree/$name/$p"; done
      fi
    done < <(sed 's/#.*//' requirements/ros2-cli-sources.txt | awk 'NF >= 3')
    echo "$tree"
  elif [[ -d "$ROS2_CLI_SHARED" ]]; then
    (cd "$ROS2_CLI_SHARED" && pwd)
  fi
}
ros2_cli() {
  rm -f "$ROS2_CLI_DIR/.provided"
  if ros2_cli_provided; then
    mkdir -p "$ROS2_CLI_DIR" && touch "$ROS2_CLI_DIR/.provided"
    return 0
  fi
  local src
  src="$(ros2_cli_sources)"
  if [[ -z "$src" ]]; then
    log "no ROS 2 launch tooling: ros2 launch and launch_testing tests unavailable" \
        "(gs-stack runs the stacks; see README 'Running the stack')"
    return 0
  fi
  local h stamp="$ROS2_CLI_DIR/.stamp"
  h="$( (cat requirements/ros2-cli.txt; cd "$src" && find . -type f -not -path '*/.git/*' \
        -printf '%p %s %T@\n' | sort) | sha256sum | cut -c1-16)"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$h" && -x "$ROS2_CLI_DIR/site/bin/ros2" ]]; then
    return 0
  fi
  log "installing ros2 launch / launch_testing / ros2cli from $src"
  local start=$SECONDS
  # pip builds in the source tree (egg-info, build/): work on a copy, never in $src
  rm -rf "$ROS2_CLI_DIR/src" "$ROS2_CLI_DIR/site"
  mkdir -p "$ROS2_CLI_DIR/src"
  cp -r "$src"/. "$ROS2_CLI_DIR/src/"
  chmod -R u+w "$ROS2_CLI_DIR/src"
  local pkgs=()
  for setup in "$ROS2_CLI_DIR"/src/*/*/setup.py "$ROS2_CLI_DIR"/src/*/setup.py; do
    pkgs+=("$(dirname "$setup")")
  done
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation \
      --target "$ROS2_CLI_DIR/site" -r requirements/ros2-cli.txt "${pkgs[@]}" \
      > "$ROOT/log/ros2-cli-install.txt" 2>&1 \
    || { grep -v "is ignored" "$ROOT/log/ros2-cli-install.txt" | tail -30; return 1; }
  PYTHONPATH="$ROS2_CLI_DIR/site" "$VENV/bin/python" -c 'import launch, launch_testing, ros2cli, ros2launch'
  log "ros2 tooling installed in $((SECONDS - start)) s (build/ros2-cli/site)"
  echo "$h" > "$stamp"
}

# colcon also builds these message packages of the tooling when it is installed from source
extra_colcon_paths() {
  [[ -f "$ROS2_CLI_DIR/.stamp" && ! -f "$ROS2_CLI_DIR/.provided" ]] || return 0
  local d
  local d="$ROS2_CLI_DIR/src/rcl_interfaces/composition_interfaces"
  [[ -f "$d/package.xml" ]] && echo "$d"
  return 0
}

# --- 5. colcon build ------------------------------------------------------------------------
build_workspace() {
  local inputs h
  inputs=$(find src launch config -type f \( -name package.xml -o -name CMakeLists.txt \
      -o -name setup.py -o -name setup.cfg -o -name '*.msg' -o -name '*.srv' \
      -o -name '*.action' -o -name '*.yaml' -o -name '*.launch.py' \) | sort)
  # contents of build inputs + the list of all files (symlink installs link file by file,
  # so an added module needs a rebuild even though no build file changed)
  local extra
  mapfile -t extra < <(extra_colcon_paths)
  h="$( (find src launch config -type f -not -path '*/__pycache__/*' | sort; cat $inputs
         echo "${extra[@]}") | sha256sum | cut -c1-16)"
  # The stamp lives with the build it describes (build/), not in .venv: several checkouts
  # (git worktrees) may share one .venv without invalidating each other's builds.
  local stamp="$ROOT/build/.gs-colcon-stamp"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$h" && -f install/setup.bash ]]; then
    return 0
  fi
  log "colcon build"
  # shellcheck source=/dev/null
  source "$ROOT/scripts/env.sh" --no-workspace
  local start=$SECONDS
  # src/tf2_msgs stands in for ROS's tf2_msgs in the PyPI install only
  local skip=()
  system_ros && [[ -d "/opt/ros/${ROS_DISTRO}/share/tf2_msgs" ]] && skip=(--packages-skip tf2_msgs)
  colcon --log-base log build --base-paths src "${extra[@]}" --symlink-install "${skip[@]}" \
      --event-handlers console_cohesion- status- --cmake-args \
      -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF -Wno-dev \
      > log/colcon-build.txt 2>&1 || { tail -50 log/colcon-build.txt; return 1; }
  log "colcon build finished in $((SECONDS - start)) s (log: log/colcon-build.txt)"
  echo "$h" > "$stamp"
}

mkdir -p log
_start=$SECONDS
apt_packages
python_env
wheel_host_paths
ros2_cli
build_workspace
if ((SECONDS - _start > 5)); then
  log "setup took $((SECONDS - _start)) s; .venv is $(du -sh "$VENV" | cut -f1)"
fi
