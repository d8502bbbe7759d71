"""Shared fixtures for the wholebody tests."""

import sys

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU two spinning threads run ~10x slower.

    Only touches torch when the test module already imported it (numpy-only tests stay torch-free).
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def perturbed_model(name: str, scale: float = 0.05):
    """A randomly initialised model made input-sensitive (perturbed, BN statistics recalibrated)."""
    import torch

    from wholebody.models import create_model, recalibrate_batchnorm

    torch.manual_seed(0)
    m = create_model(name)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * scale)
    w, h = m.config.input_size
    return recalibrate_batchnorm(m, [torch.randn(4, 3, h, w) for _ in range(2)])
