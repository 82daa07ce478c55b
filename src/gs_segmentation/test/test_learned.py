"""The learned backend loads a promptable model from a local directory and segments with it.

The model is a tiny randomly initialized SAM created here (no download, no real weights):
the test checks loading, prompting, post-processing and the restriction to the geometric
foreground, not the model's accuracy.
"""

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_sam(tmp_path_factory):
    import torch
    from transformers import (
        SamConfig,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )
    from transformers.models.sam.image_processing_pil_sam import SamImageProcessorPil

    torch.manual_seed(0)
    config = SamConfig(
        vision_config=SamVisionConfig(
            hidden_size=32,
            output_channels=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=64,
            patch_size=8,
            window_size=4,
            global_attn_indexes=[1],
            num_pos_feats=8,
            mlp_dim=64,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(
            hidden_size=16, image_size=64, patch_size=8, mask_input_channels=4
        ),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=16,
            mlp_dim=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            iou_head_hidden_dim=16,
        ),
    )
    path = tmp_path_factory.mktemp("tiny_sam")
    SamModel(config).save_pretrained(path)
    SamProcessor(
        image_processor=SamImageProcessorPil(
            size={"longest_edge": 64},
            pad_size={"height": 64, "width": 64},
            mask_size={"longest_edge": 16},
            mask_pad_size={"height": 16, "width": 16},
        )
    ).save_pretrained(path)
    return path


def test_missing_or_pickle_only_weights_are_refused_with_instructions(tmp_path):
    from gs_segmentation.learned import PromptableBackend

    with pytest.raises(FileNotFoundError, match=r"is not a directory.*huggingface-cli download"):
        PromptableBackend(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="safetensors"):
        PromptableBackend(tmp_path)


def test_tiny_model_loads_from_path_and_segments_inside_the_foreground(
    tiny_sam, scene, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # any attempt to reach the hub fails
    from gs_segmentation.learned import PromptableBackend
    from gs_segmentation.pipeline import ObjectPerception, make_backend

    backend = make_backend("learned", weights=str(tiny_sam))
    assert isinstance(backend, PromptableBackend) and backend.name == "learned"
    views, truths = scene
    boxes = backend.boxes(truths[0])
    assert len(boxes) == 1
    ys, xs = np.nonzero(truths[0])
    x0, y0, x1, y1 = boxes[0]
    assert x0 <= xs.min() and y0 <= ys.min() and x1 >= xs.max() and y1 >= ys.max()
    raw = backend.predict(views[0].color, boxes)
    assert raw.shape == truths[0].shape and raw.dtype == bool
    res = ObjectPerception(backend).process(views, fuse=False)
    assert res.stages["learned"] == [int(m.sum()) for m in res.masks]
    foreground = backend.prompts.candidates(views)[0]
    from scipy import ndimage

    for m, fg, v in zip(res.masks, foreground, views):
        assert m.shape == fg.shape
        grown = ndimage.binary_dilation(fg, iterations=backend.foreground_margin_px)
        assert not (m & ~grown).any()  # never outside the geometric foreground
        assert not (m & v.robot_mask).any()
    assert backend.predict(views[0].color, []).sum() == 0  # no prompt, no object
