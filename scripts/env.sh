# Source me (bash): the environment to run, test and develop the workspace.
#   source scripts/env.sh                 # .venv + ROS (system or wheels) + install/
#   source scripts/env.sh --no-workspace  # without install/ (used while building it)
_GS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${ROS_DISTRO:-}" && -f "/opt/ros/${ROS_DISTRO}/setup.bash" ]]; then
  # shellcheck source=/dev/null
  source "/opt/ros/${ROS_DISTRO}/setup.bash"
else
  # PyPI wheels: CMake configs and the ament index live under .venv/share (quirk 5 in
  # scripts/bootstrap.sh).
  export CMAKE_PREFIX_PATH="$_GS_ROOT/.venv${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export AMENT_PREFIX_PATH="$_GS_ROOT/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
fi
# shellcheck source=/dev/null
source "$_GS_ROOT/.venv/bin/activate"
# ROS 2 launch / CLI tooling installed from source by scripts/bootstrap.sh (step 4):
# `ros2`, `ros2 launch`, launch_testing. Absent where a ROS 2 install provides them.
_gs_cli="$_GS_ROOT/build/ros2-cli/site"
if [[ -x "$_gs_cli/bin/ros2" && ! -f "$_GS_ROOT/build/ros2-cli/.provided" ]]; then
  case ":${PYTHONPATH:-}:" in *":$_gs_cli:"*) ;; *) export PYTHONPATH="$_gs_cli${PYTHONPATH:+:$PYTHONPATH}" ;; esac
  case ":$PATH:" in *":$_gs_cli/bin:"*) ;; *) export PATH="$_gs_cli/bin:$PATH" ;; esac
  case ":${AMENT_PREFIX_PATH:-}:" in *":$_gs_cli:"*) ;; *) export AMENT_PREFIX_PATH="$_gs_cli${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;; esac
fi
unset _gs_cli
if [[ "${1:-}" != "--no-workspace" && -f "$_GS_ROOT/install/setup.bash" ]]; then
  # colcon's setup scripts read unset variables
  set +u
  # shellcheck source=/dev/null
  source "$_GS_ROOT/install/setup.bash"
  # ament_python packages install their console scripts to lib/<package> (for `ros2 run`);
  # put them on PATH too so the command-line tools (gs-sim, gs-track, gs-dyn, gs-plan, ...)
  # work as documented.
  for _gs_bin in "$_GS_ROOT"/install/*/lib/*/; do
    case ":$PATH:" in *":${_gs_bin%/}:"*) ;; *) PATH="${_gs_bin%/}:$PATH" ;; esac
  done
  export PATH
  unset _gs_bin
fi
# MuJoCo renders offscreen through EGL (llvmpipe on machines without a GPU).
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-egl}"
export RCUTILS_COLORIZED_OUTPUT="${RCUTILS_COLORIZED_OUTPUT:-0}"
unset _GS_ROOT
