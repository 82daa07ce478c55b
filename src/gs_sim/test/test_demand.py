from gs_sim.demand import camera_demand


class Pub:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers

    def get_subscription_count(self) -> int:
        return self.subscribers


def test_renders_only_what_is_subscribed():
    cams = ["cam0", "cam1", "cam2"]
    color = {"cam0": Pub(1), "cam1": Pub(0), "cam2": Pub(0)}
    depth = {"cam0": Pub(2), "cam1": Pub(1), "cam2": Pub(0)}
    masks = {"cam0": (Pub(0), Pub(0)), "cam1": (Pub(0), Pub(1)), "cam2": (Pub(0), Pub(0))}
    assert camera_demand(cams, color, depth, masks) == [
        (True, True, False),
        (False, True, True),
        (False, False, False),
    ]
    # masks not published at all (publish_masks: false)
    assert camera_demand(cams, color, depth, {})[1] == (False, True, False)
