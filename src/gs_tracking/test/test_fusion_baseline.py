import numpy as np
import pytest

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform, look_at, transform_points
from gs_tracking.baseline import nearest_neighbour_tracks
from gs_tracking.fusion import EmptyCloudError, fuse_views


def render_plane_depth(intr, world_from_camera, z_plane=0.0):
    """Depth image of the plane z = z_plane seen by a camera (analytic ray casting)."""
    v, u = np.mgrid[0 : intr.height, 0 : intr.width]
    rays_cam = np.stack(
        [(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u, float)], -1
    )
    r, t = world_from_camera[:3, :3], world_from_camera[:3, 3]
    rays_w = rays_cam @ r.T
    s = (z_plane - t[2]) / rays_w[..., 2]  # ray parameter = depth along optical axis
    return np.where(s > 0, s, np.nan).astype(np.float32)


def test_fused_views_land_on_the_object_in_world_frame():
    intr = CameraIntrinsics.from_fov(80, 60, 60.0)
    poses = np.stack([look_at([0.6, 0.0, 0.5], [0, 0, 0]), look_at([-0.6, 0.1, 0.5], [0, 0, 0])])
    depths, masks = [], []
    for pose in poses:
        depth = render_plane_depth(intr, pose)
        pts_cam = intr.backproject(depth)
        pts_w = transform_points(pose, pts_cam.reshape(-1, 3)).reshape(pts_cam.shape)
        masks.append((np.abs(pts_w[..., 0]) < 0.05) & (np.abs(pts_w[..., 1]) < 0.05))
        depths.append(depth)
    pts, cols = fuse_views(depths, masks, [intr, intr], poses, voxel_size=0.005)
    assert len(pts) > 20 and cols.shape == pts.shape
    assert np.ptp(pts[:, 0]) > 0.06 and np.ptp(pts[:, 1]) > 0.06  # covers the patch
    assert np.abs(pts[:, 2]).max() < 1e-4
    assert np.abs(pts[:, :2]).max() < 0.055
    # consistency: the poses' inverse maps the points in front of each camera
    assert (transform_points(invert_transform(poses[0]), pts.astype(float))[:, 2] > 0).all()


def test_empty_masks_raise_a_clear_error():
    intr = CameraIntrinsics.from_fov(8, 6, 60.0)
    with pytest.raises(EmptyCloudError, match="2 views"):
        fuse_views(
            [np.ones((6, 8))] * 2,
            [np.zeros((6, 8), bool)] * 2,
            [intr] * 2,
            np.stack([np.eye(4)] * 2),
        )


def test_nearest_neighbour_baseline_follows_a_slow_translation():
    pts = np.random.default_rng(0).uniform(-0.1, 0.1, size=(300, 3))
    clouds = [pts + [0.001 * t, 0, 0] for t in range(5)]
    tracks = nearest_neighbour_tracks(pts[:10], clouds)
    assert tracks.shape == (5, 10, 3)
    assert np.allclose(tracks[-1], pts[:10] + [0.004, 0, 0], atol=1e-6)
