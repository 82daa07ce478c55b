"""Offscreen rendering of the camera rig: colour, metric depth (registered to colour, the
same camera) and optional object / robot masks, one OpenGL pass per camera for RGB + depth.

Runs with any MuJoCo GL backend; on a machine without GPU use ``MUJOCO_GL=egl`` (Mesa
llvmpipe) or ``osmesa``. Images follow the OpenCV / sensor_msgs layout: row 0 is the top.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

import mujoco
import numpy as np


@dataclasses.dataclass
class CameraFrame:
    """One camera's images. rgb: (H, W, 3) uint8; depth: (H, W) float32 metres along the
    optical axis (0 = no return); object_mask / robot_mask: (H, W) bool or None."""

    rgb: np.ndarray | None
    depth: np.ndarray | None
    object_mask: np.ndarray | None = None
    robot_mask: np.ndarray | None = None


def gl_context_class():
    """The OpenGL context class for ``MUJOCO_GL`` (default ``egl``), chosen at call time so
    that importing ``mujoco`` before ``gs_sim`` does not silently select GLFW."""
    backend = os.environ.get("MUJOCO_GL", "egl").strip().lower()
    if backend == "osmesa":
        from mujoco.osmesa import GLContext
    elif backend in ("glfw", "glx"):
        from mujoco.glfw import GLContext
    else:
        from mujoco.egl import GLContext
    return GLContext


class RigRenderer:
    """Renders every camera of a compiled workcell model in this process.

    camera_ids: MuJoCo camera ids in rig order; width/height: image size [px] (all cameras);
    flex_id: the object's flex (object mask); robot_geom_ids: geoms of arm + pusher.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        camera_ids: list[int],
        width: int,
        height: int,
        flex_id: int = -1,
        robot_geom_ids: np.ndarray | None = None,
    ) -> None:
        self.model = model
        self.camera_ids = list(camera_ids)
        self.width, self.height = int(width), int(height)
        self.flex_id = flex_id
        self.robot_geom_ids = np.asarray(
            robot_geom_ids if robot_geom_ids is not None else [], dtype=np.int64
        )
        self._gl = gl_context_class()(self.width, self.height)
        self._gl.make_current()
        self._ctx = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._ctx)
        self._ctx.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._scene = mujoco.MjvScene(model, maxgeom=2000)
        self._opt = mujoco.MjvOption()
        self._opt.sitegroup[:] = 0  # sites (pusher tip marker) are not physical
        self._rect = mujoco.MjrRect(0, 0, self.width, self.height)
        self._cam = mujoco.MjvCamera()
        self._cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        near = model.vis.map.znear * model.stat.extent
        far = model.vis.map.zfar * model.stat.extent
        # Reversed-Z OpenGL depth -> metric depth: z = d / (buffer + c)
        zf, zn = np.float32(far), np.float32(near)
        c = -(zf + zn) / (zf - zn)
        d = -(np.float32(2) * zf * zn) / (zf - zn)
        self._c = float(np.float32(-0.5) * c - np.float32(0.5))
        self._d = float(np.float32(-0.5) * d)
        self._far = float(far)
        self._rgb_buf = np.empty((self.height, self.width, 3), np.uint8)
        self._depth_buf = np.empty((self.height, self.width), np.float32)

    def close(self) -> None:
        if self._ctx is not None:
            self._gl.make_current()
            self._ctx.free()
            self._ctx = None
            self._gl.free()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    def render_camera(
        self,
        data: mujoco.MjData,
        index: int,
        rgb: bool = True,
        depth: bool = True,
        masks: bool = False,
        out_rgb: np.ndarray | None = None,
        out_depth: np.ndarray | None = None,
    ) -> CameraFrame:
        """Render camera ``index`` (rig order) of the state in ``data`` (kinematics done)."""
        self._gl.make_current()
        self._cam.fixedcamid = self.camera_ids[index]
        mujoco.mjv_updateScene(
            self.model,
            data,
            self._opt,
            None,
            self._cam,
            mujoco.mjtCatBit.mjCAT_ALL.value,
            self._scene,
        )
        frame = CameraFrame(None, None)
        if rgb or depth:
            mujoco.mjr_render(self._rect, self._scene, self._ctx)
            mujoco.mjr_readPixels(
                self._rgb_buf if rgb else None,
                self._depth_buf if depth else None,
                self._rect,
                self._ctx,
            )
            if rgb:
                frame.rgb = out_rgb if out_rgb is not None else np.empty_like(self._rgb_buf)
                np.copyto(frame.rgb, self._rgb_buf[::-1])
            if depth:
                frame.depth = out_depth if out_depth is not None else np.empty_like(self._depth_buf)
                flipped = self._depth_buf[::-1]
                np.divide(self._d, flipped + self._c, out=frame.depth)
                frame.depth[frame.depth >= self._far * 0.999] = 0.0
        if masks:
            frame.object_mask, frame.robot_mask = self._render_masks()
        return frame

    def _render_masks(self) -> tuple[np.ndarray, np.ndarray]:
        flags = self._scene.flags
        saved = flags.copy()
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = True
        flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = True
        try:
            mujoco.mjr_render(self._rect, self._scene, self._ctx)
            mujoco.mjr_readPixels(self._rgb_buf, None, self._rect, self._ctx)
        finally:
            np.copyto(flags, saved)
        img = self._rgb_buf[::-1].astype(np.int32)
        segid = img[..., 0] + (img[..., 1] << 8) + (img[..., 2] << 16)  # 0 = background
        ngeom = self._scene.ngeom
        is_object = np.zeros(ngeom + 2, bool)
        is_robot = np.zeros(ngeom + 2, bool)
        flex_type = int(mujoco.mjtObj.mjOBJ_FLEX)
        geom_type = int(mujoco.mjtObj.mjOBJ_GEOM)
        robot = set(self.robot_geom_ids.tolist())
        for g in self._scene.geoms[:ngeom]:
            if g.segid < 0:
                continue
            if g.objtype == flex_type and g.objid == self.flex_id:
                is_object[g.segid + 1] = True
            elif g.objtype == geom_type and g.objid in robot:
                is_robot[g.segid + 1] = True
        segid = np.clip(segid, 0, ngeom + 1)
        return is_object[segid], is_robot[segid]

    def render_all(
        self, data: mujoco.MjData, rgb: bool = True, depth: bool = True, masks: bool = False
    ) -> list[CameraFrame]:
        return [self.render_camera(data, i, rgb, depth, masks) for i in range(len(self.camera_ids))]
