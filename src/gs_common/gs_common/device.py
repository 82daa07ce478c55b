"""The ``device: auto`` rule of the stack: CUDA when present, CPU otherwise."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto"):
    """torch.device for "auto" | "cpu" | "cuda" | "cuda:N".

    Raises ValueError naming the value when it is unknown, or CUDA is asked for but absent.
    """
    import torch

    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device '{device}' requested but CUDA is not available")
        return torch.device(name)
    raise ValueError(f"unknown device '{device}'; use one of {list(DEVICE_CHOICES)} or cuda:N")
