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


def model_outputs(model, x):
    """Eager outputs of ``model`` on numpy ``x`` in the model's dtype, as float32 numpy."""
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(x).to(next(model.parameters()).dtype))
    return [o.float().numpy() for o in (out if isinstance(out, tuple) else (out,))]


def assert_backend_as_close_as_eager(backend, model, batches=(1, 3, 8, 1, 0)):
    """``backend``'s outputs at each batch size (then empty) are as close to a float64
    reference as the eager float32 model's (within 1e-5 of the logit scale)."""
    import numpy as np

    w, h = model.config.input_size
    rng = np.random.default_rng(0)
    for b in batches:
        x = rng.normal(size=(b, 3, h, w)).astype(np.float32)
        got, ref = backend(x), model_outputs(model, x)
        ref64 = model_outputs(model.double(), x)
        model.float()
        assert len(got) == len(ref)
        for g, r, r64 in zip(got, ref, ref64, strict=True):
            assert g.shape == r.shape and g.dtype == np.float32
            if b:
                scale = np.abs(r64).max()
                assert scale > 0.1  # non-trivial outputs
                assert np.abs(g - r64).max() <= 2 * np.abs(r - r64).max() + 1e-5 * scale
