"""Learned backend: a promptable segmentation model (SAM family) loaded from local weights.

The model is never downloaded at run time: ``weights`` is a local directory in the Hugging
Face format (``config.json`` + ``*.safetensors`` + ``preprocessor_config.json`` /
``processor_config.json``), loaded with ``local_files_only``. Every view is prompted with
the bounding boxes of the geometric backend's object components (the geometric backend
finds *where* the object is; the model draws its outline from the colour image); the union
of the predicted masks, restricted to the geometric foreground (above the table, in the
workspace, not robot) grown by a few pixels, is the object mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from gs_segmentation.geometric import FrameResult, GeometricSegmenter
from gs_segmentation.views import RGBDView

WEIGHTS_HELP = (
    "download a SAM checkpoint in the Hugging Face format once, e.g. "
    "`huggingface-cli download facebook/sam-vit-base --local-dir weights/sam-vit-base` "
    "(see src/gs_segmentation/README.md), and pass that directory"
)


def check_weights_dir(weights: str | Path) -> Path:
    """The weights directory, or FileNotFoundError naming what is missing and how to get it."""
    path = Path(weights).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"learned backend weights '{weights}' is not a directory; {WEIGHTS_HELP}"
        )
    if not (path / "config.json").is_file() or not list(path.glob("*.safetensors")):
        raise FileNotFoundError(
            f"learned backend weights '{weights}' lacks config.json or *.safetensors "
            f"(only safetensors weights are loaded, never pickle); {WEIGHTS_HELP}"
        )
    if not any((path / f).is_file() for f in ("preprocessor_config.json", "processor_config.json")):
        raise FileNotFoundError(
            f"learned backend weights '{weights}' lacks preprocessor_config.json; {WEIGHTS_HELP}"
        )
    return path


class PromptableBackend:
    """SAM-family promptable segmentation from local weights, prompted with geometric boxes.

    weights: local model directory; device: torch device string; max_prompts: boxes per
    view (largest components first); box_margin_px: boxes grown by this many pixels;
    foreground_margin_px: the predicted mask is kept within the geometric foreground grown
    by this many pixels (-1 disables the restriction); threshold: mask logit threshold.
    """

    name = "learned"

    def __init__(
        self,
        weights: str | Path,
        prompts: GeometricSegmenter | None = None,
        device: str = "cpu",
        max_prompts: int = 8,
        box_margin_px: int = 4,
        foreground_margin_px: int = 3,
        threshold: float = 0.0,
    ):
        path = check_weights_dir(weights)  # before the (slow) import of transformers
        import torch
        from transformers import SamModel, SamProcessor

        self.torch = torch
        self.device = torch.device(device)
        self.model = SamModel.from_pretrained(path, local_files_only=True, use_safetensors=True).to(
            self.device
        )
        self.model.eval()
        self.processor = SamProcessor.from_pretrained(path, local_files_only=True)
        self.prompts = prompts or GeometricSegmenter()
        self.max_prompts = max_prompts
        self.box_margin_px = box_margin_px
        self.foreground_margin_px = foreground_margin_px
        self.threshold = threshold

    def reset(self) -> None:
        self.prompts.reset()

    def boxes(self, mask: np.ndarray) -> list[list[float]]:
        """Up to ``max_prompts`` boxes [x0, y0, x1, y1] (px) of the largest components."""
        labels, n = ndimage.label(mask)
        if n == 0:
            return []
        sizes = np.bincount(labels.ravel())[1:]
        order = np.argsort(-sizes)[: self.max_prompts]
        slices = ndimage.find_objects(labels)
        h, w = mask.shape
        m = self.box_margin_px
        out = []
        for k in order:
            ys, xs = slices[k]
            out.append(
                [
                    float(max(0, xs.start - m)),
                    float(max(0, ys.start - m)),
                    float(min(w - 1, xs.stop - 1 + m)),
                    float(min(h - 1, ys.stop - 1 + m)),
                ]
            )
        return out

    def predict(self, color: np.ndarray, boxes: list[list[float]]) -> np.ndarray:
        """(H, W) bool union of the model's masks for ``boxes`` on one (H, W, 3) uint8 image."""
        h, w = color.shape[:2]
        if not boxes:
            return np.zeros((h, w), bool)
        inputs = self.processor(images=color, input_boxes=[boxes], return_tensors="pt")
        with self.torch.no_grad():
            out = self.model(
                pixel_values=inputs["pixel_values"].to(self.device),
                input_boxes=inputs["input_boxes"].to(self.device),
                multimask_output=False,
            )
        masks = self.processor.image_processor.post_process_masks(
            out.pred_masks.cpu(),
            inputs["original_sizes"],
            inputs["reshaped_input_sizes"],
            mask_threshold=self.threshold,
        )[0]  # (boxes, 1, H, W) bool
        return np.asarray(masks).reshape(-1, h, w).any(0)

    def segment(self, views: Sequence[RGBDView]) -> FrameResult:
        geo = self.prompts.segment(views)
        foreground = self.prompts.candidates(views)[0]
        masks = []
        for v, g, fg in zip(views, geo.masks, foreground):
            m = self.predict(v.color, self.boxes(g))
            if self.foreground_margin_px >= 0:
                grown = (
                    ndimage.binary_dilation(fg, iterations=self.foreground_margin_px)
                    if self.foreground_margin_px > 0
                    else fg
                )
                m &= grown
            if v.robot_mask is not None:
                m &= ~v.robot_mask.astype(bool)
            masks.append(m)
        stages = dict(geo.stages)
        stages["learned"] = [int(m.sum()) for m in masks]
        occluders = [o | (g & ~m) for o, g, m in zip(geo.occluders, geo.masks, masks)]
        return FrameResult(masks, stages, geo.messages, occluders)
