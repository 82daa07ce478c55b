import numpy as np

from gs_segmentation.evaluate import MaskedEpisode, overlay, save_strip


class _FakeEpisode:
    camera_names = ("cam0", "cam1")
    num_frames = 3

    def robot_mask(self, frame, cam):
        return np.full((4, 5), True)

    def object_mask(self, frame, cam):
        raise AssertionError("ground-truth object masks must not be read")


def test_masked_episode_serves_given_masks_and_the_chosen_robot_source():
    obj = {1: [np.eye(4, 5, dtype=bool), np.zeros((4, 5), bool)]}
    occ = {1: [np.zeros((4, 5), bool), np.ones((4, 5), bool)]}
    ep = MaskedEpisode(_FakeEpisode(), obj, "none", occ)
    assert ep.object_mask(1, "cam0").sum() == 4 and ep.num_frames == 3
    assert ep.robot_mask(1, 1).all() and not ep.robot_mask(1, "cam0").any()  # occluders
    assert MaskedEpisode(_FakeEpisode(), obj, "oracle", occ).robot_mask(1, 0).all()


def test_worst_case_strip_is_written(tmp_path):
    color = np.full((6, 8, 3), 100, np.uint8)
    pred = np.zeros((6, 8), bool)
    pred[1:3, 1:4] = True
    truth = np.zeros_like(pred)
    truth[2:4, 2:5] = True
    img = overlay(color, pred, truth)
    assert tuple(img[2, 2]) == (40, 200, 40) and tuple(img[1, 1]) == (230, 30, 30)
    assert tuple(img[3, 4]) == (40, 80, 255)
    case = {"object": "rope", "episode": "e", "frame": 0, "camera": "cam0", "J": 0.5, "F": 0.5}
    save_strip([dict(case, image=img)], tmp_path / "s.png", "title")
    assert (tmp_path / "s.png").stat().st_size > 1000
