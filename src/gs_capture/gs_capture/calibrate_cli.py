"""``gs-calibrate``: ChArUco calibration of the camera rig (writes the rig file).

    gs-calibrate board --out board.png               # printable board (+ its printed size)
    gs-calibrate episode calib.mcap --out config/rig.yaml   # from a short recording
    gs-calibrate sim --out /tmp/sim_rig.yaml         # verification in the simulator

The board lying on the table defines ``world`` (gs_capture.charuco). Intrinsics are the
cameras' own (CameraInfo of the recording: RealSense factory calibration).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gs_capture.charuco import BoardSpec, Observation, calibrate, detect
from gs_capture.rig_file import RigCameraEntry, RigFile, save_rig
from gs_common.camera import CameraIntrinsics
from gs_common.geometry import make_transform
from gs_common.image import decode_image, to_rgb8
from gs_common.names import color_image_topic

IMAGE_TOPIC = re.compile(r"^/?cameras/([^/]+)/color/image_raw$")
INFO_TOPIC = re.compile(r"^/?cameras/([^/]+)/color/camera_info$")
TARGET_MM, TARGET_DEG = 2.0, 0.2


def _board_args(p: argparse.ArgumentParser) -> None:
    d = BoardSpec()
    p.add_argument("--squares-x", type=int, default=d.squares_x, help="squares along the width")
    p.add_argument("--squares-y", type=int, default=d.squares_y, help="squares along the height")
    p.add_argument("--square-length", type=float, default=d.square_length, help="m, as printed")
    p.add_argument("--marker-length", type=float, default=d.marker_length, help="m, as printed")
    p.add_argument("--dictionary", default=d.dictionary, help="OpenCV ArUco dictionary name")
    p.add_argument(
        "--thickness",
        type=float,
        default=d.thickness,
        help="board surface height above the table [m]",
    )


def _spec(a) -> BoardSpec:
    return BoardSpec(
        a.squares_x, a.squares_y, a.square_length, a.marker_length, a.dictionary, a.thickness
    )


def observations_from_episode(
    path: str | Path, spec: BoardSpec, max_frames: int = 10
) -> tuple[list[Observation], dict[str, CameraIntrinsics]]:
    """Detect the board in up to ``max_frames`` colour images per camera, spread evenly over
    the recording (the board must not move during it)."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    images: dict[str, list] = {}
    infos: dict[str, CameraIntrinsics] = {}
    dists: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for _, channel, message, msg in reader.iter_decoded_messages():
            m_img, m_info = IMAGE_TOPIC.match(channel.topic), INFO_TOPIC.match(channel.topic)
            if m_img:
                images.setdefault(m_img.group(1), []).append(message.log_time)
            elif m_info and m_info.group(1) not in infos:
                infos[m_info.group(1)] = CameraIntrinsics.from_matrix(
                    np.array(msg.k), msg.width, msg.height
                )
                dists[m_info.group(1)] = np.array(list(msg.d)[:5] + [0.0] * (5 - len(msg.d[:5])))
        missing = sorted(set(images) - set(infos))
        if missing:
            raise ValueError(f"{path}: no color/camera_info for cameras {missing}")
        if not images:
            raise ValueError(f"{path} has no cameras/<cam>/color/image_raw topic")
        obs = []
        for cam, times in tqdm(sorted(images.items()), desc="detecting", unit="camera"):
            pick = [
                times[i]
                for i in np.linspace(0, len(times) - 1, min(max_frames, len(times))).astype(int)
            ]
            for t in pick:
                for _, _, _, msg in reader.iter_decoded_messages(
                    topics=[color_image_topic(cam), "/" + color_image_topic(cam)],
                    starting_at=t,
                    ending_at=t,
                ):
                    img = decode_image(
                        bytes(msg.data),
                        msg.height,
                        msg.width,
                        msg.step,
                        msg.encoding,
                        bool(msg.is_bigendian),
                    )
                    ids, pts = detect(spec, to_rgb8(img, msg.encoding))
                    obs.append(Observation(cam, infos[cam], ids, pts, 0, dists[cam]))
                    break
    return obs, infos


def _print_result(result, errors=None) -> None:
    head = f"{'camera':<10}{'corners':>8}{'dropped':>8}{'rms px':>9}{'max px':>9}"
    print(head + ("   error vs simulator" if errors else ""))
    for cam in sorted(result.world_from_camera):
        line = (
            f"{cam:<10}{result.corners[cam]:>8}{result.rejected.get(cam, 0):>8}"
            f"{result.rms_px[cam]:>9.3f}{result.max_px[cam]:>9.3f}"
        )
        if errors:
            line += f"   {errors[cam][0] * 1000:.3f} mm, {errors[cam][1]:.4f} deg"
        print(line)


def _robot_base(values) -> np.ndarray | None:
    if values is None:
        return None
    x, y, z, yaw = values
    c, s = np.cos(yaw), np.sin(yaw)
    return make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), [x, y, z])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="gs-calibrate", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("board", help="write a printable board image")
    b.add_argument("--out", required=True, help="PNG file")
    b.add_argument("--px-per-square", type=int, default=200)
    _board_args(b)
    e = sub.add_parser("episode", help="calibrate from a recording of the board (gs-record)")
    e.add_argument("episode", help=".mcap recorded with the board lying on the table")
    e.add_argument("--out", required=True, help="rig file to write (YAML)")
    e.add_argument("--frames", type=int, default=10, help="images per camera to use")
    e.add_argument(
        "--robot-base",
        type=float,
        nargs=4,
        metavar=("X", "Y", "Z", "YAW"),
        help="world_from_robot_base, measured [m, m, m, rad] (for /tf_static)",
    )
    _board_args(e)
    s = sub.add_parser("sim", help="verify in the simulator against the known poses")
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.add_argument("--no-object", action="store_true", help="hide the object lying on the board")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", help="also write the calibrated rig file")
    _board_args(s)
    a = ap.parse_args(argv)
    try:
        spec = _spec(a)
        if a.cmd == "board":
            import cv2

            cv2.imwrite(a.out, spec.image(a.px_per_square))
            w, h = spec.size_m
            print(
                f"wrote {a.out}: print it so that the board measures {w * 1000:.1f} x "
                f"{h * 1000:.1f} mm (squares {spec.square_length * 1000:.1f} mm, markers "
                f"{spec.marker_length * 1000:.1f} mm); measure and pass the true sizes"
            )
            return 0
        if a.cmd == "sim":
            from gs_capture.sim_calibration import calibrate_sim
            from gs_sim.camera_rig import RigLayout

            rep = calibrate_sim(
                RigLayout(width_px=a.width, height_px=a.height), spec, not a.no_object, a.seed
            )
            errs = {c: (rep.translation_m[c], rep.rotation_deg[c]) for c in rep.translation_m}
            _print_result(rep.result, errs)
            worst_mm = max(v[0] for v in errs.values()) * 1000
            worst_deg = max(v[1] for v in errs.values())
            ok = worst_mm <= TARGET_MM and worst_deg <= TARGET_DEG
            print(
                f"worst: {worst_mm:.3f} mm, {worst_deg:.4f} deg (target <= {TARGET_MM} mm, "
                f"<= {TARGET_DEG} deg): {'met' if ok else 'NOT met'}"
            )
            result, intr = rep.result, {c.name: c.intrinsics for c in rep.cameras}
            base = None
        else:
            obs, intr = observations_from_episode(a.episode, spec, a.frames)
            result = calibrate(spec, obs)
            _print_result(result)
            ok, base = True, _robot_base(a.robot_base)
        if a.out:
            entries = {
                c: RigCameraEntry(c, result.world_from_camera[c], intr[c], result.rms_px[c])
                for c in sorted(result.world_from_camera)
            }
            save_rig(a.out, RigFile(entries, spec.to_dict(), base))
            print(f"wrote {a.out}")
        return 0 if ok else 1
    except (ValueError, OSError) as exc:
        print(f"gs-calibrate: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
